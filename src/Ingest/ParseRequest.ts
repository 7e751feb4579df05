/**
 * What the server asks a parsing thread and what comes back, as Schemas, so both directions are
 * decoded: an export in (its bytes moved, not copied), its report, statistics and message columns out
 * (the columns' buffers moved too), or the refusal as the same typed error the parser raises.
 */
import * as Transferable from "@effect/platform/Transferable"
import { Schema } from "effect"
import { PayloadTooLarge, UnsupportedExport } from "../Domain/Errors.js"
import { ChatStatisticsSchema } from "../Domain/Statistics.js"
import { MessageColumns } from "./Columns.js"
import { ExportOptions } from "./Export.js"
import { ParserReport } from "./Report.js"
import { StatisticsOptions } from "./Statistics.js"

export const ExportToParse = Schema.Struct({
  /** Transferred to the thread: the caller's buffer is unusable afterwards, so it must be one of its own. */
  bytes: Transferable.Uint8Array,
  filename: Schema.String,
  export: ExportOptions,
  statistics: StatisticsOptions
})
export type ExportToParse = typeof ExportToParse.Type

export const ParsedExport = Schema.Struct({
  report: ParserReport,
  statistics: ChatStatisticsSchema,
  columns: MessageColumns
})
export interface ParsedExport extends Schema.Schema.Type<typeof ParsedExport> {}

export class ParseExport extends Schema.TaggedRequest<ParseExport>()("ParseExport", {
  payload: ExportToParse.fields,
  success: ParsedExport,
  failure: Schema.Union(UnsupportedExport, PayloadTooLarge)
}) {}

/** Every request a parsing thread serves. */
export const ParserRequest = Schema.Union(ParseExport)
export type ParserRequest = typeof ParserRequest.Type
