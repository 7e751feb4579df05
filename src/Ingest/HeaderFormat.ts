/**
 * The header that starts each message ("12/03/22, 9:15 - ", "[3/6/18 1:55:00 p. m.] ", ...): its shape,
 * detected once from a sample of the file, the one regex compiled for it, and how it is described.
 */
/** The header families the report names: iOS's "[date, time] ", Android's "date, time - ", or another. */
export const headerShapes = ["ios-bracketed", "android-dash", "other"] as const
export type HeaderShape = (typeof headerShapes)[number]

const D = "[0-9\\u0660-\\u0669\\u06F0-\\u06F9]"
// Spaces that can sit inside a header; never a line break, so a sticky match cannot run into the next line.
const SP = "[ \\t\\u00A0\\u202F]"
const MARKS = "[\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069\\uFEFF]*"
const DIR = "[\\u200E\\u200F]?"
const AMPM = "(?:[AaPp]\\.?[ \\u00A0\\u202F]?[Mm]\\.?|vorm\\.|nachm\\.|午前|午後|上午|下午|오전|오후|ق\\.ظ|ب\\.ظ|ص|م)" +
  "(?![A-Za-z\\u00C0-\\u024F\\u0600-\\u06FF])"
// A short word between date and time: "klo", "um", "à", "at", "г.," and the like.
const FILLER = `[^\\d\\s\\[\\]:,.\\-]{1,8}\\.?,?${SP}+`
const AFTER_DATE = `\\.?[,،]?(?:${SP}|[\\u200E\\u200F])+`

// Groups: 1 "[", 2-5 date (2 field, 3 separator, 4 field, 5 field), 6 prefix am/pm, 7 hour,
// 8 time separator, 9 minute, 10 second, 11 suffix am/pm, 12 terminator.
const GENERIC = new RegExp(
  `${MARKS}(\\[)?${MARKS}(${D}{1,4})${DIR}([-/.])${SP}?${DIR}(${D}{1,4})${DIR}\\3${SP}?${DIR}(${D}{1,4})` +
    `${AFTER_DATE}(?:(${AMPM})${SP}?|${FILLER})?(${D}{1,2})([:.])(${D}{2})(?:\\8(${D}{2}))?` +
    `(?:${SP}?(${AMPM}))?${DIR}(\\]|${SP}[-–]|:)?${SP}`,
  "y"
)

type Terminator = "]" | "-" | ":" | " "
type AmPm = "none" | "prefix" | "suffix"

export interface Shape {
  readonly bracket: boolean
  readonly dateSep: string
  readonly yearPos: 0 | 1 | 2
  readonly fourDigitYear: boolean
  readonly timeSep: string
  readonly seconds: boolean
  readonly ampm: AmPm
  readonly terminator: Terminator
}

const shapeKey = (s: Shape): string =>
  `${s.bracket ? 1 : 0}|${s.dateSep}|${s.yearPos}|${s.timeSep}|${s.seconds ? 1 : 0}|${s.ampm}|${s.terminator}`

const escape = (c: string): string => (c === "." || c === "-" || c === "/" ? `\\${c}` : c)

const yearPosition = (a: string, b: string): 0 | 1 | 2 =>
  a.length >= 3 ? 0 : b.length >= 3 ? 1 : 2

const shapeOf = (m: RegExpExecArray): Shape => {
  const term = m[12]
  return {
    bracket: m[1] !== undefined,
    dateSep: m[3] ?? "/",
    yearPos: yearPosition(m[2] ?? "", m[4] ?? ""),
    fourDigitYear: [m[2], m[4], m[5]].some((f) => f !== undefined && f.length >= 3),
    timeSep: m[8] ?? ":",
    seconds: m[10] !== undefined,
    ampm: m[6] !== undefined ? "prefix" : m[11] !== undefined ? "suffix" : "none",
    terminator: term === undefined ? " " : term === "]" ? "]" : term === ":" ? ":" : "-"
  }
}

export interface CompiledShape {
  readonly shape: Shape
  readonly re: RegExp
}

/**
 * The one regex used for the whole file: only this shape's headers start a message. It has no capture
 * groups: it is only tested, and the fields are then read from the matched span by char codes, which
 * spares an array and a handful of strings per line.
 */
