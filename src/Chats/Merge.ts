/**
 * How a newer (or older) export of a chat lines up with the messages already stored: which of its
 * messages are already there, which are new, and where each new one goes so that the chat stays in file
 * order. Pure: the import service reads the stored messages, asks for a plan, and applies it.
 *
 * A message is the same message when its author, its wall-clock minute and its text agree, in sequence
 * (exports of the same chat write seconds or not depending on the phone, so the minute is compared).
 * WhatsApp re-exports a message differently once it has been edited or deleted since: between two
 * messages that agree, a message by the same author in the same minute that is deleted or edited on
 * one side is the same message too, counted as a conflict (the stored version is kept).
 */
import type { MediaKind, MessageKind, SystemEvent } from "../Domain/MessageKind.js"
import {
  kinds,
  mediaKindCode,
  type MessageColumns,
  systemEventCode,
  textAt
} from "../Ingest/Columns.js"
import type { WallClock } from "../Ingest/WallClock.js"

/** A stored message, in seq order, as the merge reads it. */
export interface StoredMessage {
  readonly id: string
  readonly seq: number
  readonly sentAt: WallClock
  readonly author: string | null
  readonly text: string
  readonly kind: MessageKind
  readonly mediaKind: MediaKind | null
  readonly fileName: string | null
  readonly event: SystemEvent | null
}

export interface MergePlan {
  /** Incoming messages already stored, exactly. */
  readonly overlapping: number
  /** Incoming messages already stored in another version (edited or deleted since). */
  readonly conflicting: number
  /** The new messages: their index in the incoming columns and their seq in the merged chat, in order. */
  readonly added: { readonly index: ReadonlyArray<number>; readonly seq: ReadonlyArray<number> }
  /** Stored messages whose seq changes (new messages went in before them). */
  readonly moved: { readonly ids: ReadonlyArray<string>; readonly seq: ReadonlyArray<number> }
  /** The merged chat in order: `j >= 0` is stored message j, `-1 - i` is incoming message i. */
  readonly order: Int32Array
}

const minuteOf = (at: WallClock) => Math.floor(at / 60_000)

const looseKey = (author: string | null, at: WallClock) => `${author ?? ""}\u0000${minuteOf(at)}`
const exactKey = (author: string | null, at: WallClock, text: string) => `${looseKey(author, at)}\u0000${text}`

/** Changed since the other export: WhatsApp writes such a message differently from then on. */
const rewritten = (kind: MessageKind) => kind === "deleted" || kind === "edited"

/** The first value of ascending `list` greater than `after`, or -1. */
const firstAfter = (list: ReadonlyArray<number>, after: number): number => {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (list[mid]! <= after) lo = mid + 1
    else hi = mid
  }
  return lo < list.length ? lo : -1
}

const indexBy = (count: number, key: (j: number) => string, include: (j: number) => boolean = () => true) => {
  const map = new Map<string, Array<number>>()
  for (let j = 0; j < count; j++) {
    if (!include(j)) continue
    const k = key(j)
    const list = map.get(k)
    if (list === undefined) map.set(k, [j])
    else list.push(j)
  }
  return map
}

/**
 * Lines `incoming` up with `stored` and plans the merged chat. Matches are found in sequence (each after
 * the previous one on both sides); the unmatched messages between two matches, stored and new, are
 * interleaved by time (stored first on a tie), so a new message lands where the export had it.
 */
export const planMerge = (stored: ReadonlyArray<StoredMessage>, incoming: MessageColumns): MergePlan => {
  const n = incoming.count
  const authorOf = (i: number) => {
    const a = incoming.author[i]!
    return a < 0 ? null : incoming.authors[a]!
  }
  const kindOf = (i: number) => kinds[incoming.kind[i]!]!
  // match[i]: the stored message incoming i is, or -1.
  const match = new Int32Array(n).fill(-1)
  let overlapping = 0
  let conflicting = 0

  // Exact matches, in sequence.
  const exact = indexBy(stored.length, (j) => exactKey(stored[j]!.author, stored[j]!.sentAt, stored[j]!.text))
  const taken = new Uint8Array(stored.length)
  let last = -1
  for (let i = 0; i < n; i++) {
    const list = exact.get(exactKey(authorOf(i), incoming.sentAt[i]!, textAt(incoming, i)))
    if (list === undefined) continue
    const at = firstAfter(list, last)
    if (at < 0) continue
    last = list[at]!
    match[i] = last
    taken[last] = 1
    overlapping++
  }

  // Rewritten messages, between the exact matches around them.
  const loose = indexBy(stored.length, (j) => looseKey(stored[j]!.author, stored[j]!.sentAt), (j) => taken[j] === 0)
  let floor = -1
  let i = 0
  while (i < n) {
    if (match[i]! >= 0) {
      floor = match[i]!
      i++
      continue
    }
    // The gap of unmatched incoming messages [i, end) lies between stored `floor` and `ceiling`.
    let end = i
    while (end < n && match[end]! < 0) end++
    const ceiling = end < n ? match[end]! : stored.length
    for (let g = i; g < end; g++) {
      const list = loose.get(looseKey(authorOf(g), incoming.sentAt[g]!))
      if (list === undefined) continue
      for (let at = firstAfter(list, floor); at >= 0 && at < list.length && list[at]! < ceiling; at++) {
        const j = list[at]!
        if (taken[j] === 1 || !(rewritten(kindOf(g)) || rewritten(stored[j]!.kind))) continue
        match[g] = j
        taken[j] = 1
        floor = j
        conflicting++
        break
      }
    }
    i = end
  }

  // The merged order: matched pairs stay stored; each gap interleaves stored and new by time.
  const order = new Int32Array(stored.length + n - overlapping - conflicting)
  let p = 0
  let j = 0
  const addedIndex: Array<number> = []
  const addedSeq: Array<number> = []
  const movedIds: Array<string> = []
  const movedSeq: Array<number> = []
  const putStored = (s: number) => {
    if (stored[s]!.seq !== p) {
      movedIds.push(stored[s]!.id)
      movedSeq.push(p)
    }
    order[p++] = s
  }
  const putNew = (g: number) => {
    addedIndex.push(g)
    addedSeq.push(p)
    order[p++] = -1 - g
  }
  i = 0
  while (i < n || j < stored.length) {
    if (i < n && match[i]! >= 0) {
      // Stored messages before this match that nothing matched go first.
      while (j < match[i]!) putStored(j++)
      putStored(j++)
      i++
      continue
    }
    let end = i
    while (end < n && match[end]! < 0) end++
    const ceiling = end < n ? match[end]! : stored.length
    while (i < end || j < ceiling) {
      if (j < ceiling && (i >= end || stored[j]!.sentAt <= incoming.sentAt[i]!)) putStored(j++)
      else putNew(i++)
    }
  }
  return {
    overlapping,
    conflicting,
    added: { index: addedIndex, seq: addedSeq },
    moved: { ids: movedIds, seq: movedSeq },
    order
  }
}

