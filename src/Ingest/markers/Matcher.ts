/**
 * A set of markers compiled for one question ("is this line one of them, and which?"): fixed texts in one
 * Map, markers with placeholders as regexes reached through the literal units at their start or end, so
 * a line that shares no head or tail with a marker costs a few integer lookups and no regex.
 */
import * as Template from "./Template.js"

// Bound once: a transpiled module's import can be a getter call on every use, and these run per line.
const foldUnit = Template.foldUnit
const isDirectionMark = Template.isDirectionMark
const coreOf = Template.coreOf
const templateOf = Template.templateOf

export interface Pattern<M> {
  /** A literal unit the line must hold (a non-ASCII one, else a bracket, colon or dot), or "" for none. */
  readonly needle: string
  readonly re: RegExp
  readonly groups: ReadonlyArray<string>
  readonly meaning: M
  readonly literal: number
}

export interface Hit<M> {
  readonly meaning: M
  /** The regex match (group i + 1 is placeholder `groups[i]`); null for a fixed text. */
  readonly match: RegExpExecArray | null
  readonly groups: ReadonlyArray<string>
}

const isGap = (c: number): boolean => isDirectionMark(c) || c === 0x20 || c === 0xa0 || c === 0x202f

const key2 = (a: number, b: number): number => a * 0x10000 + b
const pairIndex = (a: number, b: number): number => ((a & 0xff) << 8) | (b & 0xff)

/** Devanagari, Bengali and the other Indic blocks. */
const INDIC = /[\u0900-\u0dff]/

const holdsUnit = (source: string, start: number, end: number, unit: number): boolean => {
  for (let i = start; i < end; i++) if (source.charCodeAt(i) === unit) return true
  return false
}

const lineOf = (source: string, start: number, end: number): string =>
  start === 0 && end === source.length ? source : source.slice(start, end)

/** A 16-bit hash of a text's length, first and last unit. */
const shapeKey = (length: number, first: number, last: number): number =>
  (Math.imul(length, 0x9e3779b1) ^ Math.imul(first, 0x85ebca6b) ^ Math.imul(last, 0xc2b2ae35)) >>> 16

const bucketOf = <M>(map: Map<number, Array<Pattern<M>>>, key: number): Array<Pattern<M>> => {
  let list = map.get(key)
  if (list === undefined) {
    list = []
    map.set(key, list)
  }
  return list
}

/** The first letter upper-cased, after a "<" if the marker starts with one ("<Médias omis>"). */
const capitalised = (text: string): string => {
  const at = text.startsWith("<") ? 1 : 0
  return text.slice(0, at) + text.charAt(at).toUpperCase() + text.slice(at + 1)
}

export class Matcher<M> {
  /**
   * `caseSensitive`: markers match only as written (system events, which WhatsApp alone writes), so a word
   * of the marker gates its regex; otherwise case is ignored (media placeholders, which parser lists and
   * exports spell in either case) and only a caseless unit can gate.
   */
  constructor(private readonly caseSensitive: boolean) {}

  private readonly exact = new Map<string, M>()
  private readonly head1 = new Map<number, Array<Pattern<M>>>()
  private readonly head2 = new Map<number, Array<Pattern<M>>>()
  private readonly tail1 = new Map<number, Array<Pattern<M>>>()
  private readonly tail2 = new Map<number, Array<Pattern<M>>>()
  /** Markers with a placeholder at both ends: tried last, the last one that matched first. */
  private readonly middle: Array<Pattern<M>> = []
  private maxExact = 0
  /** Length, first and last unit of every fixed text, hashed into a bitmap: most lines fail this before their string is hashed. */
  private readonly exactShapes = new Uint8Array(0x10000)
  /**
   * Bitmaps in front of the bucket Maps, so most lines cost array reads: per folded unit, bit 1 when a
   * marker ends with it alone, bit 2 when one starts with it alone; per pair of units (low bytes), bit 1
   * when a marker ends with such a pair, bit 2 when one starts with it.
   */
  private readonly units = new Uint8Array(0x10000)
  private readonly pairs = new Uint8Array(0x10000)

  /**
   * A fixed text, kept as written and with/without its final dot; `cased` also adds the lower-case and
   * capitalised spellings (exports and parser lists disagree on the case of placeholders).
   */
  addExact(text: string, meaning: M, cased: boolean): void {
    // As written and composed; decomposed too for Indic scripts, whose sources differ in composition
    // (Bengali, Hindi's nukta letters). Exports of other scripts are composed.
    const core = coreOf(text)
    const variants = new Set([core, core.normalize("NFC")])
    if (INDIC.test(core)) variants.add(core.normalize("NFD"))
    if (cased) for (const v of [...variants]) variants.add(v.toLowerCase()).add(capitalised(v.toLowerCase()))
    for (const v of variants) {
      for (const spelled of [v, `${v}.`]) {
        if (!this.exact.has(spelled)) this.exact.set(spelled, meaning)
        this.maxExact = Math.max(this.maxExact, spelled.length)
        this.exactShapes[shapeKey(spelled.length, spelled.charCodeAt(0), spelled.charCodeAt(spelled.length - 1))] = 1
      }
    }
  }

  /** A marker with placeholders, as written and in the normal forms its script's sources disagree on. */
  addPattern(text: string, meaning: M): void {
    const forms = new Set([text, text.normalize("NFC")])
    if (INDIC.test(text)) forms.add(text.normalize("NFD"))
    for (const form of forms) this.addTemplate(templateOf(form), meaning)
  }

