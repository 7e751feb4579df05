/**
 * The second step of telling authors from system events: a line shaped like an event ("X added you to a
 * group in the community: Name") has an author-looking start, and whether that start is an author is
 * known only once the whole chat has been read and its participants are known.
 */
import { systemEventCode } from "./Columns.js"
import * as Markers from "./Markers.js"
import { SYSTEM } from "./MessageKinds.js"

const CALL_EVENT = systemEventCode("call")
const RECENT = 8

/** Authors as written, minus invisible direction marks and the "~ " of unsaved contacts. */
const normaliseAuthor = (raw: string): string =>
  raw
    .replace(/[\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g, "")
    .replace(/[\u00A0\u202F]/g, " ")
    .replace(/^\s*~\s*/, "")
    .trim()

/**
 * The authors a pass meets. Authors as written map to an id; ids name distinct normalised authors (two
 * spellings, one person). The last few spellings are kept for a check in place (most headers repeat
 * one, and that avoids a slice); a spelling first met on a line that is a whole event makes its
 * author's messages doubtful (first step of the doubts settled below).
 */
export class AuthorBook {
  readonly names: Array<string> = []
  /** The last few spellings, newest first, and their ids. */
  readonly recentRaw: Array<string> = []
  readonly recentId: Array<number> = []
  /** By id: met on a line that is a whole event. */
  readonly suspect: Array<boolean> = []
  private readonly byRaw = new Map<string, number>()
  private readonly byName = new Map<string, number>()

  /** The id of the author `text[from, colon)`, on the line that ends at `lineEnd`. */
  idOf(text: string, from: number, colon: number, lineEnd: number): number {
    const rawLength = colon - from
    // The unit before the colon tells most same-length authors apart without a call.
    const lastUnit = text.charCodeAt(colon - 1)
    const recentRaw = this.recentRaw
    for (let r = 0; r < recentRaw.length; r++) {
      const raw = recentRaw[r]!
      if (
        raw.length === rawLength && (rawLength === 0 || raw.charCodeAt(rawLength - 1) === lastUnit) &&
        text.startsWith(raw, from)
      ) return this.recentId[r]!
    }
    // A string of its own: a slice of the chat text is read through it, slower in the checks in place.
    const raw = Array.from(text.slice(from, colon)).join("")
    let id = this.byRaw.get(raw)
    if (id === undefined) {
      const name = normaliseAuthor(raw)
      id = this.byName.get(name)
      if (id === undefined) {
        id = this.names.length
        this.names.push(name)
        this.byName.set(name, id)
      }
      this.byRaw.set(raw, id)
      // A new spelling of an author: when its whole line is an event, its messages are in doubt.
      if (Markers.eventOfLineIn(text, from, lineEnd) !== null) this.suspect[id] = true
    }
    if (recentRaw.length === RECENT) {
      recentRaw.pop()
      this.recentId.pop()
    }
    recentRaw.unshift(raw)
    this.recentId.unshift(id)
    return id
  }
}

export interface Doubts {
  readonly doubtIndex: ReadonlyArray<number>
  /** Where the whole line starts for an event read from it, or -1 for an event read from the body. */
  readonly doubtLineStart: ReadonlyArray<number>
  readonly doubtEvent: ReadonlyArray<number>
}

export interface WritableColumns {
  readonly count: number
  readonly kind: Uint8Array
  readonly author: Int32Array
  readonly textStart: Uint32Array
  readonly textEnd: Uint32Array
  readonly mediaKind: Uint8Array
  readonly event: Uint8Array
  readonly fileStart: Uint32Array
  readonly fileEnd: Uint32Array
}

/**
 * Settles the messages whose author was in doubt, once every participant is known (an author of at least
 * one message that is not an event): an event-shaped line by a participant stays their message; by anyone
 * else it is a system event of its whole line, with no author. An event read from a body has no author
 * either, except a call by a participant (who called matters). Authors left with no message are dropped.
 */
export const settleDoubts = (
  names: ReadonlyArray<string>,
  spoke: Uint8Array,
  doubts: Doubts,
  columns: WritableColumns
): ReadonlyArray<string> => {
  for (let d = 0; d < doubts.doubtIndex.length; d++) {
    const i = doubts.doubtIndex[d]!
    const author = columns.author[i]!
    const participant = author < spoke.length && spoke[author] === 1
    const lineStart = doubts.doubtLineStart[d]!
    if (lineStart === -1) {
      if (!(participant && doubts.doubtEvent[d] === CALL_EVENT)) columns.author[i] = -1
    } else if (!participant) {
      columns.kind[i] = SYSTEM
      columns.author[i] = -1
      columns.textStart[i] = lineStart
      columns.mediaKind[i] = 0
      columns.event[i] = doubts.doubtEvent[d]!
      columns.fileStart[i] = 0
      columns.fileEnd[i] = 0
    }
  }
  const used = new Uint8Array(names.length)
  for (let i = 0; i < columns.count; i++) {
    const author = columns.author[i]!
    if (author !== -1) used[author] = 1
  }
  if (used.every((u) => u === 1)) return names
  const remap = new Int32Array(names.length).fill(-1)
  const kept: Array<string> = []
  for (let a = 0; a < names.length; a++) {
    if (used[a] === 1) {
      remap[a] = kept.length
      kept.push(names[a]!)
    }
  }
  for (let i = 0; i < columns.count; i++) {
    const author = columns.author[i]!
    if (author !== -1) columns.author[i] = remap[author]!
  }
  return kept
}
