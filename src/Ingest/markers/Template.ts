/**
 * A marker of the reference table turned into what the matchers need: an anchored regex whose groups are
 * its placeholders, and the literal characters at its start and end, by which a line is let through to
 * the regex at all (a cheap gate: most lines share no head or tail with any marker).
 */

/** Invisible direction marks WhatsApp puts around names and markers (LRM, RLM, embeddings, isolates). */
export const isDirectionMark = (c: number): boolean =>
  c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)

const MARKS = "[\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069]*"
const SPACE = "[ \\u00A0\\u202F]"
// Exports and string tables disagree on straight and typographic quotes around subjects and names.
const QUOTES = "[\"“”„«»]"
const isQuote = (c: number): boolean =>
  c === 0x22 || c === 0x201c || c === 0x201d || c === 0x201e || c === 0xab || c === 0xbb

// A person's name or number never holds a colon: so a line "Name: text" cannot pass for "{name} left".
const NAME = "([^:\\n]+?)"
const TEXT = "([^\\n]+?)"
const placeholderSource: Readonly<Record<string, string>> = {
  name: NAME, name2: NAME, names: NAME, old: NAME, new: NAME, phone: NAME,
  subject: TEXT, community: TEXT, question: TEXT, option: TEXT, message: TEXT, duration: TEXT,
  doc_name: TEXT, venue: TEXT, address: TEXT, file: TEXT,
  url: "(\\S+)", id: "(\\S+)", N: "(\\d+)", NNNNNNNN: "(\\d+)", date: "([\\d-]+)",
  lat: "(-?\\d+(?:\\.\\d+)?)", lon: "(-?\\d+(?:\\.\\d+)?)"
}

/**
 * Folds a UTF-16 unit for the head and tail gates: ASCII, Latin-1 and Cyrillic capitals to lower case,
 * every quote to `"`. Both the markers and the lines are folded the same way.
 */
export const foldUnit = (c: number): number => {
  if (c >= 0x41 && c <= 0x5a) return c + 32
  if (c < 0xab) return c
  if (isQuote(c)) return 0x22
  if ((c >= 0xc0 && c <= 0xde && c !== 0xd7) || (c >= 0x410 && c <= 0x42f)) return c + 32
  if (c >= 0x400 && c <= 0x40f) return c + 80
  return c
}

export interface Template {
  /** Anchored source: leading marks, the text, an optional final dot, trailing marks. */
  readonly source: string
  /** The placeholder of each capture group, in order. */
  readonly groups: ReadonlyArray<string>
  /** Up to two folded literal units at the start (after leading marks) and at the end (before a final dot); "" when a placeholder stands there. */
  readonly head: string
  readonly tail: string
  /** The whole literal runs those come from, as written: up to the first placeholder, space or mark from each end. */
  readonly headRun: string
  readonly tailRun: string
  /** Literal units in the marker: the more, the more specific. */
  readonly literal: number
  /** One literal unit every matching line holds, rare in ordinary text (see `needleOf`), or "". */
  readonly needle: string
  /** The longest run of literal letters every matching line holds as written (for case-sensitive matching). */
  readonly word: string
}

