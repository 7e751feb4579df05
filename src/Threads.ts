/**
 * CPU-heavy work off the event loop: pools of long-lived worker threads that serve Schema-tagged
 * requests (@effect/platform's Worker over NodeWorker), each thread running a TypeScript entry. The
 * parser's pool is one (ParserThreads.ts); another kind of work is another entry and request union.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeWorker from "@effect/platform-node/NodeWorker"
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
import type * as Worker from "@effect/platform/Worker"
import { isWorkerError, type WorkerError } from "@effect/platform/WorkerError"
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import { Cause, Effect, type Layer, ParseResult } from "effect"
import { Worker as NodeThread } from "node:worker_threads"
import { InternalError } from "./Domain/Errors.js"

const bootstrap = new URL("./Threads/thread.mjs", import.meta.url)

/** A thread running the TypeScript module `entry` (see thread.mjs). */
export const spawnThread = (entry: URL): NodeThread => new NodeThread(bootstrap, { workerData: { entry: entry.href } })

/** What a pool of threads running `entry` needs: the platform's worker manager and their spawner. */
export const threadsRunning = (entry: URL): Layer.Layer<Worker.WorkerManager | Worker.Spawner> =>
  NodeWorker.layer(() => spawnThread(entry))

/**
 * The thread side, called once by an entry module: serves the requests of its runner layer
 * (`WorkerRunner.layerSerialized(requests, handlers)`) until the pool closes the thread.
 */
export const serveThread = (runner: Layer.Layer<never, WorkerError, WorkerRunner.PlatformRunner>): void =>
  // A thread entry is a process edge, like main.ts.
  NodeRuntime.runMain(WorkerRunner.launch(runner).pipe(Effect.provide(NodeWorkerRunner.layer)), {
    disablePrettyLogger: true
  })

type ThreadFailure = WorkerError | ParseResult.ParseError

const isThreadFailure = (error: unknown): error is ThreadFailure =>
  isWorkerError(error) || ParseResult.isParseError(error)

/**
 * A call's own typed errors pass through; anything else (a defect inside the thread, a thread that died,
 * a message that did not decode) is logged as `log` and fails the call with an InternalError saying
 * `message`. A thread that died reaches the call as a ParseError (the pool decodes its WorkerError with
 * the request's failure schema); the pool logs the exit itself and starts a new thread a second later.
 */
export const orInternalError = (log: string, message: string) =>
<A, E, R>(call: Effect.Effect<A, E | ThreadFailure, R>): Effect.Effect<A, Exclude<E, ThreadFailure> | InternalError, R> => {
  const failed = (cause: Cause.Cause<unknown>) =>
    Effect.logError(log, cause).pipe(Effect.zipRight(Effect.fail(new InternalError({ message }))))
  return call.pipe(
    Effect.catchIf(isThreadFailure, (error) => failed(Cause.fail(error))),
    Effect.catchAllDefect((defect) => failed(Cause.die(defect)))
  )
}
