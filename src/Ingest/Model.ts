/**
 * What the WhatsApp export parser produces and the statistics consume: messages in file order with
 * the wall-clock time the export wrote, and a report of how the file was read.
 */

export type MessageKind = "text" | "media" | "system" | "deleted" | "edited"

/** The kinds in the order their codes in `MessageColumns.kind` index. */
export const kinds: ReadonlyArray<MessageKind> = ["text", "media", "system", "deleted", "edited"]

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

/**
 * Messages in file order as columns rather than one object per message: a million-message export then
 * costs about 25 bytes a message instead of an object and a string each, and the typed arrays cross to
 * another thread without a copy. Message i (its position in the file is its seq) is sent at
 * `sentAt[i]`, of kind `kinds[kind[i]]`, by `authors[author[i]]` (none when -1), and its body is
 * `source.slice(textStart[i], textEnd[i])`: every body, even a trimmed edited one, is a plain slice of
 * the chat text, so no body is copied.
 */
export interface MessageColumns {
  readonly count: number
  /** WallClock milliseconds. */
  readonly sentAt: Float64Array<ArrayBuffer>
  /** Index into `kinds`. */
  readonly kind: Uint8Array<ArrayBuffer>
  /** Index into `authors`, or -1 for none. */
  readonly author: Int32Array<ArrayBuffer>
  /** Distinct normalised authors, in order of first appearance. */
  readonly authors: ReadonlyArray<string>
  /** The chat text the bodies are slices of (for a parsed export: without BOM, line breaks as LF). */
  readonly source: string
  readonly textStart: Uint32Array<ArrayBuffer>
  readonly textEnd: Uint32Array<ArrayBuffer>
}

/** Messages read one field at a time, so the statistics take columns and arrays of messages alike. */
export interface MessageSource {
  readonly length: number
  sentAt(i: number): WallClock
  author(i: number): string | null
  text(i: number): string
  kind(i: number): MessageKind
}

export interface ParsedChat {
  readonly columns: MessageColumns
  readonly report: ParseReport
}
