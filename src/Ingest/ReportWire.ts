/**
 * The parse report on the wire: the parser's report (the Encoded side) read into the API's snake_case
 * `ParseReport` (the Type side) by one schema, so the two shapes cannot drift apart.
 */
import { Schema } from "effect"
import { AttachmentReport, ParseReport, WallClockText } from "../Domain/Chat.js"
import { headerShapes } from "./HeaderFormat.js"
import { dayFirstConfidences, type ParserReport } from "./Report.js"
import { parseWallClock, wireWallClock } from "./WallClock.js"

const WallClockFromMillis = Schema.transform(Schema.Number, WallClockText, {
  strict: true,
  decode: wireWallClock,
  encode: parseWallClock
})

const WireReportFromParser = Schema.Struct({
  // What the parser cannot know (another chat it overlaps) is added by the server.
  ...ParseReport.omit("possible_duplicate_of").fields,
  shape: Schema.Literal(...headerShapes),
  day_first: Schema.propertySignature(ParseReport.fields.day_first).pipe(Schema.fromKey("dayFirst")),
  day_first_confidence: Schema.propertySignature(Schema.Literal(...dayFirstConfidences)).pipe(
    Schema.fromKey("dayFirstConfidence")
  ),
  system_events: Schema.propertySignature(ParseReport.fields.system_events).pipe(Schema.fromKey("systemEvents")),
  unreadable_lines: Schema.propertySignature(ParseReport.fields.unreadable_lines).pipe(Schema.fromKey("unreadableLines")),
  unreadable_samples: Schema.propertySignature(ParseReport.fields.unreadable_samples).pipe(
    Schema.fromKey("unreadableSamples")
  ),
  first_message_at: Schema.propertySignature(Schema.NullOr(WallClockFromMillis)).pipe(Schema.fromKey("firstMessageAt")),
  last_message_at: Schema.propertySignature(Schema.NullOr(WallClockFromMillis)).pipe(Schema.fromKey("lastMessageAt")),
  attachments: Schema.optional(Schema.Struct({
    ...AttachmentReport.fields,
    files_without_message: Schema.propertySignature(AttachmentReport.fields.files_without_message).pipe(
      Schema.fromKey("filesWithoutMessage")
    )
  }))
})

/** The parser's report as it crosses from the parsing thread (checked to be the parser's own type). */
export const ParserReportSchema: Schema.Schema<ParserReport> = Schema.encodedSchema(WireReportFromParser)

/** The report on the wire: snake_case, times as written. */
export const wireReport: (report: ParserReport) => ParseReport = Schema.decodeSync(WireReportFromParser)
