/**
 * The parsing thread's entry: reads exports and computes their statistics (both CPU-heavy) so the
 * server's event loop keeps serving. It stays up between uploads, so its start-up is paid once.
 */
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import { Effect, Stream } from "effect"
import { columnSource } from "./Columns.js"
import { readExport } from "./Export.js"
import {
  type ComputeStatistics,
  ownColumns,
  type ParseExport,
  type ParsedExport,
  ParserRequest,
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

serveThread(WorkerRunner.layerSerialized(ParserRequest, {
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
    Effect.sync(() => computeStatistics(columnSource(request.columns), request.statistics))
}))