const compile = (shape: Shape): CompiledShape => {
  const sep = escape(shape.dateSep)
  const tsep = escape(shape.timeSep)
  let src = MARKS + (shape.bracket ? `\\[${MARKS}` : "")
  src += `${D}{1,4}${DIR}${sep}${SP}?${DIR}${D}{1,4}${DIR}${sep}${SP}?${DIR}${D}{1,4}${AFTER_DATE}`
  src += shape.ampm === "prefix" ? `${AMPM}${SP}?` : `(?:${FILLER})?`
  src += `${D}{1,2}${tsep}${D}{2}`
  if (shape.seconds) src += `${tsep}${D}{2}`
  if (shape.ampm === "suffix") src += `${SP}?${AMPM}`
  src += DIR
  src += shape.terminator === "]" ? "\\]" : shape.terminator === "-" ? `${SP}[-–]` : shape.terminator === ":" ? ":" : ""
  src += SP
  return { shape, re: new RegExp(src, "y") }
}

export const isDigit = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x660 && c <= 0x669) || (c >= 0x6f0 && c <= 0x6f9)

export const digitValue = (c: number): number => (c <= 0x39 ? c - 0x30 : c <= 0x669 ? c - 0x660 : c - 0x6f0)

/**
 * Where a header's parts are, as `readFields` and a `HeaderReader` write them in the same array after
 * its six values (the three date fields in the shape's order, hour, minute, second).
 */
export const AFTER_DATE_AT = 6
export const HOUR_AT = 7
export const AFTER_TIME_AT = 8

/**
 * The digit runs of the header `text[pos, headerEnd)` (one the shape's regex matched): three date fields,
 * hour, minute and maybe second into `fields`, with where the date ends, the hour starts and the time
 * ends. Returns how many runs were read (at most `wanted`).
 */
export const readFields = (text: string, pos: number, headerEnd: number, wanted: number, fields: Int32Array): number => {
  let k = 0
  let i = pos
  fields[AFTER_DATE_AT] = pos
  fields[HOUR_AT] = pos
  while (i < headerEnd && k < wanted) {
    let c = text.charCodeAt(i)
    if (!isDigit(c)) {
      i++
      continue
    }
    if (k === 3) fields[HOUR_AT] = i
    let v = 0
    while (i < headerEnd && isDigit(c)) {
      v = v * 10 + digitValue(c)
      c = text.charCodeAt(++i)
    }
    fields[k++] = v
    if (k === 3) fields[AFTER_DATE_AT] = i
  }
  fields[AFTER_TIME_AT] = i
  return k
}

/** The units SP stands for. */
const isSpaceUnit = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0xa0 || c === 0x202f

/**
 * Reads a header at `pos` as `readFields` does and returns its end, or -1 when the line does not start
 * with one in the plain form (the shape's regex then decides).
 */
export type HeaderReader = (text: string, pos: number, fields: Int32Array) => number

/**
 * A reader of the headers of `shape` as WhatsApp writes nearly all of them: ASCII digits, no direction
 * marks, no space inside the date, only a dot, comma and spaces between date and time, an "AM"/"p. m."
 * suffix at most. It takes the regex's own first choice at every step (the longest digit run, an
 * optional unit when present) and gives up wherever the regex might choose otherwise, so a header it
 * reads is one the regex matches, to the same end, with the same fields. It reads each unit once, where
 * the regex and then `readFields` read the header twice. Null for am/pm before the time (rare shapes).
 */
