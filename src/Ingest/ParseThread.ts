/**
 * The parsing thread's entry: reads exports, computes their statistics and writes an upload's rows as
 * COPY text (all CPU-heavy) so the server's event loop keeps serving. It stays up between uploads, so its start-up is paid once.
 */
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import { Effect, Option, Stream } from "effect"
import { columnSource, probesOf } from "./Columns.js"
import {
  copiedAt,
  copyChunkChars,
  copyStopped,
  type CopyExport,
  type CopyExportRead,
  type CopyExportRows,
  type CopyExportStatistics,
  ParserRequests,
  copyWindow
} from "./CopyRequest.js"
import { allRows, copyChunks } from "./CopyText.js"
import { readExport } from "./Export.js"
import {
  type ComputeStatistics,
  ownColumns,
  type ParseExport,
  type ParsedExport,
  type ReadExport,
  type ReadExportResult,
  type ReadExportStatistics
} from "./ParseRequest.js"
import { computeStatistics } from "./Statistics.js"
import { serveThread } from "../Threads.js"

const parseExport = (request: ParseExport) =>
  Effect.map(readExport(request.bytes, request.filename, request.export), (chat): ParsedExport => ({
    report: chat.report,
    statistics: computeStatistics(columnSource(chat.columns), request.statistics),
    columns: chat.columns
  }))

type CopyAnswer = CopyExportRead | typeof CopyExportRows.Type | typeof CopyExportStatistics.Type

/**
 * An upload read into its report, then its rows as COPY text, then (or in between) its statistics. The
 * rows are written only as fast as the server takes them, `copyWindow` buffers ahead: the statistics are
 * computed the first time the thread is that far ahead, so the server has rows to store meanwhile.
 */
const copyExport = (request: CopyExport) =>
  Stream.unwrap(Effect.map(readExport(request.bytes, request.filename, request.export), (chat) => {
    const flow = new Int32Array(request.flow)
    const chunks = copyChunks(request.chatId, chat.columns, allRows(chat.columns), copyChunkChars)
    const encoder = new TextEncoder()
    let sent = 0
    let rowsDone = false
    let statisticsSent = false
    const statistics = (): CopyAnswer => {
      statisticsSent = true
      return { _tag: "Statistics", statistics: computeStatistics(columnSource(chat.columns), request.statistics) }
    }
    const next: Effect.Effect<CopyAnswer, Option.Option<never>> = Effect.suspend(() => {
      if (!rowsDone && Atomics.load(flow, copyStopped) === 0) {
        if (sent - Atomics.load(flow, copiedAt) >= copyWindow) {
          // Far enough ahead: the statistics first, else a short wait (interruptible) for the server.
          return statisticsSent ? Effect.zipRight(Effect.sleep("2 millis"), next) : Effect.succeed(statistics())
        }
        const chunk = chunks.next()
        if (!chunk.done) {
          sent++
          // An ArrayBuffer of its own, exactly the chunk: it is moved to the server.
          return Effect.succeed<CopyAnswer>({ _tag: "Rows", bytes: encoder.encode(chunk.value) })
        }
        rowsDone = true
      }
      return statisticsSent ? Effect.fail(Option.none()) : Effect.succeed(statistics())
    })
    const read: CopyAnswer = { _tag: "Read", report: chat.report, count: chat.columns.count, probes: probesOf(chat.columns) }
    return Stream.make(read).pipe(Stream.concat(Stream.repeatEffectOption(next)))
  }))

serveThread(WorkerRunner.layerSerialized(ParserRequests, {
  ParseExport: parseExport,
  // The columns leave as copies (moved, so the copy is the only cost): the thread keeps its own to count.
  ReadExport: (request: ReadExport) =>
    Stream.unwrap(Effect.map(readExport(request.bytes, request.filename, request.export), (chat) =>
      Stream.make<Array<ReadExportResult | typeof ReadExportStatistics.Type>>({
        _tag: "Read",
        report: chat.report,
        columns: ownColumns(chat.columns)
      }).pipe(
        Stream.concat(Stream.sync(() => ({
          _tag: "Statistics" as const,
          statistics: computeStatistics(columnSource(chat.columns), request.statistics)
        })))
      ))),
  ComputeStatistics: (request: ComputeStatistics) =>
    Effect.sync(() => computeStatistics(columnSource(request.columns), request.statistics)),
  CopyExport: copyExport
}))
