/**
 * Parsed messages in columns, the form they cross from the parsing thread to the server in: typed
 * arrays are transferred without a copy, and the texts travel as one string with end offsets.
 */
import type { MessageKind, ParsedMessage } from "./Model.js"

export const kinds: ReadonlyArray<MessageKind> = ["text", "media", "system", "deleted", "edited"]

export interface MessageColumns {
  readonly count: number
  /** WallClock milliseconds. */
  readonly sentAt: Float64Array<ArrayBuffer>
  /** Index into `kinds`. */
  readonly kind: Uint8Array<ArrayBuffer>
  /** Index into `authors`, or -1 for none. */
  readonly author: Int32Array<ArrayBuffer>
  readonly authors: ReadonlyArray<string>
  /** Every text, concatenated; message i is `texts.slice(textEnd[i - 1] ?? 0, textEnd[i])`. */
  readonly texts: string
  readonly textEnd: Uint32Array<ArrayBuffer>
}

export const toColumns = (messages: ReadonlyArray<ParsedMessage>): MessageColumns => {
  const count = messages.length
  const sentAt = new Float64Array(count)
  const kind = new Uint8Array(count)
  const author = new Int32Array(count)
  const textEnd = new Uint32Array(count)
  const authorIndex = new Map<string, number>()
  const authors: Array<string> = []
  const texts: Array<string> = []
  let end = 0
  for (let i = 0; i < count; i++) {
    const message = messages[i]!
    sentAt[i] = message.sentAt
    kind[i] = kinds.indexOf(message.kind)
    if (message.author === null) {
      author[i] = -1
    } else {
      let index = authorIndex.get(message.author)
      if (index === undefined) {
        index = authors.length
        authors.push(message.author)
        authorIndex.set(message.author, index)
      }
      author[i] = index
    }
    end += message.text.length
    textEnd[i] = end
    texts.push(message.text)
  }
  return { count, sentAt, kind, author, authors, texts: texts.join(""), textEnd }
}

/** `YYYY-MM-DD HH:MM:SS` of a wall-clock time, as PostgreSQL's `timestamp` reads it. */
export const wallClockText = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace("T", " ")

/** Message `i` of the columns. */
export const textAt = (columns: MessageColumns, i: number): string =>
  columns.texts.slice(i === 0 ? 0 : columns.textEnd[i - 1]!, columns.textEnd[i]!)
