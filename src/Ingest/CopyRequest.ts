/**
 * An upload read on a parsing thread and answered ready to store: its report, a few probes, then its
 * messages as COPY text in buffers that are moved to the server, not copied, and its statistics. The
 * server's event loop never receives the chat text: a million messages' text crossing as one string
 * held it for hundreds of milliseconds while it was copied in, and writing the rows held it longer.
 */
import * as Transferable from "@effect/platform/Transferable"
import { Schema } from "effect"
import { PayloadTooLarge, UnsupportedExport } from "../Domain/Errors.js"
import { ChatStatisticsSchema } from "../Domain/Statistics.js"
import { ComputeStatistics, ExportToParse, ParseExport, ReadExport } from "./ParseRequest.js"
import { ParserReportSchema } from "./ReportWire.js"

/**
 * How far the thread may write ahead of the server, in an Int32Array over the request's `flow`: the
 * server adds one at `copiedAt` for each buffer it takes, and the thread waits while it has sent
 * `copyWindow` more than that. The server sets `copyStopped` when it takes no more (the COPY failed or
 * is done): the thread then writes no more rows.
 */
export const copiedAt = 0
export const copyStopped = 1
// About 48 MiB of rows, two seconds and more of PostgreSQL's time: longer than the statistics of a
// million messages take, which the thread computes while the server stores what it has.
export const copyWindow = 192

/** Characters of COPY text per buffer: about 256 KiB, a few milliseconds of the connection's time. */
export const copyChunkChars = 256 * 1024

const FlowControl = Schema.declare((u: unknown): u is SharedArrayBuffer => u instanceof SharedArrayBuffer, {
  identifier: "FlowControl"
})

/** Its report and what the server does before the rows: the duplicate check, the chat's row. */
export const CopyExportRead = Schema.TaggedStruct("Read", {
  report: ParserReportSchema,
  count: Schema.Number,
  probes: Schema.Array(Schema.Struct({ author: Schema.NullOr(Schema.String), sentAt: Schema.String, text: Schema.String }))
})
export interface CopyExportRead extends Schema.Schema.Type<typeof CopyExportRead> {}

/** The next rows, whole ones, as UTF-8 COPY text. */
export const CopyExportRows = Schema.TaggedStruct("Rows", { bytes: Transferable.Uint8Array })

export const CopyExportStatistics = Schema.TaggedStruct("Statistics", { statistics: ChatStatisticsSchema })

/**
 * An export read on a thread for the chat `chatId`: answered with `Read`, then its rows in order, with
 * `Statistics` in between (when the thread would otherwise wait for the server) or after them.
 */
export class CopyExport extends Schema.TaggedRequest<CopyExport>()("CopyExport", {
  payload: { ...ExportToParse.fields, chatId: Schema.String, flow: FlowControl },
  success: Schema.Union(CopyExportRead, CopyExportRows, CopyExportStatistics),
  failure: Schema.Union(UnsupportedExport, PayloadTooLarge)
}) {}

/** Every request a parsing thread serves. */
export const ParserRequests = Schema.Union(ParseExport, ReadExport, ComputeStatistics, CopyExport)
export type ParserRequests = typeof ParserRequests.Type
