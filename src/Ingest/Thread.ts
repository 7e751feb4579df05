/**
 * Parsing off the event loop: a small pool of long-lived worker threads (INGEST_THREADS) that read
 * exports and bring back their columns, report and statistics. A refusal comes back as the same typed
 * error the parser raises; a thread that dies fails its calls and is replaced on the next one.
 */
import { Deferred, Duration, Effect, Exit } from "effect"
import { Worker } from "node:worker_threads"
import { IngestConfig } from "../Config.js"
import { InternalError, PayloadTooLarge, UnsupportedExport } from "../Domain/Errors.js"
import type { MessageColumns } from "./Columns.js"
import type { ExportError, ExportOptions } from "./Export.js"
import type { ParseReport } from "./Model.js"
import type { ChatStatistics, StatisticsOptions } from "./Statistics.js"

export interface ThreadRequest {
  /** Transferred to the thread: a buffer of its own, unusable by the caller afterwards. */
  readonly bytes: Uint8Array<ArrayBuffer>
  readonly filename: string
  readonly export: ExportOptions
  readonly statistics: StatisticsOptions
}

export interface ThreadCall {
  readonly id: number
  readonly request: ThreadRequest
}

export interface ParsedExport {
  readonly _tag: "Parsed"
  readonly report: ParseReport
  readonly statistics: ChatStatistics
  readonly columns: MessageColumns
}

export type ThreadReply =
  | ParsedExport
  | { readonly _tag: "Refused"; readonly error: { readonly _tag: string; readonly message: string } }
  | { readonly _tag: "Crashed"; readonly message: string }

/** The bytes in an ArrayBuffer of their own, so transferring it cannot take anything else along. */
export const ownBuffer = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => {
  const copy = new Uint8Array(new ArrayBuffer(bytes.byteLength))
  copy.set(bytes)
  return copy
}

const entry = new URL("./parse-thread.mjs", import.meta.url)

const crashed = new InternalError({ message: "The export could not be read; it has been logged" })

const toResult = (reply: ThreadReply): Effect.Effect<ParsedExport, ExportError | InternalError> => {
  switch (reply._tag) {
    case "Parsed":
      return Effect.succeed(reply)
    case "Refused":
      return Effect.fail(
        reply.error._tag === "PayloadTooLarge"
          ? new PayloadTooLarge({ message: reply.error.message })
          : new UnsupportedExport({ message: reply.error.message })
      )
    case "Crashed":
      return Effect.logError("Parsing thread failed", reply.message).pipe(Effect.zipRight(Effect.fail(crashed)))
  }
}

type Pending = Deferred.Deferred<ThreadReply, Error>

/** One worker thread and the calls it has not answered yet. */
const startThread = () => {
  const pending = new Map<number, Pending>()
  const worker = new Worker(entry)
  const failAll = (error: Error) => {
    for (const deferred of pending.values()) Deferred.unsafeDone(deferred, Exit.fail(error))
    pending.clear()
  }
  worker.on("message", ({ id, reply }: { id: number; reply: ThreadReply }) => {
    const deferred = pending.get(id)
    pending.delete(id)
    if (deferred !== undefined) Deferred.unsafeDone(deferred, Exit.succeed(reply))
  })
  worker.on("error", failAll)
  worker.on("exit", (code) => failAll(new Error(`The parsing thread exited with code ${code}`)))
  // Idle threads must not keep the process alive.
  worker.unref()
  return { worker, pending, alive: () => worker.threadId !== -1 }
}

export class ParserThreads extends Effect.Service<ParserThreads>()("chatsight/ParserThreads", {
  scoped: Effect.gen(function*() {
    const { threads: size } = yield* IngestConfig
    const threads: Array<ReturnType<typeof startThread>> = []
    let nextId = 0
    yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all(threads.map((t) => t.worker.terminate()))))

    /** The least busy live thread, starting one while fewer than `size` run. */
    const pick = () => {
      for (let i = threads.length - 1; i >= 0; i--) if (!threads[i]!.alive()) threads.splice(i, 1)
      const idle = threads.find((t) => t.pending.size === 0)
      if (idle !== undefined) return idle
      if (threads.length < size) {
        const thread = startThread()
        threads.push(thread)
        return thread
      }
      return threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a))
    }

    const parse = (request: ThreadRequest): Effect.Effect<ParsedExport, ExportError | InternalError> =>
      Effect.gen(function*() {
        const deferred = yield* Deferred.make<ThreadReply, Error>()
        const thread = pick()
        const id = nextId++
        thread.pending.set(id, deferred)
        thread.worker.ref()
        // The bytes are transferred, not copied.
        thread.worker.postMessage({ id, request } satisfies ThreadCall, [request.bytes.buffer])
        const reply = yield* Deferred.await(deferred).pipe(
          Effect.ensuring(Effect.sync(() => thread.pending.size === 0 && thread.worker.unref())),
          Effect.catchAll((error) => Effect.logError("Parsing thread crashed", error).pipe(Effect.zipRight(Effect.fail(crashed))))
        )
        return yield* toResult(reply)
      }).pipe(Effect.withSpan("Ingest.parseInThread", { attributes: { filename: request.filename, bytes: request.bytes.length } }))

    /** Starts a thread and has it read a tiny export, so the first upload finds it ready. */
    const warm = parse({
      bytes: ownBuffer(new TextEncoder().encode("01/02/2024, 10:00 - A: warm-up\n")),
      filename: "warm-up.txt",
      export: {},
      statistics: {}
    }).pipe(
      Effect.timed,
      Effect.flatMap(([took]) =>
        Effect.logInfo("Parsing thread ready").pipe(Effect.annotateLogs({ startMs: Math.round(Duration.toMillis(took)) }))
      ),
      Effect.catchAll((error) => Effect.logWarning("Parsing thread warm-up failed", error))
    )

    return { parse, warm } as const
  })
}) {}
