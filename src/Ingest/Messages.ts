/**
 * Parsed messages read one field at a time (`MessageSource`), so the statistics take the parser's
 * columns and arrays of message objects alike.
 */
import type { MessageKind } from "../Domain/MessageKind.js"
import type { WallClock } from "./WallClock.js"

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

export interface MessageSource {
  readonly length: number
  sentAt(i: number): WallClock
  author(i: number): string | null
  text(i: number): string
  kind(i: number): MessageKind
}

/** Message objects read one field at a time. */
export const arraySource = (messages: ReadonlyArray<ParsedMessage>): MessageSource => ({
  length: messages.length,
  sentAt: (i) => messages[i]!.sentAt,
  author: (i) => messages[i]!.author,
  text: (i) => messages[i]!.text,
  kind: (i) => messages[i]!.kind
})
