/**
 * Parsing off the event loop: a pool of INGEST_THREADS long-lived threads (ParseThread.ts) that read
 * exports and bring back their columns, report and statistics. A refusal comes back as the same typed
 * error the parser raises; a thread that fails or dies fails its call with a logged InternalError.
 */
import * as Worker from "@effect/platform/Worker"
import { Deferred, Effect, Mailbox, Scope, Stream } from "effect"
import type { ChatStatistics } from "../Domain/Statistics.js"
import { InternalError } from "../Domain/Errors.js"
import type { ExportError } from "./Export.js"
import { IngestConfig } from "../Config.js"
import type { MessageColumns } from "./Columns.js"
import { copiedAt, CopyExport, type CopyExportRead, copyStopped, type ParserRequests } from "./CopyRequest.js"
import { ComputeStatistics, type ExportToParse, ownColumns, ParseExport, ReadExport, type ReadExportResult } from "./ParseRequest.js"
import type { StatisticsOptions } from "./Statistics.js"
import { orInternalError, threadsRunning } from "../Threads.js"

/** The parsing thread's entry module: the TypeScript file under tsx, the compiled one from the build (npm start). */
export const ParseThreadEntry = new URL(
  import.meta.url.endsWith(".ts") ? "./ParseThread.ts" : "./ParseThread.js",
  import.meta.url
)

/** Bytes copied between two turns of the event loop: a few milliseconds. */
const copySliceBytes = 4 * 1024 * 1024

/**
 * Waits for the event loop's next turn. `Effect.yieldNow` is not enough: Effect resumes fibers in
 * microtasks, which let no I/O in (it falls back to a timer only after 2048 of them in a row).
 */
export const nextTurn: Effect.Effect<void> = Effect.async((resume) => {
  const immediate = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(immediate))
})

/**
 * Calls `each` on `bytes` a slice of `sliceBytes` at a time, with a turn of the event loop between
 * slices: work over a whole 80 MB upload in one go holds the loop for tens of milliseconds or more.
 */
export const inSlices = (bytes: Uint8Array, sliceBytes: number, each: (slice: Uint8Array, from: number) => void) => {
  const step = (from: number): Effect.Effect<void> => {
    const to = Math.min(bytes.byteLength, from + sliceBytes)
    each(bytes.subarray(from, to), from)
    return to >= bytes.byteLength ? Effect.void : Effect.zipRight(nextTurn, Effect.suspend(() => step(to)))
  }
  return Effect.suspend(() => step(0))
}

/**
 * The bytes in an ArrayBuffer of their own, so moving it to a thread takes nothing else along, copied
 * in slices (an 80 MB upload in one copy held the loop 50 ms or more).
 */
const ownBuffer = (bytes: Uint8Array): Effect.Effect<Uint8Array<ArrayBuffer>> =>
  Effect.suspend(() => {
    const copy = new Uint8Array(new ArrayBuffer(bytes.byteLength))
    return Effect.as(inSlices(bytes, copySliceBytes, (slice, from) => copy.set(slice, from)), copy)
  })

/** Why an export could not be read on a thread: refused as the parser refuses it, or the thread failed. */
export type ReadFailure = ExportError | InternalError

/** An upload read for the chat `chatId`, ready to store: see `ParserThreads.copy`. */
export interface ReadForCopy extends Omit<CopyExportRead, "_tag"> {
  /**
   * The rows as COPY text, in order, to be taken once: each buffer taken lets the thread write one
   * more, and once the stream ends, however it ends, the thread writes no more.
   */
  readonly rows: Stream.Stream<Uint8Array, InternalError>
  readonly statistics: Effect.Effect<ChatStatistics, InternalError>
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
    // Two calls at a time on a thread: an upload's rows are written only as fast as the database stores
    // them, and meanwhile the thread, mostly waiting, reads the next export. A thread holds at most two
    // exports, as two threads would; it parses one at a time all the same (a parse never yields).
    const pool = yield* Effect.cached(
      Worker.makePoolSerialized<ParserRequests>({ size, concurrency: 2 }).pipe(Scope.extend(scope), Effect.provide(platform))
    )

