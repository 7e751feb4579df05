/**
 * What the WhatsApp export parser produces and the statistics consume: messages in file order with
 * the wall-clock time the export wrote, and a report of how the file was read.
 */

export type MessageKind = "text" | "media" | "system" | "deleted" | "edited"

/**
 * A wall-clock date and time as the export wrote it, with no time zone: kept as milliseconds of a
 * `Date` whose UTC fields are the written fields (so `new Date(ms).getUTCHours()` is the hour written).
 */
export type WallClock = number

export interface ParsedMessage {
  /** Position in the file, from 0. */
  readonly seq: number
  readonly sentAt: WallClock
  /** The normalised author; null for system events without one. */
  readonly author: string | null
  /** The body with its line breaks; for media, the media marker as written. */
  readonly text: string
  readonly kind: MessageKind
}

export type HeaderShape = "ios-bracketed" | "android-dash" | "other"

export interface ParseReport {
  /** The header shape and date order detected, e.g. "[d/m/yy, H:MM:SS] (ios-bracketed)". */
  readonly format: string
  readonly shape: HeaderShape
  readonly dayFirst: boolean
  /** How the day/month order was settled. */
  readonly dayFirstConfidence: "certain" | "inferred" | "assumed" | "override"
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
}

export interface ParsedChat {
  readonly messages: ReadonlyArray<ParsedMessage>
  readonly report: ParseReport
}