export const headerReader = (shape: Shape): HeaderReader | null => {
  if (shape.ampm === "prefix") return null
  const bracket = shape.bracket
  const dateSep = shape.dateSep.charCodeAt(0)
  const timeSep = shape.timeSep.charCodeAt(0)
  const seconds = shape.seconds
  const suffix = shape.ampm === "suffix"
  const terminator = shape.terminator
  return (text, pos, fields) => {
    let i = pos
    if (bracket) {
      if (text.charCodeAt(i) !== 0x5b /* [ */) return -1
      i++
    }
    // Three date fields of one to four digits, the shape's separator between them.
    for (let f = 0; f < 3; f++) {
      let v = 0
      const from = i
      let d = text.charCodeAt(i) - 0x30
      while (d >= 0 && d <= 9) {
        v = v * 10 + d
        d = text.charCodeAt(++i) - 0x30
      }
      if (i === from || i - from > 4) return -1
      fields[f] = v
      if (f < 2) {
        if (text.charCodeAt(i) !== dateSep) return -1
        i++
      }
    }
    fields[AFTER_DATE_AT] = i
    // "\.?[,،]?" then spaces (or marks), all of them; then the hour must follow at once.
    if (text.charCodeAt(i) === 0x2e) i++
    let c = text.charCodeAt(i)
    if (c === 0x2c || c === 0x60c) c = text.charCodeAt(++i)
    const spaces = i
    while (isSpaceUnit(c) || c === 0x200e || c === 0x200f) c = text.charCodeAt(++i)
    if (i === spaces) return -1
    fields[HOUR_AT] = i
    // Hour (one or two digits), minute and maybe second (two each), the time separator between them.
    const last = seconds ? 5 : 4
    for (let f = 3; f <= last; f++) {
      if (f > 3) {
        if (text.charCodeAt(i) !== timeSep) return -1
        i++
      }
      const from = i
      let v = 0
      let d = text.charCodeAt(i) - 0x30
      while (d >= 0 && d <= 9) {
        v = v * 10 + d
        d = text.charCodeAt(++i) - 0x30
      }
      const digits = i - from
      if (digits === 0 || digits > 2 || (f > 3 && digits !== 2)) return -1
      fields[f] = v
    }
    fields[AFTER_TIME_AT] = i
    c = text.charCodeAt(i)
    if (suffix) {
      // "SP?" then "[AaPp]\.?[ \u00A0\u202F]?[Mm]\.?", not followed by a letter.
      if (isSpaceUnit(c)) c = text.charCodeAt(++i)
      if (c !== 0x41 && c !== 0x61 && c !== 0x50 && c !== 0x70) return -1
      c = text.charCodeAt(++i)
      if (c === 0x2e) c = text.charCodeAt(++i)
      if (c === 0x20 || c === 0xa0 || c === 0x202f) c = text.charCodeAt(++i)
      if (c !== 0x4d && c !== 0x6d) return -1
      c = text.charCodeAt(++i)
      if (c === 0x2e) c = text.charCodeAt(++i)
      if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && c <= 0x24f) || (c >= 0x600 && c <= 0x6ff)) return -1
    }
    // The terminator, without a direction mark before it, then one space.
    if (terminator === "-") {
      if (!isSpaceUnit(c)) return -1
      c = text.charCodeAt(++i)
      if (c !== 0x2d && c !== 0x2013) return -1
      c = text.charCodeAt(++i)
    } else if (terminator === "]") {
      if (c !== 0x5d) return -1
      c = text.charCodeAt(++i)
    } else if (terminator === ":") {
      if (c !== 0x3a) return -1
      c = text.charCodeAt(++i)
    }
    if (!isSpaceUnit(c)) return -1
    return i + 1
  }
}

/**
 * Whether the am/pm token in `text[from, to)` means afternoon; the first letter decides (p, nachm.,
 * 午後, 下午, 오후, م, ب.ظ are afternoon), and spaces, dots and commas before it are skipped.
 */
export const pmAt = (text: string, from: number, to: number): boolean | null => {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i)
    switch (c) {
      case 0x70: case 0x50: case 0x6e: case 0x4e0b: case 0x0645: case 0x0628:
        return true
      case 0x61: case 0x41: case 0x76: case 0x4e0a: case 0x0635: case 0x0642:
        return false
      case 0x5348: // 午: 午後 is afternoon, 午前 morning
        return text.charCodeAt(i + 1) === 0x5f8c
      case 0xc624: // 오: 오후 is afternoon, 오전 morning
        return text.charCodeAt(i + 1) === 0xd6c4
    }
  }
  return null
}

/** Whether a line can begin with a header at all: a cheap test before running the regex. */
export const mayStartHeader = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || c === 0x5b || c === 0x200e || c === 0x200f || c === 0xfeff ||
  (c >= 0x660 && c <= 0x669) || (c >= 0x6f0 && c <= 0x6f9) || (c >= 0x202a && c <= 0x202e) ||
  (c >= 0x2066 && c <= 0x2069)

const SAMPLE_HEAD = 1000
const SAMPLE_SPREAD = 1000

