/**
 * The parse report: how a file was read (format, day/month order, counts, participants, unreadable
 * lines, warnings). The parser writes it camel-cased with wall-clock milliseconds; `wireReport` turns it
 * into the API's `ParseReport` through one schema, so the two shapes cannot drift apart.
 */
import { Schema } from "effect"
import { ParseReport, WallClockText } from "../Domain/Chat.js"
import { kinds } from "./Columns.js"
import { describeFormat, HeaderShape, type Shape, shapeName } from "./HeaderFormat.js"
import type { Pass } from "./Pass.js"
import { parseWallClock, type WallClock, wireWallClock } from "./WallClock.js"

/** How the day/month order was settled. */
const DayFirstConfidence = Schema.Literal("certain", "inferred", "assumed", "override")

const WallClockFromMillis = Schema.transform(Schema.Number, WallClockText, {
  strict: true,
  decode: wireWallClock,
  encode: parseWallClock
})

/**
 * The wire's report (its Type) read from the parser's (its Encoded side): the same fields, snake_case
 * names from camelCase ones, times from wall-clock milliseconds to `YYYY-MM-DDTHH:MM:SS`.
 */
const WireReportFromParser = Schema.Struct({
  ...ParseReport.fields,
  shape: HeaderShape,
  day_first: Schema.propertySignature(ParseReport.fields.day_first).pipe(Schema.fromKey("dayFirst")),
  day_first_confidence: Schema.propertySignature(DayFirstConfidence).pipe(Schema.fromKey("dayFirstConfidence")),
  system_events: Schema.propertySignature(ParseReport.fields.system_events).pipe(Schema.fromKey("systemEvents")),
  unreadable_lines: Schema.propertySignature(ParseReport.fields.unreadable_lines).pipe(Schema.fromKey("unreadableLines")),
  unreadable_samples: Schema.propertySignature(ParseReport.fields.unreadable_samples).pipe(
    Schema.fromKey("unreadableSamples")
  ),
  first_message_at: Schema.propertySignature(Schema.NullOr(WallClockFromMillis)).pipe(Schema.fromKey("firstMessageAt")),
  last_message_at: Schema.propertySignature(Schema.NullOr(WallClockFromMillis)).pipe(Schema.fromKey("lastMessageAt"))
})

/** The report as the parser writes it, e.g. `format` "[d/m/yy, H:MM:SS] (ios-bracketed)". */
export type ParserReport = typeof WireReportFromParser.Encoded
/** The parser's report as it crosses from the parsing thread. */
export const ParserReport: Schema.Schema<ParserReport> = Schema.encodedSchema(WireReportFromParser)

/** The report on the wire: snake_case, times as written. */
export const wireReport: (report: ParserReport) => ParseReport = Schema.decodeSync(WireReportFromParser)

const EXPORT_CAPS = [10_000, 40_000]
const ORIGIN = /encrypted|created|cifrad|verschlüssel|chiffr|criptograf|crittograf|creó|erstellt|créé/i
const SYSTEM_KIND = kinds.indexOf("system")

export interface DayOrder {
  readonly dayFirst: boolean
  readonly confidence: typeof DayFirstConfidence.Type
}

/**
 * Tallies the report of a finished pass: counts by kind, participants in order of first message, the
 * first and last message times, and the warnings (to those the day/month order already raised).
 */
export const tallyReport = (
  text: string,
  shape: Shape,
  pass: Pass,
  order: DayOrder,
  orderWarnings: ReadonlyArray<string>
): ParserReport => {
  const columns = pass.columns
  const warnings = [...orderWarnings]
  const participants: Array<string> = []
  const seen = new Uint8Array(columns.authors.length)
  let count = 0
  let systemEvents = 0
  let media = 0
  let deleted = 0
  let edited = 0
  let firstAt: WallClock | null = null
  let lastAt: WallClock | null = null
  for (let i = 0; i < columns.count; i++) {
    switch (kinds[columns.kind[i]!]) {
      case "system":
        systemEvents++
        continue
      case "media":
        media++
        break
      case "deleted":
        deleted++
        break
      case "edited":
        edited++
        break
      default:
        break
    }
    count++
    const author = columns.author[i]!
    if (author !== -1 && seen[author] === 0) {
      seen[author] = 1
      participants.push(columns.authors[author]!)
    }
    const sentAt = columns.sentAt[i]!
    if (firstAt === null) firstAt = sentAt
    lastAt = sentAt
  }

  if (pass.unreadable > 0) {
    warnings.push(`${pass.unreadable} line(s) before the first message could not be read and were skipped.`)
  }
  if (pass.impossible > 0) {
    warnings.push(`${pass.impossible} date(s) are not valid calendar dates with the detected day/month order.`)
  }
  // Export cap: WhatsApp exports only the latest 40,000 messages without media, 10,000 with media.
  // Heuristic: the entry count equals a cap, or is within 2% below one while the file does not begin
  // at the chat's origin (the encryption notice or the group's creation).
  const startsAtOrigin = columns.kind[0] === SYSTEM_KIND &&
    ORIGIN.test(text.slice(columns.textStart[0]!, columns.textEnd[0]!))
  const entries = columns.count
  for (const cap of EXPORT_CAPS) {
    if (entries === cap || count === cap || (entries <= cap && entries >= cap * 0.98 && !startsAtOrigin)) {
      warnings.push(
        `The export holds about ${cap.toLocaleString("en-US")} entries, WhatsApp's export limit ${cap === 10_000 ? "with" : "without"} media; older messages are probably missing.`
      )
      break
    }
  }

  return {
    format: describeFormat(shape, order.dayFirst),
    shape: shapeName(shape),
    dayFirst: order.dayFirst,
    dayFirstConfidence: order.confidence,
    messages: count,
    systemEvents,
    media,
    deleted,
    edited,
    participants,
    unreadableLines: pass.unreadable,
    unreadableSamples: pass.samples,
    firstMessageAt: firstAt,
    lastMessageAt: lastAt,
    warnings
  }
}