  private addTemplate(t: Template.Template, meaning: M): void {
    const pattern: Pattern<M> = this.caseSensitive
      ? { needle: t.word, re: new RegExp(t.source, "d"), groups: t.groups, meaning, literal: t.literal }
      : { needle: t.needle, re: new RegExp(t.source, "id"), groups: t.groups, meaning, literal: t.literal }
    const place = (list: Array<Pattern<M>>) => {
      if (list.some((p) => p.re.source === pattern.re.source)) return
      list.push(pattern)
      list.sort((a, b) => b.literal - a.literal)
    }
    const ends = t.tail.length > 0 ? t.tail : t.head
    const bit = t.tail.length > 0 ? 1 : 2
    if (ends.length === 2) {
      this.pairs[pairIndex(ends.charCodeAt(0), ends.charCodeAt(1))]! |= bit
      place(bucketOf(bit === 1 ? this.tail2 : this.head2, key2(ends.charCodeAt(0), ends.charCodeAt(1))))
    } else if (ends.length === 1) {
      this.units[ends.charCodeAt(0)]! |= bit
      place(bucketOf(bit === 1 ? this.tail1 : this.head1, ends.charCodeAt(0)))
    } else {
      place(this.middle)
    }
  }

  /** The meaning of `line` when it is one of the fixed texts (leading marks and final dot tolerated). */
  exactOf(line: string): M | undefined {
    return this.exactIn(line, 0, line.length)
  }

  /** `exactOf` for `source[start, end)`, slicing only a candidate. */
  private exactIn(source: string, start: number, end: number): M | undefined {
    let from = start
    while (from < end && isDirectionMark(source.charCodeAt(from))) from++
    if (from === end || end - from > this.maxExact) return undefined
    if (this.exactShapes[shapeKey(end - from, source.charCodeAt(from), source.charCodeAt(end - 1))] === 0) return undefined
    return this.exact.get(from === 0 && end === source.length ? source : source.slice(from, end))
  }

  /** Which marker `line` (one line, no line break) is, or null. */
  match(line: string): Hit<M> | null {
    return this.matchIn(line, 0, line.length)
  }

  /**
   * Which marker the line `source[start, end)` is, or null. The line is read by char codes and sliced
   * only when a fixed text or a marker's head or tail could match it: most lines allocate nothing.
   */
  matchIn(source: string, start: number, end: number): Hit<M> | null {
    const exact = this.exactIn(source, start, end)
    if (exact !== undefined) return { meaning: exact, match: null, groups: [] }
    let stop = end
    while (stop > start && isDirectionMark(source.charCodeAt(stop - 1))) stop--
    if (stop > start && source.charCodeAt(stop - 1) === 0x2e) stop--
    if (stop > start) {
      const last = source.charCodeAt(stop - 1)
      if (!isGap(last)) {
        const t1 = foldUnit(last)
        const before = stop - 1 > start ? source.charCodeAt(stop - 2) : 0x20
        if (!isGap(before)) {
          const t0 = foldUnit(before)
          if ((this.pairs[pairIndex(t0, t1)]! & 1) !== 0) {
            const hit = this.tryList(this.tail2.get(key2(t0, t1)), source, start, end)
            if (hit !== null) return hit
          }
        }
        if ((this.units[t1]! & 1) !== 0) {
          const hit = this.tryList(this.tail1.get(t1), source, start, end)
          if (hit !== null) return hit
        }
      }
    }
    let from = start
    while (from < end && isDirectionMark(source.charCodeAt(from))) from++
    if (from < end) {
      const first = source.charCodeAt(from)
      if (!isGap(first)) {
        const h1 = foldUnit(first)
        const next = from + 1 < end ? source.charCodeAt(from + 1) : 0x20
        if (!isGap(next)) {
          const h2 = foldUnit(next)
          if ((this.pairs[pairIndex(h1, h2)]! & 2) !== 0) {
            const hit = this.tryList(this.head2.get(key2(h1, h2)), source, start, end)
            if (hit !== null) return hit
          }
        }
        if ((this.units[h1]! & 2) !== 0) {
          const hit = this.tryList(this.head1.get(h1), source, start, end)
          if (hit !== null) return hit
        }
      }
    }
    const middle = this.middle
    const text = middle.length > 0 ? lineOf(source, start, end) : ""
    for (let i = 0; i < middle.length; i++) {
      const p = middle[i]!
      if (p.needle !== "" && text.indexOf(p.needle) === -1) continue
      const m = p.re.exec(text)
      if (m !== null) {
        // Chats repeat the same few events: the one that matched is tried first next time.
        if (i > 0) {
          middle.splice(i, 1)
          middle.unshift(p)
        }
        return { meaning: p.meaning, match: m, groups: p.groups }
      }
    }
    return null
  }

  /** The first pattern of `list` the line `source[start, end)` matches; sliced only once a needle is found. */
  private tryList(list: ReadonlyArray<Pattern<M>> | undefined, source: string, start: number, end: number): Hit<M> | null {
    if (list === undefined) return null
    let line: string | null = null
    // Patterns of a bucket mostly share their needle: the last answer is kept.
    let askedUnit = -1
    let held = false
    for (const p of list) {
      if (p.needle.length === 1) {
        const unit = p.needle.charCodeAt(0)
        if (unit !== askedUnit) {
          askedUnit = unit
          held = holdsUnit(source, start, end, unit)
        }
        if (!held) continue
      } else if (p.needle !== "" && (line ??= lineOf(source, start, end)).indexOf(p.needle) === -1) continue
      const m = p.re.exec((line ??= lineOf(source, start, end)))
      if (m !== null) return { meaning: p.meaning, match: m, groups: p.groups }
    }
    return null
  }
}