/** The longest run of a marker's literal text without spaces, marks or quotes (which vary). */
const wordOf = (core: string): string => {
  let best = ""
  for (const run of core.split(/\{[A-Za-z0-9_]+\}|[\s\u00A0\u202F\u200E\u200F\u202A-\u202E\u2066-\u2069"“”„«»]/)) {
    if (run.length > best.length) best = run
  }
  return best
}

/**
 * The unit of a marker's literal text least likely in ordinary text: its highest non-ASCII unit that is
 * no direction mark, space or quote (those are optional or interchangeable), else a bracket, colon or dot.
 * Only a unit without case will do: the needle gates case-insensitive regexes.
 */
const needleOf = (literals: string): string => {
  let best = 0
  for (let i = 0; i < literals.length; i++) {
    const c = literals.charCodeAt(i)
    if (c >= 0x80 && !isDirectionMark(c) && !isQuote(c) && c !== 0xa0 && c !== 0x202f && c > best) {
      const ch = String.fromCharCode(c)
      if (ch.toLowerCase() === ch.toUpperCase()) best = c
    }
  }
  if (best > 0) return String.fromCharCode(best)
  for (const ch of "(<:•.") if (literals.includes(ch)) return ch
  return ""
}

/** The literal run at one end of `text` (already without its leading marks and final dot), as written. */
const runAt = (text: string, fromStart: boolean): string => {
  let k = 0
  for (; k < text.length; k++) {
    const c = text.charCodeAt(fromStart ? k : text.length - 1 - k)
    if (c === 0x7b /* { */ && fromStart) break
    if (c === 0x7d /* } */ && !fromStart) break
    if (isDirectionMark(c) || c === 0x20 || c === 0xa0 || c === 0x202f) break
  }
  return fromStart ? text.slice(0, k) : text.slice(text.length - k)
}

/** The first (or last) two units of a run, folded. */
const foldedEnd = (run: string, fromStart: boolean): string => {
  const part = fromStart ? run.slice(0, 2) : run.slice(-2)
  let out = ""
  for (let i = 0; i < part.length; i++) out += String.fromCharCode(foldUnit(part.charCodeAt(i)))
  return out
}

/**
 * Whether a case-insensitive (non-Unicode) regex's literal `c` matches only units that fold as `c` does,
 * so comparing folded units can stand in for it: ASCII, Latin-1 letters, and units without case. Checked
 * against every UTF-16 unit; Cyrillic is left out, as В, Д, О, С, Т and Ъ also match rare variant letters.
 */
export const foldsExactly = (c: number): boolean => {
  if (c < 0x80 || (c >= 0xc0 && c <= 0xfe)) return true
  const ch = String.fromCharCode(c)
  return ch.toLowerCase() === ch && ch.toUpperCase() === ch
}

const escapeUnit = (ch: string): string => (/[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch)

/** The pattern source of a literal run: marks optional, any space kind, any quote kind. */
const literalSource = (text: string): string => {
  let src = ""
  let inMarks = false
  for (const ch of text) {
    const c = ch.charCodeAt(0)
    if (isDirectionMark(c)) {
      if (!inMarks) src += MARKS
      inMarks = true
      continue
    }
    inMarks = false
    src += c === 0x20 || c === 0xa0 || c === 0x202f ? SPACE : isQuote(c) ? QUOTES : escapeUnit(ch)
  }
  return src
}

/** Strips leading direction marks and one final dot (versions differ in both). */
export const coreOf = (text: string): string => {
  let start = 0
  while (start < text.length && isDirectionMark(text.charCodeAt(start))) start++
  let stop = text.length
  while (stop > start && isDirectionMark(text.charCodeAt(stop - 1))) stop--
  if (stop > start && text.charCodeAt(stop - 1) === 0x2e) stop--
  return text.slice(start, stop)
}

/** Whether a marker text has a placeholder. */
export const hasPlaceholder = (text: string): boolean => /\{[A-Za-z0-9_]+\}/.test(text)

/** Compiles a marker text with placeholders. */
export const templateOf = (text: string): Template => {
  const core = coreOf(text)
  const groups: Array<string> = []
  let body = ""
  let literal = 0
  let last = 0
  for (const m of core.matchAll(/\{([A-Za-z0-9_]+)\}/g)) {
    const run = core.slice(last, m.index)
    body += literalSource(run)
    literal += run.length
    const name = m[1]!
    body += placeholderSource[name] ?? TEXT
    groups.push(name)
    last = m.index + m[0].length
  }
  const rest = core.slice(last)
  body += literalSource(rest)
  literal += rest.length
  const literals = core.replace(/\{[A-Za-z0-9_]+\}/g, "")
  const headRun = runAt(core, true)
  const tailRun = runAt(core, false)
  return {
    source: `^${MARKS}${body}\\.?${MARKS}$`,
    groups,
    head: foldedEnd(headRun, true),
    tail: foldedEnd(tailRun, false),
    headRun,
    tailRun,
    literal,
    needle: needleOf(literals),
    word: wordOf(core)
  }
}

/** The source of a fragment of a marker (no anchors), for patterns built from parts of markers. */
export const fragmentSource = (text: string): string => {
  let body = ""
  let last = 0
  for (const m of text.matchAll(/\{([A-Za-z0-9_]+)\}/g)) {
    body += literalSource(text.slice(last, m.index))
    body += (placeholderSource[m[1]!] ?? TEXT).replace("(", "(?:")
    last = m.index + m[0].length
  }
  return body + literalSource(text.slice(last))
}
