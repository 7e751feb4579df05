/**
 * Parsed messages in columns, the form the parser makes them in and they cross from the parsing thread
 * to the server in (their schema is in ParseRequest.ts), and the ways to read them: one body, a
 * `MessageSource` for the statistics, or message objects for tests. No library is loaded here: the
 * parser's own memory is what the benchmark measures.
 */
import { type MessageKind, messageKinds } from "../Domain/MessageKind.js"
import type { MessageSource, ParsedMessage } from "./Messages.js"

/** The kinds in the order their codes in `MessageColumns.kind` index. */
export const kinds: ReadonlyArray<MessageKind> = messageKinds

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