/** What the chat row says of its messages: participants by first message, count and dates of people's messages. */
export interface ChatTally {
  readonly participants: ReadonlyArray<string>
  readonly messages: number
  readonly firstMessageAt: WallClock | null
  readonly lastMessageAt: WallClock | null
}

/** Tallies columns the way an upload's report does: system events are not messages and have no author. */
export const tally = (columns: MessageColumns): ChatTally => {
  const participants: Array<string> = []
  const seen = new Uint8Array(columns.authors.length)
  let messages = 0
  let firstMessageAt: WallClock | null = null
  let lastMessageAt: WallClock | null = null
  for (let i = 0; i < columns.count; i++) {
    if (kinds[columns.kind[i]!] === "system") continue
    messages++
    const author = columns.author[i]!
    if (author >= 0 && seen[author] === 0) {
      seen[author] = 1
      participants.push(columns.authors[author]!)
    }
    firstMessageAt ??= columns.sentAt[i]!
    lastMessageAt = columns.sentAt[i]!
  }
  return { participants, messages, firstMessageAt, lastMessageAt }
}

/**
 * The merged chat as columns, the form the statistics read (the same as an upload of one export holding
 * every message would give them).
 */
export const mergedColumns = (
  stored: ReadonlyArray<StoredMessage>,
  incoming: MessageColumns,
  order: Int32Array
): MessageColumns => {
  const count = order.length
  const sentAt = new Float64Array(count)
  const kind = new Uint8Array(count)
  const author = new Int32Array(count)
  const textStart = new Uint32Array(count)
  const textEnd = new Uint32Array(count)
  const mediaKind = new Uint8Array(count)
  const event = new Uint8Array(count)
  const fileStart = new Uint32Array(count)
  const fileEnd = new Uint32Array(count)
  const authors: Array<string> = []
  const authorIndex = new Map<string, number>()
  const parts: Array<string> = []
  let offset = 0
  const append = (text: string) => {
    parts.push(text)
    offset += text.length
    return offset
  }
  for (let p = 0; p < count; p++) {
    const o = order[p]!
    let name: string | null
    if (o >= 0) {
      const m = stored[o]!
      sentAt[p] = m.sentAt
      kind[p] = kinds.indexOf(m.kind)
      name = m.author
      textStart[p] = offset
      textEnd[p] = append(m.text)
      fileStart[p] = offset
      fileEnd[p] = append(m.fileName ?? "")
      mediaKind[p] = m.mediaKind === null ? 0 : mediaKindCode(m.mediaKind)
      event[p] = m.event === null ? 0 : systemEventCode(m.event)
    } else {
      const i = -1 - o
      const a = incoming.author[i]!
      sentAt[p] = incoming.sentAt[i]!
      kind[p] = incoming.kind[i]!
      name = a < 0 ? null : incoming.authors[a]!
      textStart[p] = offset
      textEnd[p] = append(textAt(incoming, i))
      fileStart[p] = offset
      fileEnd[p] = append(incoming.source.slice(incoming.fileStart[i]!, incoming.fileEnd[i]!))
      mediaKind[p] = incoming.mediaKind[i]!
      event[p] = incoming.event[i]!
    }
    if (name === null) {
      author[p] = -1
    } else {
      let index = authorIndex.get(name)
      if (index === undefined) {
        index = authors.length
        authors.push(name)
        authorIndex.set(name, index)
      }
      author[p] = index
    }
  }
  return {
    count,
    sentAt,
    kind,
    author,
    authors,
    source: parts.join(""),
    textStart,
    textEnd,
    mediaKind,
    event,
    fileStart,
    fileEnd
  }
}

const noColumns: MessageColumns = {
  count: 0,
  sentAt: new Float64Array(0),
  kind: new Uint8Array(0),
  author: new Int32Array(0),
  authors: [],
  source: "",
  textStart: new Uint32Array(0),
  textEnd: new Uint32Array(0),
  mediaKind: new Uint8Array(0),
  event: new Uint8Array(0),
  fileStart: new Uint32Array(0),
  fileEnd: new Uint32Array(0)
}

/** The stored messages alone as columns, as the statistics read them. */
export const storedColumns = (stored: ReadonlyArray<StoredMessage>): MessageColumns =>
  mergedColumns(stored, noColumns, Int32Array.from(stored, (_, i) => i))

// The probes are taken on the parsing thread, which stores an upload without the server reading its messages.
export { type MessageProbe, probesOf } from "../Ingest/Columns.js"
