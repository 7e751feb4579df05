/**
 * The second step of telling authors from system events: a line shaped like an event ("X added you to a
 * group in the community: Name") has an author-looking start, and whether that start is an author is
 * known only once the whole chat has been read and its participants are known.
 */
import { systemEventCode } from "./Columns.js"
import { SYSTEM } from "./MessageKinds.js"

const CALL_EVENT = systemEventCode("call")

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
