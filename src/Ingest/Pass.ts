// The pass stays whole, one function on purpose: its running state (the open message, the growing columns, the
// author cache, the date fields) stays in locals of one loop run on every line of a million-line file.
/**
 * The one pass over a chat's text that makes the message columns, once the header shape is known.
 */
import type { MessageColumns } from "./Columns.js"
import { systemEventCode } from "./Columns.js"
import { isBlank } from "./ChatText.js"
import * as HeaderFormat from "./HeaderFormat.js"
import type { Shape } from "./HeaderFormat.js"
import * as Markers from "./Markers.js"
import * as MessageKinds from "./MessageKinds.js"
import { AuthorBook, settleDoubts } from "./AuthorDoubts.js"
import * as Template from "./markers/Template.js"
import type { WallClock } from "./WallClock.js"

const MAX_SAMPLE = 5
const SAMPLE_CHARS = 200

// Bound once: a transpiled module's import can be a getter call on every use, and these run per message.
const { AFTER_DATE_AT, AFTER_TIME_AT, HOUR_AT, mayStartHeader, pmAt, readFields } = HeaderFormat
const eventOfLineIn = Markers.eventOfLineIn
const classifyBody = MessageKinds.classifyBody
const isDirectionMark = Template.isDirectionMark
const { emptyClass, SYSTEM, TEXT } = MessageKinds

const OTHER_EVENT = systemEventCode("other")
const CR_CHUNK = 1 << 15

/** The event code of a system line: the table's event, or "other" for a line the table does not know. */
const eventCodeOf = (source: string, start: number, end: number): number => {
  const event = eventOfLineIn(source, start, end)
  return event === null ? OTHER_EVENT : systemEventCode(event)
}

/** The same wall-clock with day and month exchanged; exact when both are at most 12. */
export const swapDayMonth = (ms: WallClock): WallClock => {
  const d = new Date(ms)
  return Date.UTC(
    d.getUTCFullYear(),
    d.getUTCDate() - 1,
    d.getUTCMonth() + 1,
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds()
  )
}

export interface Pass {
  readonly columns: MessageColumns
  /** The day/month order every message was built with (a pass can switch once, fixing earlier ones). */
  readonly dayFirst: boolean
  readonly overA: number
  readonly overB: number
  readonly changesA: number
  readonly changesB: number
  readonly upperAmPm: boolean
  readonly unreadable: number
  readonly samples: Array<string>
  readonly impossible: number
}

/**
 * The one pass: walks the text line by line with `indexOf`, reads each line that can start a header
 * with the shape's reader (or, when that cannot tell, tests it against the shape's sticky regex and reads
 * the fields by char code; no line strings, no capture arrays), and makes each message when the next
 * header (or the end) closes its body. Times are computed with `dayFirst`; while no value over 12 has
 * been seen the order is provisional, and the first such value that contradicts it switches the order
 * and fixes the messages made so far (exactly, since all of their day and month values were at most 12).
 * Null when the text holds a carriage return (found as soon as a chunk holding one has been walked): the
 * caller normalises the line breaks and runs the pass again.
 */
