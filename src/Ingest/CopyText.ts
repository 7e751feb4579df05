/**
 * Messages as the rows of `COPY messages (...) FROM STDIN` in PostgreSQL's text format, written straight
 * from the parser's columns. The parsing thread writes an upload's rows here and sends them as bytes, so
 * the server's event loop only forwards buffers to the connection and never holds a string per message;
 * a merge (a few new messages under new seqs) is written on the server itself. No library is loaded
 * here: it runs on the parsing thread.
 */
import { mediaKinds, systemEvents } from "../Domain/MessageKind.js"
import { kinds, mediaKindOf, type MessageColumns, systemEventOf, textAt } from "./Columns.js"
import { storedWallClock } from "./WallClock.js"

/** Which messages of the columns to store, and under which seq: by default all, message i as seq i. */
export interface CopyRows {
  readonly count: number
  /** The column index of the k-th row to store. */
  readonly index: (k: number) => number
  readonly seq: (k: number) => number
}

export const allRows = (columns: MessageColumns): CopyRows => ({
  count: columns.count,
  index: (k) => k,
  seq: (k) => k
})

/** The statement the rows are written for: its column list is the order of each row's fields. */
export const copyStatement =
  "COPY messages (chat_id, seq, sent_at_local, sent_at, author, text, kind, media_kind, file_name, event) FROM STDIN"

const special = /[\\\t\n\r]/
const specialAll = /[\\\t\n\r]/g
const escapes: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" }

/**
 * A value in COPY's text format: the backslash, the column and row separators escaped. A chat's text
 * never holds NUL (the export reader refuses it), the one character the format cannot carry.
 */
export const copyText = (value: string): string =>
  special.test(value) ? value.replace(specialAll, (c) => escapes[c] ?? c) : value

const copyNullable = (value: string | null): string => value === null ? "\\N" : copyText(value)

const twoDigits = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, "0"))
const dayMs = 86_400_000

/**
 * `storedWallClock` for a whole chat at a time: the date text is made once a day and the time of day
 * from integers, not a `Date` and its ISO text per message (a million of them show in a profile).
 */
const wallClockWriter = () => {
  let day = Number.NaN
  let date = ""
  return (ms: number): string => {
    const d = Math.floor(ms / dayMs)
    if (d !== day) {
      day = d
      date = storedWallClock(d * dayMs).slice(0, 11)
    }
    const seconds = Math.floor((ms - d * dayMs) / 1000)
    return `${date}${twoDigits[Math.floor(seconds / 3600)]}:${twoDigits[Math.floor(seconds / 60) % 60]}:${twoDigits[seconds % 60]}`
  }
}

/**
 * `rows` of `columns` as rows of `chatId`, about `chunkChars` characters of text at a time (a chunk
 * ends with a whole row). Both timestamp columns get the written wall-clock time: the copy's session zone
 * makes PostgreSQL read the second as the chat's UTC time (see MessageCopy.ts).
 */
export function* copyChunks(
  chatId: string,
  columns: MessageColumns,
  rows: CopyRows,
  chunkChars: number
): Generator<string, void, undefined> {
  // What repeats is written once: authors, kinds, media kinds and events as COPY text, by their codes.
  const authors = columns.authors.map(copyText)
  const kindText = kinds.map(copyText)
  const mediaText = Array.from({ length: mediaKinds.length + 1 }, (_, code) => copyNullable(mediaKindOf(code)))
  const eventText = Array.from({ length: systemEvents.length + 1 }, (_, code) => copyNullable(systemEventOf(code)))
  const wallClock = wallClockWriter()
  // Neighbouring messages often share their time: the last one's text is kept.
  let lastAt = Number.NaN
  let lastText = ""
  let k = 0
  while (k < rows.count) {
    let chunk = ""
    for (; k < rows.count && chunk.length < chunkChars; k++) {
      const i = rows.index(k)
      const at = columns.sentAt[i]!
      if (at !== lastAt) {
        lastAt = at
        const written = wallClock(at)
        lastText = `${written}\t${written}`
      }
      const author = columns.author[i]!
      const file = columns.fileEnd[i]! > columns.fileStart[i]!
        ? copyText(columns.source.slice(columns.fileStart[i]!, columns.fileEnd[i]!))
        : "\\N"
      chunk += `${chatId}\t${rows.seq(k)}\t${lastText}\t${author < 0 ? "\\N" : authors[author]!}\t${
        copyText(textAt(columns, i))
      }\t${kindText[columns.kind[i]!]}\t${mediaText[columns.mediaKind[i]!]}\t${file}\t${eventText[columns.event[i]!]}\n`
    }
    yield chunk
  }
}