    /** Reads an export on a thread; the caller's bytes are copied once, then moved, and stay usable. */
    const parse = (request: ExportToParse) =>
      pool.pipe(
        Effect.zip(ownBuffer(request.bytes)),
        Effect.flatMap(([threads, bytes]) => threads.executeEffect(new ParseExport({ ...request, bytes }))),
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
        const answers = Effect.flatMap(Effect.zip(pool, ownBuffer(request.bytes)), ([threads, bytes]) =>
          Stream.runForEach(threads.execute(new ReadExport({ ...request, bytes })), (answer) =>
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

    /**
     * Reads an upload on a thread for the chat `chatId` (not stored yet): succeeds with its report, count
     * and probes as soon as they are read; its rows follow as COPY text (`rows`, to be taken once) and
     * its statistics (`statistics`) while they are stored. The thread stops when the caller's fiber ends.
     */
    const copy = (request: ExportToParse & { readonly chatId: string }) =>
      Effect.gen(function*() {
        const read = yield* Deferred.make<CopyExportRead, ReadFailure>()
        const statistics = yield* Deferred.make<ChatStatistics, InternalError>()
        const rows = yield* Mailbox.make<Uint8Array, InternalError>()
        const flow = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT)
        const answers = Effect.flatMap(Effect.zip(pool, ownBuffer(request.bytes)), ([threads, bytes]) =>
          Stream.runForEach(threads.execute(new CopyExport({ ...request, bytes, flow })), (answer) => {
            switch (answer._tag) {
              case "Read":
                return Deferred.succeed(read, answer)
              case "Rows":
                return rows.offer(answer.bytes)
              case "Statistics":
                return Deferred.succeed(statistics, answer.statistics)
            }
          }))
        yield* answers.pipe(
          orInternalError("Parsing thread failed", "The export could not be read; it has been logged"),
          Effect.zipRight(rows.end),
          Effect.catchAll((error) =>
            Effect.all([
              Deferred.fail(read, error),
              error._tag === "InternalError" ? Effect.zipRight(rows.fail(error), Deferred.fail(statistics, error)) : Effect.void
            ])),
          Effect.zipRight(Effect.all([
            Deferred.die(read, new Error("The parsing thread ended without reading the export")),
            Deferred.die(statistics, new Error("The parsing thread ended without the statistics"))
          ])),
          // Stopped early (its fiber ended): whoever still waits for rows or statistics hears it.
          Effect.onInterrupt(() => {
            const stopped = new InternalError({ message: "The export's rows were no longer read" })
            return Effect.all([rows.fail(stopped), Deferred.fail(read, stopped), Deferred.fail(statistics, stopped)])
          }),
          // A child of the caller's fiber (not of an Effect.timeout's or a race's, which end first): it ends
          // with the caller at the latest, and the thread's work with it.
          Effect.fork
        )
        const { _tag, ...parsed } = yield* Deferred.await(read)
        const counted = new Int32Array(flow)
        const result: ReadForCopy = {
          ...parsed,
          rows: Mailbox.toStream(rows).pipe(
            Stream.tap(() => Effect.sync(() => Atomics.add(counted, copiedAt, 1))),
            Stream.ensuring(Effect.sync(() => Atomics.store(counted, copyStopped, 1)))
          ),
          statistics: Deferred.await(statistics)
        }
        return result
      }).pipe(Effect.withSpan("Ingest.copyInThread", { attributes: { bytes: request.bytes.length } }))

    /** The statistics of `columns`, computed on a thread from a copy of them (the caller's stay usable). */
    const statistics = (columns: MessageColumns, options: StatisticsOptions) =>
      pool.pipe(
        Effect.flatMap((threads) => threads.executeEffect(new ComputeStatistics({ columns: ownColumns(columns), statistics: options }))),
        orInternalError("Statistics thread failed", "The statistics could not be computed; it has been logged"),
        Effect.withSpan("Ingest.statisticsInThread", { attributes: { messages: columns.count } })
      )

    return { parse, read, copy, statistics } as const
  }),
  dependencies: [threadsRunning(ParseThreadEntry)]
}) {}
