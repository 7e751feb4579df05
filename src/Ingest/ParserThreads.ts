/**
 * Parsing off the event loop: a pool of INGEST_THREADS long-lived threads (ParseThread.ts) that read
 * exports and bring back their columns, report and statistics. A refusal comes back as the same typed
 * error the parser raises; a thread that fails or dies fails its call with a logged InternalError.
 */
import * as Worker from "@effect/platform/Worker"
import { Duration, Effect, Scope } from "effect"
import { IngestConfig } from "../Config.js"
import { type ExportToParse, ParseExport, type ParserRequest } from "./ParseRequest.js"
import { orInternalError, threadsRunning } from "../Threads.js"

/** The parsing thread's entry module. */
export const ParseThreadEntry = new URL("./ParseThread.ts", import.meta.url)

/** The bytes in an ArrayBuffer of their own, so moving it to a thread takes nothing else along. */
const ownBuffer = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => {
  const copy = new Uint8Array(new ArrayBuffer(bytes.byteLength))
  copy.set(bytes)
  return copy
}

const warmUp: ExportToParse = {
  bytes: new TextEncoder().encode("01/02/2024, 10:00 - A: warm-up\n"),
  filename: "warm-up.txt",
  export: {},
  statistics: {}
}

export class ParserThreads extends Effect.Service<ParserThreads>()("chatsight/ParserThreads", {
  scoped: Effect.gen(function*() {
    const { threads } = yield* IngestConfig
    // At least one thread: a pool of none would leave every upload waiting.
    const size = Math.max(1, threads)
    // The threads start on first use (the warm-up at boot, or the first upload), not when the layer is
    // built, so an app that never parses (most tests) starts none; they close with the layer.
    const platform = yield* Effect.context<Worker.WorkerManager | Worker.Spawner>()
    const scope = yield* Effect.scope
    const pool = yield* Effect.cached(
      Worker.makePoolSerialized<ParserRequest>({ size }).pipe(Scope.extend(scope), Effect.provide(platform))
    )

    /** Reads an export on a thread; the caller's bytes are copied once, then moved, and stay usable. */
    const parse = (request: ExportToParse) =>
      pool.pipe(
        Effect.flatMap((threads) => threads.executeEffect(new ParseExport({ ...request, bytes: ownBuffer(request.bytes) }))),
        orInternalError("Parsing thread failed", "The export could not be read; it has been logged"),
        Effect.withSpan("Ingest.parseInThread", { attributes: { filename: request.filename, bytes: request.bytes.length } })
      )

    /** Has every thread read a tiny export, so the first upload finds them started and compiled. */
    const warm = Effect.forEach(Array.from({ length: size }), () => parse(warmUp), {
      concurrency: "unbounded",
      discard: true
    }).pipe(
      Effect.timed,
      Effect.flatMap(([took]) =>
        Effect.logInfo("Parsing thread ready").pipe(Effect.annotateLogs({ startMs: Math.round(Duration.toMillis(took)) }))
      ),
      Effect.catchAll((error) => Effect.logWarning("Parsing thread warm-up failed", error))
    )

    return { parse, warm } as const
  }),
  dependencies: [threadsRunning(ParseThreadEntry)]
}) {}
