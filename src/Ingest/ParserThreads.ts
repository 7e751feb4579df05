/**
 * Parsing off the event loop: a pool of INGEST_THREADS long-lived threads (ParseThread.ts) that read
 * exports and bring back their columns, report and statistics. A refusal comes back as the same typed
 * error the parser raises; a thread that fails or dies fails its call with a logged InternalError.
 */
import * as Worker from "@effect/platform/Worker"
import { Deferred, Effect, Scope, Stream } from "effect"
import type { ChatStatistics } from "../Domain/Statistics.js"
import type { InternalError } from "../Domain/Errors.js"
import type { ExportError } from "./Export.js"
import { IngestConfig } from "../Config.js"
import type { MessageColumns } from "./Columns.js"
import {
  ComputeStatistics,
  type ExportToParse,
  ownColumns,
  ParseExport,
  type ParserRequest,
  ReadExport,
  type ReadExportResult
} from "./ParseRequest.js"
import type { StatisticsOptions } from "./Statistics.js"
import { orInternalError, threadsRunning } from "../Threads.js"

/** The parsing thread's entry module: the TypeScript file under tsx, the compiled one from the build (npm start). */
export const ParseThreadEntry = new URL(
  import.meta.url.endsWith(".ts") ? "./ParseThread.ts" : "./ParseThread.js",
  import.meta.url
)

/** The bytes in an ArrayBuffer of their own, so moving it to a thread takes nothing else along. */
const ownBuffer = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => {
  const copy = new Uint8Array(new ArrayBuffer(bytes.byteLength))
  copy.set(bytes)
  return copy
}

export class ParserThreads extends Effect.Service<ParserThreads>()("chatsight/ParserThreads", {
  scoped: Effect.gen(function*() {
    const { threads } = yield* IngestConfig
    // At least one thread: a pool of none would leave every upload waiting.
    const size = Math.max(1, threads)
    // The threads start on first use (the first upload, about a second once), not when the layer is
    // built: an idle instance holds no second isolate; they close with the layer.
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
        Effect.withSpan("Ingest.parseInThread", { attributes: { bytes: request.bytes.length } })
      )

    /**
     * Reads an export on a thread: succeeds with its report and columns as soon as they are read, with
     * `statistics` still being computed by the thread (an effect that waits for them).
     */
    const read = (request: ExportToParse) =>
      Effect.gen(function*() {
        const read = yield* Deferred.make<ReadExportResult, ExportError | InternalError>()
        const statistics = yield* Deferred.make<ChatStatistics, InternalError>()
        const answers = Effect.flatMap(pool, (threads) =>
          Stream.runForEach(threads.execute(new ReadExport({ ...request, bytes: ownBuffer(request.bytes) })), (answer) =>
            answer._tag === "Read" ? Deferred.succeed(read, answer) : Deferred.succeed(statistics, answer.statistics)))
        yield* answers.pipe(
          orInternalError("Parsing thread failed", "The export could not be read; it has been logged"),
          Effect.catchAll((error) =>
            // Before the columns it is the read that failed; after them, the statistics.
            Effect.zipRight(Deferred.fail(read, error), error._tag === "InternalError" ? Deferred.fail(statistics, error) : Effect.void)),
          Effect.zipRight(Deferred.die(statistics, new Error("The parsing thread ended without the statistics"))),
          // A child of the caller's fiber: it ends with the caller at the latest.
          Effect.fork
        )
        const parsed = yield* Deferred.await(read)
        return { ...parsed, statistics: Deferred.await(statistics) }
      }).pipe(Effect.withSpan("Ingest.readInThread", { attributes: { bytes: request.bytes.length } }))

    /** The statistics of `columns`, computed on a thread from a copy of them (the caller's stay usable). */
    const statistics = (columns: MessageColumns, options: StatisticsOptions) =>
      pool.pipe(
        Effect.flatMap((threads) => threads.executeEffect(new ComputeStatistics({ columns: ownColumns(columns), statistics: options }))),
        orInternalError("Statistics thread failed", "The statistics could not be computed; it has been logged"),
        Effect.withSpan("Ingest.statisticsInThread", { attributes: { messages: columns.count } })
      )

    return { parse, read, statistics } as const
  }),
  dependencies: [threadsRunning(ParseThreadEntry)]
}) {}
