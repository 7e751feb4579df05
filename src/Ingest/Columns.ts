/**
 * Parsed messages in columns, the form the parser makes them in and they cross from the parsing thread
 * to the server in (their schema is in ParseRequest.ts), and the ways to read them: one body, a
 * `MessageSource` for the statistics, message objects for tests, or a few probes to find another export
 * of the same chat (their COPY rows are in CopyText.ts). No library is loaded here: the parser's own
 * memory is what the benchmark measures.
 */
import { type MediaKind, mediaKinds, type MessageKind, messageKinds, type SystemEvent, systemEvents } from "../Domain/MessageKind.js"
import type { MessageSource, ParsedMessage } from "./Messages.js"
import { storedWallClock } from "./WallClock.js"

/** The kinds in the order their codes in `MessageColumns.kind` index. */
export const kinds: ReadonlyArray<MessageKind> = messageKinds

/** The media kind coded `code` in `MessageColumns.mediaKind` (0 = none, n = `mediaKinds[n - 1]`). */
export const mediaKindOf = (code: number): MediaKind | null => code === 0 ? null : mediaKinds[code - 1]!
/** The code of a media kind in `MessageColumns.mediaKind`. */
export const mediaKindCode = (kind: MediaKind): number => mediaKinds.indexOf(kind) + 1
/** The system event coded `code` in `MessageColumns.event` (0 = none, n = `systemEvents[n - 1]`). */
export const systemEventOf = (code: number): SystemEvent | null => code === 0 ? null : systemEvents[code - 1]!
/** The code of a system event in `MessageColumns.event`. */
export const systemEventCode = (event: SystemEvent): number => systemEvents.indexOf(event) + 1

/**
 * Messages in file order as columns rather than one object per message: a million-message export then
 * costs about 25 bytes a message instead of an object and a string each, and the typed arrays cross to
 * another thread without a copy. Message i (its position in the file is its seq) is sent at
 * `sentAt[i]`, of kind `kinds[kind[i]]`, by `authors[author[i]]` (none when -1), and its body is
 * `source.slice(textStart[i], textEnd[i])`: every body, even a trimmed edited one, is a plain slice of
 * the chat text, so no body is copied. A media message's body is its caption (empty when none), its
 * attachment's file name `source.slice(fileStart[i], fileEnd[i])` (empty when none), its media kind
 * `mediaKind[i]`; a system event's is `event[i]`.
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
  /** `mediaKindOf` code: 0 unless the message is media. */
  readonly mediaKind: Uint8Array<ArrayBuffer>
  /** `systemEventOf` code: 0 unless the message is a system event. */
  readonly event: Uint8Array<ArrayBuffer>
  /** The attachment's file name as a slice of `source`; equal offsets when there is none. */
  readonly fileStart: Uint32Array<ArrayBuffer>
  readonly fileEnd: Uint32Array<ArrayBuffer>
}

/** The body of message `i`. */
export const textAt = (columns: MessageColumns, i: number): string =>
  columns.source.slice(columns.textStart[i]!, columns.textEnd[i]!)

/** The attachment file name of message `i`, or null when it names none. */
export const fileNameAt = (columns: MessageColumns, i: number): string | null =>
  columns.fileEnd[i]! > columns.fileStart[i]! ? columns.source.slice(columns.fileStart[i]!, columns.fileEnd[i]!) : null

/** The columns read one field at a time, as the statistics read them. */
export const columnSource = (columns: MessageColumns): MessageSource => ({
  length: columns.count,
  sentAt: (i) => columns.sentAt[i]!,
  author: (i) => {
    const index = columns.author[i]!
    return index < 0 ? null : columns.authors[index]!
  },
  text: (i) => textAt(columns, i),
  kind: (i) => kinds[columns.kind[i]!]!,
  mediaKind: (i) => mediaKindOf(columns.mediaKind[i]!)
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
      kind: source.kind(i),
      mediaKind: mediaKindOf(columns.mediaKind[i]!),
      fileName: fileNameAt(columns, i),
      event: systemEventOf(columns.event[i]!)
    })
  }
  return messages
}

/** One message of an upload, looked for among the user's stored chats. */
export interface MessageProbe {
  readonly author: string | null
  /** `YYYY-MM-DD HH:MM:SS`. */
  readonly sentAt: string
  readonly text: string
}

/**
 * A few written messages of an export that another export of the same chat would share: its first and
 * last ones (where newer and older exports overlap) and some spread between.
 */
export const probesOf = (columns: MessageColumns, ends = 5, spread = 6): Array<MessageProbe> => {
  const written = (i: number) => kinds[columns.kind[i]!] === "text" && columns.textEnd[i]! > columns.textStart[i]!
  const picked = new Set<number>()
  // From a position, the next written message (or the previous one, from the end): a few steps, not a scan.
  const take = (from: number, step: 1 | -1) => {
    for (let i = from; i >= 0 && i < columns.count; i += step) {
      if (written(i) && !picked.has(i)) return picked.add(i)
    }
  }
  for (let k = 0; k < ends; k++) {
    take(0, 1)
    take(columns.count - 1, -1)
  }
  for (let k = 1; k <= spread; k++) take(Math.floor((k * columns.count) / (spread + 1)), 1)
  return [...picked].sort((a, b) => a - b).map((i) => {
    const author = columns.author[i]!
    return {
      author: author < 0 ? null : columns.authors[author]!,
      sentAt: storedWallClock(columns.sentAt[i]!),
      text: textAt(columns, i)
    }
  })
}