export interface Detection {
  readonly compiled: CompiledShape
  readonly matched: number
  readonly sampled: number
  /** How many sampled headers of the shape have a value over 12 in the first / second day-month field. */
  readonly overA: number
  readonly overB: number
}

const digitsValue = (s: string | undefined): number => {
  let v = 0
  if (s !== undefined) for (let i = 0; i < s.length; i++) v = v * 10 + digitValue(s.charCodeAt(i))
  return v
}

/**
 * Scores candidate shapes on a sample of lines (the first ones, plus lines spread over the whole file)
 * and keeps the most frequent. Null when too few lines look like headers for the text to be a chat.
 */
export const detectShape = (text: string): Detection | null => {
  const counts = new Map<string, { shape: Shape; count: number; overA: number; overB: number }>()
  let sampled = 0
  let firstLineKey: string | null = null
  let seenNonEmpty = false
  const tryLine = (pos: number): void => {
    let end = text.indexOf("\n", pos)
    if (end === -1) end = text.length
    if (end === pos) return
    sampled++
    let key: string | null = null
    if (mayStartHeader(text.charCodeAt(pos))) {
      GENERIC.lastIndex = pos
      const m = GENERIC.exec(text)
      if (m !== null && GENERIC.lastIndex <= end + 1) {
        const shape = shapeOf(m)
        key = shapeKey(shape)
        const [a, b] = shape.yearPos === 0 ? [m[4], m[5]] : shape.yearPos === 1 ? [m[2], m[5]] : [m[2], m[4]]
        const overA = digitsValue(a) > 12 ? 1 : 0
        const overB = digitsValue(b) > 12 ? 1 : 0
        const entry = counts.get(key)
        if (entry === undefined) counts.set(key, { shape, count: 1, overA, overB })
        else {
          entry.count++
          entry.overA += overA
          entry.overB += overB
        }
      }
    }
    if (!seenNonEmpty) {
      seenNonEmpty = true
      firstLineKey = key
    }
  }
  let pos = 0
  let lines = 0
  while (pos < text.length && lines < SAMPLE_HEAD) {
    tryLine(pos)
    lines++
    const nl = text.indexOf("\n", pos)
    pos = nl === -1 ? text.length : nl + 1
  }
  if (pos < text.length) {
    const rest = text.length - pos
    const step = Math.max(1, Math.floor(rest / SAMPLE_SPREAD))
    for (let at = pos; at < text.length; at += step) {
      const nl = text.indexOf("\n", at)
      if (nl === -1) break
      if (nl + 1 < text.length) tryLine(nl + 1)
    }
  }
  let best: { shape: Shape; count: number; overA: number; overB: number } | null = null
  for (const entry of counts.values()) if (best === null || entry.count > best.count) best = entry
  if (best === null) return null
  // A chat's first line is a header; failing that, a real chat still has headers on a good share of
  // its lines even when its messages are long.
  const firstIsHeader = firstLineKey === shapeKey(best.shape)
  if (!firstIsHeader && best.count / sampled < 0.1) return null
  return { compiled: compile(best.shape), matched: best.count, sampled, overA: best.overA, overB: best.overB }
}

export const shapeName = (shape: Shape): HeaderShape =>
  shape.bracket ? "ios-bracketed" : shape.terminator === "-" ? "android-dash" : "other"

/** E.g. "[d/m/yy, H:MM:SS] (ios-bracketed)" or "m/d/yyyy, H:MM AM/PM - (android-dash)". */
export const describeFormat = (shape: Shape, dayFirst: boolean): string => {
  const year = shape.fourDigitYear ? "yyyy" : "yy"
  const [first, second] = dayFirst ? ["d", "m"] : ["m", "d"]
  const fields = shape.yearPos === 0 ? [year, first, second] : shape.yearPos === 1 ? [first, year, second] : [first, second, year]
  let time = `H${shape.timeSep}MM${shape.seconds ? `${shape.timeSep}SS` : ""}`
  if (shape.ampm === "prefix") time = `AM/PM ${time}`
  if (shape.ampm === "suffix") time = `${time} AM/PM`
  const stamp = `${fields.join(shape.dateSep)}, ${time}`
  const written = shape.bracket
    ? `[${stamp}]`
    : shape.terminator === "-"
    ? `${stamp} -`
    : shape.terminator === ":"
    ? `${stamp}:`
    : stamp
  return `${written} (${shapeName(shape)})`
}
