/**
 * Parsed messages read one field at a time (`MessageSource`), so the statistics take the parser's
 * columns and arrays of message objects alike.
 */
import type { MediaKind, MessageKind, SystemEvent } from "../Domain/MessageKind.js"
import type { WallClock } from "./WallClock.js"

export interface ParsedMessage {
  /** Position in the file, from 0. */
  readonly seq: number
  readonly sentAt: WallClock
  /** The normalised author; null for system events without one. */
  readonly author: string | null
  /** The body with its line breaks; for media, its caption (empty when none). */
  readonly text: string
  readonly kind: MessageKind
  /** What a media message carries; null or absent otherwise (and for messages stored before it was kept). */
  readonly mediaKind?: MediaKind | null
  /** The attachment's file name, when the export names one. */
  readonly fileName?: string | null
  /** Which system event a system message records. */
  readonly event?: SystemEvent | null
}

export interface MessageSource {
  readonly length: number
  sentAt(i: number): WallClock
  author(i: number): string | null
  text(i: number): string
  kind(i: number): MessageKind
  /** What media message i carries, when known. */
  mediaKind?(i: number): MediaKind | null
}

/** Message objects read one field at a time. */
export const arraySource = (messages: ReadonlyArray<ParsedMessage>): MessageSource => ({
  length: messages.length,
  sentAt: (i) => messages[i]!.sentAt,
  author: (i) => messages[i]!.author,
  text: (i) => messages[i]!.text,
  kind: (i) => messages[i]!.kind,
  mediaKind: (i) => messages[i]!.mediaKind ?? null
})
