/**
 * Parsed messages in columns, the form the parser makes them in and they cross from the parsing thread
 * to the server in, and the ways to read them: one body, a `MessageSource` for the statistics, or
 * message objects for tests.
 */
import * as Transferable from "@effect/platform/Transferable"
import { Schema } from "effect"
import { MessageKind } from "../Domain/MessageKind.js"
import type { MessageSource, ParsedMessage } from "./Messages.js"

/** The kinds in the order their codes in `MessageColumns.kind` index. */
export const kinds: ReadonlyArray<MessageKind> = MessageKind.literals

/** A typed-array column: checked by its class, moved (not copied) to the other thread. */
const column = <A extends { readonly buffer: ArrayBuffer }>(is: (u: unknown) => u is A, identifier: string) =>
  Transferable.schema(Schema.declare(is, { identifier }), (c: A) => [c.buffer])

const ownsBuffer = (u: ArrayBufferView): boolean => u.buffer instanceof ArrayBuffer

/**
 * Messages in file order as columns rather than one object per message: a million-message export then
 * costs about 25 bytes a message instead of an object and a string each, and the typed arrays cross to
 * another thread without a copy. Message i (its position in the file is its seq) is sent at
 * `sentAt[i]`, of kind `kinds[kind[i]]`, by `authors[author[i]]` (none when -1), and its body is
 * `source.slice(textStart[i], textEnd[i])`: every body, even a trimmed edited one, is a plain slice of
 * the chat text, so no body is copied.
 */
export const MessageColumns = Schema.Struct({
  count: Schema.Number,
  /** WallClock milliseconds. */
  sentAt: column((u): u is Float64Array<ArrayBuffer> => u instanceof Float64Array && ownsBuffer(u), "SentAtColumn"),
  /** Index into `kinds`. */
  kind: column((u): u is Uint8Array<ArrayBuffer> => u instanceof Uint8Array && ownsBuffer(u), "KindColumn"),
  /** Index into `authors`, or -1 for none. */
  author: column((u): u is Int32Array<ArrayBuffer> => u instanceof Int32Array && ownsBuffer(u), "AuthorColumn"),
  /** Distinct normalised authors, in order of first appearance. */
  authors: Schema.Array(Schema.String),
  /** The chat text the bodies are slices of (for a parsed export: without BOM, line breaks as LF). */
  source: Schema.String,
  textStart: column((u): u is Uint32Array<ArrayBuffer> => u instanceof Uint32Array && ownsBuffer(u), "TextStartColumn"),
  textEnd: column((u): u is Uint32Array<ArrayBuffer> => u instanceof Uint32Array && ownsBuffer(u), "TextEndColumn")
})
export interface MessageColumns extends Schema.Schema.Type<typeof MessageColumns> {}

/** The body of message `i`. */
export const textAt = (columns: MessageColumns, i: number): string =>
  columns.source.slice(columns.textStart[i]!, columns.textEnd[i]!)

/** The columns read one field at a time, as the statistics read them. */
export const columnSource = (columns: MessageColumns): MessageSource => ({
  length: columns.count,
  sentAt: (i) => columns.sentAt[i]!,
  author: (i) => {
    const index = columns.author[i]!
    return index < 0 ? null : columns.authors[index]!
  },
  text: (i) => textAt(columns, i),
  kind: (i) => kinds[columns.kind[i]!]!
})

/** One object per message: for tests and small chats only, since it costs what the columns save. */
export const messagesOf = (columns: MessageColumns): Array<ParsedMessage> => {
  const messages: Array<ParsedMessage> = []
  const source = columnSource(columns)
  for (let i = 0; i < columns.count; i++) {
    messages.push({
      seq: i,
      sentAt: source.sentAt(i),
      author: source.author(i),
      text: source.text(i),
      kind: source.kind(i)
    })
  }
  return messages
}
