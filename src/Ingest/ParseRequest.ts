/**
 * What the server asks a parsing thread and what comes back, as Schemas, so both directions are
 * decoded: an export in (its bytes moved, not copied), its report, statistics and message columns out
 * (the columns' buffers moved too), or the refusal as the same typed error the parser raises.
 */
import * as Transferable from "@effect/platform/Transferable"
import { Schema } from "effect"
import { PayloadTooLarge, UnsupportedExport } from "../Domain/Errors.js"
import { ChatStatisticsSchema } from "../Domain/Statistics.js"
import type { MessageColumns } from "./Columns.js"
import { ExportOptions } from "./Export.js"
import { ParserReportSchema } from "./ReportWire.js"
import { StatisticsOptions } from "./Statistics.js"

/** A typed-array column: checked by its class, moved (not copied) to the other thread. */
const column = <A extends { readonly buffer: ArrayBuffer }>(is: (u: unknown) => u is A, identifier: string) =>
  Transferable.schema(Schema.declare(is, { identifier }), (c: A) => [c.buffer])

const ownsBuffer = (u: ArrayBufferView): boolean => u.buffer instanceof ArrayBuffer

const MessageColumnsSchema: Schema.Schema<MessageColumns> = Schema.Struct({
  count: Schema.Number,
  sentAt: column((u): u is Float64Array<ArrayBuffer> => u instanceof Float64Array && ownsBuffer(u), "SentAtColumn"),
  kind: column((u): u is Uint8Array<ArrayBuffer> => u instanceof Uint8Array && ownsBuffer(u), "KindColumn"),
  author: column((u): u is Int32Array<ArrayBuffer> => u instanceof Int32Array && ownsBuffer(u), "AuthorColumn"),
  authors: Schema.Array(Schema.String),
  source: Schema.String,
  textStart: column((u): u is Uint32Array<ArrayBuffer> => u instanceof Uint32Array && ownsBuffer(u), "TextStartColumn"),
  textEnd: column((u): u is Uint32Array<ArrayBuffer> => u instanceof Uint32Array && ownsBuffer(u), "TextEndColumn"),
  mediaKind: column((u): u is Uint8Array<ArrayBuffer> => u instanceof Uint8Array && ownsBuffer(u), "MediaKindColumn"),
  event: column((u): u is Uint8Array<ArrayBuffer> => u instanceof Uint8Array && ownsBuffer(u), "EventColumn"),
  fileStart: column((u): u is Uint32Array<ArrayBuffer> => u instanceof Uint32Array && ownsBuffer(u), "FileStartColumn"),
  fileEnd: column((u): u is Uint32Array<ArrayBuffer> => u instanceof Uint32Array && ownsBuffer(u), "FileEndColumn")
})

/** Columns whose arrays are copies in buffers of their own, to be moved to a thread. */
export const ownColumns = (columns: MessageColumns): MessageColumns => ({
  ...columns,
  sentAt: columns.sentAt.slice(),
  kind: columns.kind.slice(),
  author: columns.author.slice(),
  textStart: columns.textStart.slice(),
  textEnd: columns.textEnd.slice(),
  mediaKind: columns.mediaKind.slice(),
  event: columns.event.slice(),
  fileStart: columns.fileStart.slice(),
  fileEnd: columns.fileEnd.slice()
})

export const ExportToParse = Schema.Struct({
  /** Transferred to the thread: the caller's buffer is unusable afterwards, so it must be one of its own. */
  bytes: Transferable.Uint8Array,
  filename: Schema.String,
  export: ExportOptions,
  statistics: StatisticsOptions
})
export type ExportToParse = typeof ExportToParse.Type

export const ParsedExport = Schema.Struct({
  report: ParserReportSchema,
  statistics: ChatStatisticsSchema,
  columns: MessageColumnsSchema
})
export interface ParsedExport extends Schema.Schema.Type<typeof ParsedExport> {}

export class ParseExport extends Schema.TaggedRequest<ParseExport>()("ParseExport", {
  payload: ExportToParse.fields,
  success: ParsedExport,
  failure: Schema.Union(UnsupportedExport, PayloadTooLarge)
}) {}

/** An export read into its report and columns: the first answer of `ReadExport`. */
export const ReadExportResult = Schema.TaggedStruct("Read", { report: ParserReportSchema, columns: MessageColumnsSchema })
export interface ReadExportResult extends Schema.Schema.Type<typeof ReadExportResult> {}

/** Its statistics: the second answer, computed after the columns went back so the server stores meanwhile. */
export const ReadExportStatistics = Schema.TaggedStruct("Statistics", { statistics: ChatStatisticsSchema })

/**
 * An export read on a thread, answered twice: its report and columns as soon as they are read (the
 * server starts storing the messages), then its statistics.
 */
export class ReadExport extends Schema.TaggedRequest<ReadExport>()("ReadExport", {
  payload: ExportToParse.fields,
  success: Schema.Union(ReadExportResult, ReadExportStatistics),
  failure: Schema.Union(UnsupportedExport, PayloadTooLarge)
}) {}

/**
 * The statistics of messages already in columns (an export just read, or a chat merged from several),
 * so the server can store the messages while a thread computes them. The columns sent are moved.
 */
export class ComputeStatistics extends Schema.TaggedRequest<ComputeStatistics>()("ComputeStatistics", {
  payload: { columns: MessageColumnsSchema, statistics: StatisticsOptions },
  success: ChatStatisticsSchema,
  failure: Schema.Never
}) {}

// Every request a parsing thread serves, these and an upload read for COPY, is `ParserRequests` (CopyRequest.ts).
