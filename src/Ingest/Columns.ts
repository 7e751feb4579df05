/**
 * Parsed messages in columns (see `MessageColumns`), the form the parser produces and they cross from
 * the parsing thread to the server in, and the ways to read them: one text, a `MessageSource` for the
 * statistics, or message objects for tests.
 */
import { kinds, type MessageColumns, type MessageSource, type ParsedMessage } from "./Model.js"

export { kinds, type MessageColumns } from "./Model.js"

/** Columns of messages that are not slices of one text: their texts are joined into a source. */
export const toColumns = (messages: ReadonlyArray<ParsedMessage>): MessageColumns => {
  const count = messages.length
  const sentAt = new Float64Array(count)
  const kind = new Uint8Array(count)
  const author = new Int32Array(count)
  const textStart = new Uint32Array(count)
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
    textStart[i] = end
    end += message.text.length
    textEnd[i] = end
    texts.push(message.text)
  }
  return { count, sentAt, kind, author, authors, source: texts.join(""), textStart, textEnd }
}

/** `YYYY-MM-DD HH:MM:SS` of a wall-clock time, as PostgreSQL's `timestamp` reads it. */
export const wallClockText = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace("T", " ")

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
