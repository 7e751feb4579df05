/**
 * The parsing thread's entry: reads exports and computes their statistics (both CPU-heavy) so the
 * server's event loop keeps serving. It stays up between uploads, so its start-up is paid once.
 */
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import { Effect } from "effect"
import { columnSource } from "./Columns.js"
import { readExport } from "./Export.js"
import type { ParseExport, ParsedExport } from "./ParseRequest.js"
import { ParserRequest } from "./ParseRequest.js"
import { computeStatistics } from "./Statistics.js"
import { serveThread } from "../Threads.js"

const parseExport = (request: ParseExport) =>
  Effect.map(readExport(request.bytes, request.filename, request.export), (chat): ParsedExport => ({
    report: chat.report,
    statistics: computeStatistics(columnSource(chat.columns), request.statistics),
    columns: chat.columns
  }))

serveThread(WorkerRunner.layerSerialized(ParserRequest, { ParseExport: parseExport }))
