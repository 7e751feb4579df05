/**
 * The parse report as the parser writes it: how a file was read (format, day/month order, counts,
 * participants, unreadable lines, warnings), camel-cased with wall-clock milliseconds. ReportWire.ts
 * turns it into the API's `ParseReport` through one schema.
 */
import { fileNameAt, kinds, type MessageColumns, mediaKindOf, systemEventOf } from "./Columns.js"
import { describeFormat, type HeaderShape, type Shape, shapeName } from "./HeaderFormat.js"
import type { Pass } from "./Pass.js"
import type { WallClock } from "./WallClock.js"

/** How the day/month order was settled. */
export const dayFirstConfidences = ["certain", "inferred", "assumed", "override"] as const
export type DayFirstConfidence = (typeof dayFirstConfidences)[number]

/** The report as the parser writes it, e.g. `format` "[d/m/yy, H:MM:SS] (ios-bracketed)". */
export interface ParserReport {
  readonly format: string
  readonly shape: HeaderShape
  readonly dayFirst: boolean
  readonly dayFirstConfidence: DayFirstConfidence
  readonly messages: number
  readonly systemEvents: number
  readonly media: number
  readonly deleted: number
  readonly edited: number
  readonly participants: ReadonlyArray<string>
  readonly unreadableLines: number
  readonly unreadableSamples: ReadonlyArray<string>
  readonly firstMessageAt: WallClock | null
  readonly lastMessageAt: WallClock | null
  readonly warnings: ReadonlyArray<string>
  /** Zip exports only: the attachments named by messages, found in the zip or not, by media kind. */
  readonly attachments?: AttachmentCounts
}

export interface AttachmentCounts {
  readonly matched: Readonly<Record<string, number>>
  readonly unmatched: Readonly<Record<string, number>>
  /** Files in the zip besides the chat that no message names. */
  readonly filesWithoutMessage: number
}

/**
 * Matches the files of a zip export (their names, without folders) to the messages that name them: counts
 * by media kind of the attachments found and missing, and the files no message names. The files are not
 * kept; this only tells the user what the export held.
 */
export const matchAttachments = (columns: MessageColumns, files: ReadonlyArray<string>): AttachmentCounts => {
  const present = new Set(files)
  const named = new Set<string>()
  const matched: Record<string, number> = {}
  const unmatched: Record<string, number> = {}
  for (let i = 0; i < columns.count; i++) {
    const name = fileNameAt(columns, i)
    if (name === null) continue
    const kind = mediaKindOf(columns.mediaKind[i]!) ?? "unknown"
    const into = present.has(name) ? matched : unmatched
    into[kind] = (into[kind] ?? 0) + 1
    named.add(name)
  }
  let filesWithoutMessage = 0
  for (const file of present) if (!named.has(file)) filesWithoutMessage++
  return { matched, unmatched, filesWithoutMessage }
}

const EXPORT_CAPS = [10_000, 40_000]
const SYSTEM_KIND = kinds.indexOf("system")
// A chat's first line when the export holds it from its start: the encryption notice or the group's creation.
const ORIGIN_EVENTS = new Set(["encryption", "created"])

export interface DayOrder {
  readonly dayFirst: boolean
  readonly confidence: DayFirstConfidence
}

/**
 * Tallies the report of a finished pass: counts by kind, participants in order of first message, the
 * first and last message times, and the warnings (to those the day/month order already raised).
 */
export const tallyReport = (
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
  const startsAtOrigin = columns.kind[0] === SYSTEM_KIND && ORIGIN_EVENTS.has(systemEventOf(columns.event[0]!) ?? "other")
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