export const runPass = (text: string, shape: Shape, re: RegExp, dayFirstIn: boolean, locked: boolean): Pass | null => {
  let dayFirst = dayFirstIn
  const hasSeconds = shape.seconds
  const wanted = hasSeconds ? 6 : 5
  // The columns grow by doubling; pages of a typed array never written are never resident, so the
  // unused tail costs address space, not memory.
  let capacity = 1024
  let count = 0
  let sentAtColumn = new Float64Array(capacity)
  let kindColumn = new Uint8Array(capacity)
  let authorColumn = new Int32Array(capacity)
  let startColumn = new Uint32Array(capacity)
  let endColumn = new Uint32Array(capacity)
  let mediaKindColumn = new Uint8Array(capacity)
  let eventColumn = new Uint8Array(capacity)
  let fileStartColumn = new Uint32Array(capacity)
  let fileEndColumn = new Uint32Array(capacity)
  /** A column twice as long with the same values in front. */
  const doubled = <T extends Float64Array<ArrayBuffer> | Uint8Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>>(
    column: T,
    make: (length: number) => T
  ): T => {
    const next = make(column.length * 2)
    next.set(column)
    return next
  }
  const grow = (): void => {
    capacity *= 2
    sentAtColumn = doubled(sentAtColumn, (n) => new Float64Array(n))
    kindColumn = doubled(kindColumn, (n) => new Uint8Array(n))
    authorColumn = doubled(authorColumn, (n) => new Int32Array(n))
    startColumn = doubled(startColumn, (n) => new Uint32Array(n))
    endColumn = doubled(endColumn, (n) => new Uint32Array(n))
    mediaKindColumn = doubled(mediaKindColumn, (n) => new Uint8Array(n))
    eventColumn = doubled(eventColumn, (n) => new Uint8Array(n))
    fileStartColumn = doubled(fileStartColumn, (n) => new Uint32Array(n))
    fileEndColumn = doubled(fileEndColumn, (n) => new Uint32Array(n))
  }
  const authors = new AuthorBook()
  const { recentRaw, recentId, suspect } = authors
  // The six values of a header, then where its date ends, its hour starts and its time ends.
  const fields = new Int32Array(9)
  const readHeader = HeaderFormat.headerReader(shape)
  let unreadable = 0
  const samples: Array<string> = []
  let overA = 0
  let overB = 0
  let changesA = 0
  let changesB = 0
  let prevA = -1
  let prevB = -1
  let upperAmPm: boolean | null = null
  let impossible = 0
  let lastDateKey = -1
  let dayMs = 0
  // The message whose body is still being read.
  let open = false
  let openBody = 0
  let openHeaderEnd = 0
  let openLineEnd = 0
  let openAuthor = -1
  let openSentAt = 0

  // Who wrote something that is not an event (a participant), and the messages whose author is in
  // doubt: an event-shaped line's "author" is kept only when it is a participant, which is known at the end.
  let spoke = new Uint8Array(64)
  const doubtIndex: Array<number> = []
  const doubtLineStart: Array<number> = []
  const doubtEvent: Array<number> = []
  const body = emptyClass()

  // Each body is kept as offsets into `text`: a caption, a file name, a trimmed edited body or the whole
  // line of a system event are all slices of it. Only the first line is sliced to be classified.
  const close = (endAt: number): void => {
    let end = endAt
    while (end > openBody && text.charCodeAt(end - 1) === 0x0a) end--
    let start = openBody
    if (end < start) end = start
    const marked = start < end && isDirectionMark(text.charCodeAt(start))
    if (marked && (text.charCodeAt(start) === 0x200e || text.charCodeAt(start) === 0x200f)) start++
    const firstEnd = Math.max(start, Math.min(openLineEnd, end))
    const author = openAuthor
    if (author === -1) {
      body.kind = SYSTEM
      body.media = 0
      body.event = eventCodeOf(text, start, firstEnd)
      body.textStart = start
      body.textEnd = end
      body.fileStart = 0
      body.fileEnd = 0
    } else {
      classifyBody(text, start, firstEnd, end, body)
      let doubt = false
      let doubtCode = body.event
      if (body.kind === SYSTEM) {
        doubt = true
        doubtLineStart.push(-1)
      } else if (marked && body.kind === TEXT) {
        // iOS gives its system lines an author (the group or the other person) and a direction-mark-led body.
        const event = eventOfLineIn(text, start, firstEnd)
        if (event !== null) {
          body.kind = SYSTEM
          body.media = 0
          body.event = systemEventCode(event)
          body.textStart = start
          body.textEnd = end
          body.fileStart = 0
          body.fileEnd = 0
          doubt = true
          doubtCode = body.event
          doubtLineStart.push(-1)
        }
      }
      if (!doubt && suspect[author] === true) {
        // A colon inside an event ("… added you to a group in the community: Name") made its start look
        // like an author: the whole line is tested.
        const event = eventOfLineIn(text, openHeaderEnd, firstEnd)
        if (event !== null) {
          doubt = true
          doubtCode = systemEventCode(event)
          doubtLineStart.push(openHeaderEnd)
        }
      }
      if (doubt) {
        doubtIndex.push(count)
        doubtEvent.push(doubtCode)
      } else {
        if (author >= spoke.length) {
          const next = new Uint8Array(Math.max(spoke.length * 2, author + 1))
          next.set(spoke)
          spoke = next
        }
        spoke[author] = 1
      }
    }
    if (count === capacity) grow()
    sentAtColumn[count] = openSentAt
    kindColumn[count] = body.kind
    authorColumn[count] = author
    startColumn[count] = body.textStart
    endColumn[count] = body.textEnd
    // Fresh columns are zeros, and most messages have no media, event or file: only the rest are written.
    if (body.media !== 0) mediaKindColumn[count] = body.media
    if (body.event !== 0) eventColumn[count] = body.event
    if (body.fileEnd !== 0) {
      fileStartColumn[count] = body.fileStart
      fileEndColumn[count] = body.fileEnd
    }
    count++
  }

  const len = text.length
  let pos = 0
  // Where the look for carriage returns has reached: each chunk the loop has just walked (still in cache)
  // is searched, rather than the whole file beforehand.
  let checked = 0
  while (pos < len) {
    let nl = text.indexOf("\n", pos)
    if (nl === -1) nl = len
    let header = false
    let headerEnd = -1
    // The digit runs of the header: three date fields, hour, minute and maybe second.
    let k = 0
    if (mayStartHeader(text.charCodeAt(pos))) {
      // Most headers are read in one go; the regex settles the rest.
      if (readHeader !== null) headerEnd = readHeader(text, pos, fields)
      if (headerEnd !== -1) {
        header = true
        k = wanted
      } else {
        re.lastIndex = pos
        header = re.test(text)
        if (header) {
          headerEnd = re.lastIndex
          k = readFields(text, pos, headerEnd, wanted, fields)
        }
      }
    }
    if (header) {
      const afterDate = fields[AFTER_DATE_AT]!
      const hourAt = fields[HOUR_AT]!
      const afterTime = fields[AFTER_TIME_AT]!
      let year: number
      let a: number
      let b: number
      if (shape.yearPos === 2) {
        year = fields[2]!, a = fields[0]!, b = fields[1]!
      } else if (shape.yearPos === 0) {
        year = fields[0]!, a = fields[1]!, b = fields[2]!
      } else {
        year = fields[1]!, a = fields[0]!, b = fields[2]!
      }
      // Day and month never exceed 31: a larger value means this is not a date after all.
      if (k === wanted && a !== 0 && b !== 0 && a <= 31 && b <= 31) {
        if (open) close(pos)
        if (year < 100) year += 2000
        let hour = fields[3]!
        if (shape.ampm !== "none") {
          const from = shape.ampm === "suffix" ? afterTime : afterDate
          const to = shape.ampm === "suffix" ? headerEnd : hourAt
          const pm = pmAt(text, from, to)
          if (pm !== null) hour = pm ? (hour % 12) + 12 : hour % 12
          if (upperAmPm === null) {
            for (let j = from; j < to; j++) {
              const c = text.charCodeAt(j)
              if (c === 0x41 || c === 0x50) upperAmPm = text.charCodeAt(j + 1) === 0x4d
              if (c === 0x61 || c === 0x70 || c === 0x41 || c === 0x50) break
            }
          }
        }
        if (!locked && overA === 0 && overB === 0 && ((dayFirst && b > 12) || (!dayFirst && a > 12))) {
          // The first value over 12 contradicts the provisional order: switch, and fix what was made.
          dayFirst = !dayFirst
          for (let m = 0; m < count; m++) sentAtColumn[m] = swapDayMonth(sentAtColumn[m]!)
          if (open) openSentAt = swapDayMonth(openSentAt)
          lastDateKey = -1
        }
        // Counted without branches: an increment first reached thousands of lines in (the 13th of the first
        // month, the first new month) would otherwise send the optimised loop back to the interpreter.
        overA += a > 12 ? 1 : 0
        overB += b > 12 ? 1 : 0
        if (prevA !== -1) {
          changesA += a !== prevA ? 1 : 0
          changesB += b !== prevB ? 1 : 0
        }
        prevA = a
        prevB = b
        const dateKey = (year << 14) | (a << 7) | b
        if (dateKey !== lastDateKey) {
          lastDateKey = dateKey
          const day = dayFirst ? a : b
          const month = dayFirst ? b : a
          if (month > 12) impossible++
          dayMs = Date.UTC(year, month - 1, day)
        }
        openSentAt = dayMs + (hour * 3600 + fields[4]! * 60 + (hasSeconds ? fields[5]! : 0)) * 1000
        openHeaderEnd = headerEnd
        openLineEnd = nl
        // A recent author right after the header and followed by ": " is this message's: an author as
        // written holds no ": ", so that is the first one, found without a search.
        let id = -1
        const firstUnit = text.charCodeAt(headerEnd)
        for (let r = 0; r < recentRaw.length; r++) {
          const raw = recentRaw[r]!
          const after = headerEnd + raw.length
          if (
            raw.charCodeAt(0) === firstUnit && text.charCodeAt(after) === 0x3a && text.charCodeAt(after + 1) === 0x20 &&
            text.startsWith(raw, headerEnd)
          ) {
            id = recentId[r]!
            openBody = after + 2
            break
          }
        }
        if (id !== -1) openAuthor = id
        else {
          let colon = text.indexOf(": ", headerEnd)
          openBody = colon + 2
          if (colon === -1 || colon >= nl) {
            // "Name:" with an empty body ends its line with the only colon.
            colon = nl > headerEnd && text.charCodeAt(nl - 1) === 0x3a && text.indexOf(":", headerEnd) === nl - 1 ? nl - 1 : -1
            openBody = colon === -1 ? headerEnd : nl
          }
          openAuthor = colon === -1 ? -1 : authors.idOf(text, headerEnd, colon, nl)
        }
        open = true
      } else header = false
    }
    if (!header && !open && nl > pos && !isBlank(text.slice(pos, nl))) {
      unreadable++
      if (samples.length < MAX_SAMPLE) samples.push(text.slice(pos, Math.min(nl, pos + SAMPLE_CHARS)))
    }
    pos = nl + 1
    if (pos - checked >= CR_CHUNK) {
      if (text.slice(checked, pos).indexOf("\r") !== -1) return null
      checked = pos
    }
  }
  if (checked < len && text.slice(checked).indexOf("\r") !== -1) return null
  if (open) close(len)
  const names = doubtIndex.length === 0
    ? authors.names
    : settleDoubts(authors.names, spoke, { doubtIndex, doubtLineStart, doubtEvent }, {
      count,
      kind: kindColumn,
      author: authorColumn,
      textStart: startColumn,
      textEnd: endColumn,
      mediaKind: mediaKindColumn,
      event: eventColumn,
      fileStart: fileStartColumn,
      fileEnd: fileEndColumn
    })
  return {
    columns: {
      count,
      sentAt: sentAtColumn.subarray(0, count),
      kind: kindColumn.subarray(0, count),
      author: authorColumn.subarray(0, count),
      authors: names,
      source: text,
      textStart: startColumn.subarray(0, count),
      textEnd: endColumn.subarray(0, count),
      mediaKind: mediaKindColumn.subarray(0, count),
      event: eventColumn.subarray(0, count),
      fileStart: fileStartColumn.subarray(0, count),
      fileEnd: fileEndColumn.subarray(0, count)
    },
    dayFirst,
    overA,
    overB,
    changesA,
    changesB,
    upperAmPm: upperAmPm === true,
    unreadable,
    samples,
    impossible
  }
}
