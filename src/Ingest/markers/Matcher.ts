/**
 * A set of markers compiled for one question ("is this line one of them, and which?"): fixed texts in
 * buckets by length and end units, markers with placeholders as regexes reached through the literal units
 * at their start or end, so a line that shares no head or tail with a marker costs a few array reads and
 * no regex, Map or string.
 */
import * as Template from "./Template.js"

// Bound once: a transpiled module's import can be a getter call on every use, and these run per line.
const foldUnit = Template.foldUnit
const isDirectionMark = Template.isDirectionMark
const foldsExactly = Template.foldsExactly
const coreOf = Template.coreOf
const templateOf = Template.templateOf

export interface Pattern<M> {
  /** A literal unit the line must hold (a non-ASCII one, else a bracket, colon or dot), or "" for none. */
  readonly needle: string
  readonly re: RegExp
  readonly groups: ReadonlyArray<string>
  readonly meaning: M
  readonly literal: number
  /**
   * The folded literal run at the end the pattern is reached by, which the line must show at that end:
   * -1 where a unit may stand in cases that do not fold alike (see `Template.foldsExactly`).
   */
  readonly edge: Int32Array
}

export interface Hit<M> {
  readonly meaning: M
  /** The regex match (group i + 1 is placeholder `groups[i]`); null for a fixed text. */
  readonly match: RegExpExecArray | null
  readonly groups: ReadonlyArray<string>
}

/** The patterns reached by one pair (or one unit) at an end of the line, the most literal first. */
interface Bucket<M> {
  readonly patterns: Array<Pattern<M>>
  /**
   * For a pair: the folded units the patterns' edges hold next to it, when every edge holds one there
   * (a line with another unit there is none of them); else null.
   */
  next: Int32Array | null
}

/** A fixed text and the answer for it, made once (callers only read a hit). */
interface Fixed<M> {
  readonly text: string
  readonly meaning: M
  readonly hit: Hit<M>
}

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

/**
 * The folded units the edges of `patterns` hold next to their pair (the third from the start of a head,
 * from the end of a tail), or null when one has none there or one that may stand in either case.
 */
const nextUnits = <M>(patterns: ReadonlyArray<Pattern<M>>, atHead: boolean): Int32Array | null => {
  const units: Array<number> = []
  for (const p of patterns) {
    const edge = p.edge
    const unit = edge.length >= 3 ? edge[atHead ? 2 : edge.length - 3]! : -1
    if (unit === -1) return null
    if (!units.includes(unit)) units.push(unit)
  }
  return Int32Array.from(units)
}

const bucketOf = <K, V>(map: Map<K, Array<V>>, key: K): Array<V> => {
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

/** Whether `source` shows the folded units of `edge` from `at` on (-1 takes any unit). */
const showsEdge = (source: string, at: number, edge: Int32Array): boolean => {
  for (let k = 0; k < edge.length; k++) {
    const unit = edge[k]!
    if (unit !== -1 && foldUnit(source.charCodeAt(at + k)) !== unit) return false
  }
  return true
}

// Bits of `pairs`, read with the line's two first and two last folded units (low bytes): a pattern may end
// with the pair, start with it, end with its second unit alone, start with its first unit alone.
const TAIL_PAIR = 1
const HEAD_PAIR = 2
const TAIL_UNIT = 4
const HEAD_UNIT = 8

export class Matcher<M> {
  /**
   * `caseSensitive`: markers match only as written (system events, which WhatsApp alone writes), so a word
   * of the marker gates its regex; otherwise case is ignored (media placeholders, which parser lists and
   * exports spell in either case) and only a caseless unit can gate.
   */
  constructor(private readonly caseSensitive: boolean) {}

  /** Every fixed text once (the first meaning given wins), for building. */
  private readonly exact = new Map<string, M>()
  /** The fixed texts by `shapeKey`: a line is compared in place with the few of its length and ends. */
  private readonly fixed = new Map<number, Array<Fixed<M>>>()
  private readonly head1 = new Map<number, Bucket<M>>()
  private readonly head2 = new Map<number, Bucket<M>>()
  private readonly tail1 = new Map<number, Bucket<M>>()
  private readonly tail2 = new Map<number, Bucket<M>>()
  /** Markers with a placeholder at both ends: tried last, the last one that matched first. */
  private readonly middle: Array<Pattern<M>> = []
  private maxExact = 0
  /** Length, first and last unit of every fixed text, hashed into a bitmap: most lines fail this at once. */
  private readonly exactShapes = new Uint8Array(0x10000)
  /**
   * Bitmaps in front of the bucket Maps, so most lines cost array reads: `pairs` by the low bytes of two
   * folded units (the bits above), `units` per folded unit: bit 1 when a marker ends with it alone, bit 2
   * when one starts with it alone.
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
        if (this.exact.has(spelled)) continue
        this.exact.set(spelled, meaning)
        this.maxExact = Math.max(this.maxExact, spelled.length)
        const key = shapeKey(spelled.length, spelled.charCodeAt(0), spelled.charCodeAt(spelled.length - 1))
        this.exactShapes[key] = 1
        bucketOf(this.fixed, key).push({ text: spelled, meaning, hit: { meaning, match: null, groups: [] } })
      }
    }
  }

  /** A marker with placeholders, as written and in the normal forms its script's sources disagree on. */
  addPattern(text: string, meaning: M): void {
    const forms = new Set([text, text.normalize("NFC")])
    if (INDIC.test(text)) forms.add(text.normalize("NFD"))
    for (const form of forms) this.addTemplate(templateOf(form), meaning)
  }

  /**
   * The folded units a line must show where `run` stands. A tail ending with a dot is cut to the two units
   * the bucket already holds: the line's final dot is dropped before its tail is read, so such a run need
   * not end where the line's tail does.
   */
  private edgeOf(run: string, fromStart: boolean): Int32Array {
    const kept = !fromStart && run.endsWith(".") ? run.slice(-2) : run
    const edge = new Int32Array(kept.length)
    for (let k = 0; k < kept.length; k++) {
      const c = kept.charCodeAt(k)
      edge[k] = this.caseSensitive || foldsExactly(c) ? foldUnit(c) : -1
    }
    return edge
  }

  private addTemplate(t: Template.Template, meaning: M): void {
    const atTail = t.tail.length > 0
    const edge = atTail ? this.edgeOf(t.tailRun, false) : t.head.length > 0 ? this.edgeOf(t.headRun, true) : new Int32Array(0)
    const pattern: Pattern<M> = this.caseSensitive
      ? { needle: t.word, re: new RegExp(t.source, "d"), groups: t.groups, meaning, literal: t.literal, edge }
      : { needle: t.needle, re: new RegExp(t.source, "id"), groups: t.groups, meaning, literal: t.literal, edge }
    const place = (list: Array<Pattern<M>>) => {
      if (list.some((p) => p.re.source === pattern.re.source)) return
      list.push(pattern)
      list.sort((a, b) => b.literal - a.literal)
    }
    const into = (map: Map<number, Bucket<M>>, key: number, pair: boolean) => {
      let bucket = map.get(key)
      if (bucket === undefined) {
        bucket = { patterns: [], next: null }
        map.set(key, bucket)
      }
      place(bucket.patterns)
      if (pair) bucket.next = nextUnits(bucket.patterns, !atTail)
    }
    const ends = atTail ? t.tail : t.head
    if (ends.length === 2) {
      const a = ends.charCodeAt(0)
      const b = ends.charCodeAt(1)
      this.pairs[pairIndex(a, b)]! |= atTail ? TAIL_PAIR : HEAD_PAIR
      into(atTail ? this.tail2 : this.head2, key2(a, b), true)
    } else if (ends.length === 1) {
      const unit = ends.charCodeAt(0)
      this.units[unit]! |= atTail ? 1 : 2
      // Whatever unit stands beside it: every pair with this low byte at that place.
      for (let other = 0; other < 0x100; other++) {
        this.pairs[atTail ? pairIndex(other, unit) : pairIndex(unit, other)]! |= atTail ? TAIL_UNIT : HEAD_UNIT
      }
      into(atTail ? this.tail1 : this.head1, unit, false)
    } else {
      place(this.middle)
    }
  }

  /** The meaning of `line` when it is one of the fixed texts (leading marks and final dot tolerated). */
  exactOf(line: string): M | undefined {
    let from = 0
    while (from < line.length && isDirectionMark(line.charCodeAt(from))) from++
    return this.fixedIn(line, from, line.length)?.meaning
  }

  /** The fixed text `source[from, end)` is (`from` past the leading marks), compared in place. */
  private fixedIn(source: string, from: number, end: number): Fixed<M> | undefined {
    const length = end - from
    if (length === 0 || length > this.maxExact) return undefined
    const key = shapeKey(length, source.charCodeAt(from), source.charCodeAt(end - 1))
    if (this.exactShapes[key] === 0) return undefined
    const list = this.fixed.get(key)
    if (list === undefined) return undefined
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!
      if (f.text.length === length && source.startsWith(f.text, from)) return f
    }
    return undefined
  }

  /** Which marker `line` (one line, no line break) is, or null. */
  match(line: string): Hit<M> | null {
    return this.matchIn(line, 0, line.length)
  }

  /**
   * Which marker the line `source[start, end)` is, or null. Most lines only pass this gate: a few char
   * codes and three bitmap reads (a fixed text's shape, a marker's tail, a marker's head), no Map, string
   * or regex. The rest are resolved by `resolve`, kept apart so this stays small enough to be optimised
   * early and inlined into its callers.
   */
  matchIn(source: string, start: number, end: number): Hit<M> | null {
    let from = start
    while (from < end && isDirectionMark(source.charCodeAt(from))) from++
    if (from < end) {
      const length = end - from
      if (length <= this.maxExact && this.exactShapes[shapeKey(length, source.charCodeAt(from), source.charCodeAt(end - 1))] !== 0) {
        return this.resolve(source, start, end, from)
      }
      // Leading marks, then trailing marks and one final dot, are not part of a marker's head or tail.
      let stop = end
      while (isDirectionMark(source.charCodeAt(stop - 1))) stop--
      if (source.charCodeAt(stop - 1) === 0x2e) stop--
      const pairs = this.pairs
      if (stop > from) {
        const t1 = foldUnit(source.charCodeAt(stop - 1))
        const t0 = stop - 1 > from ? foldUnit(source.charCodeAt(stop - 2)) : 0x20
        if ((pairs[pairIndex(t0, t1)]! & (TAIL_PAIR | TAIL_UNIT)) !== 0) return this.resolve(source, start, end, from)
      }
      const h1 = foldUnit(source.charCodeAt(from))
      const h2 = from + 1 < end ? foldUnit(source.charCodeAt(from + 1)) : 0x20
      if ((pairs[pairIndex(h1, h2)]! & (HEAD_PAIR | HEAD_UNIT)) !== 0) return this.resolve(source, start, end, from)
    }
    return this.middle.length === 0 ? null : this.inMiddle(source, start, end)
  }

  /**
   * `matchIn` for a line that passed a gate (`from` is past its leading marks): tried in order, fixed
   * texts, markers by their tail, by their head, then those with neither.
   */
  private resolve(source: string, start: number, end: number, from: number): Hit<M> | null {
    const fixed = this.fixedIn(source, from, end)
    if (fixed !== undefined) return fixed.hit
    let stop = end
    while (isDirectionMark(source.charCodeAt(stop - 1))) stop--
    if (source.charCodeAt(stop - 1) === 0x2e) stop--
    // A space or mark next to the text's end or start is in no marker's head or tail, so its bucket key
    // is in no Map: no test for one is needed.
    if (stop > from) {
      const t1 = foldUnit(source.charCodeAt(stop - 1))
      const t0 = stop - 1 > from ? foldUnit(source.charCodeAt(stop - 2)) : 0x20
      if ((this.pairs[pairIndex(t0, t1)]! & TAIL_PAIR) !== 0) {
        const hit = this.tryList(this.tail2.get(key2(t0, t1)), source, start, end, from, stop, false)
        if (hit !== null) return hit
      }
      if ((this.units[t1]! & 1) !== 0) {
        const hit = this.tryList(this.tail1.get(t1), source, start, end, from, stop, false)
        if (hit !== null) return hit
      }
    }
    const h1 = foldUnit(source.charCodeAt(from))
    const h2 = from + 1 < end ? foldUnit(source.charCodeAt(from + 1)) : 0x20
    if ((this.pairs[pairIndex(h1, h2)]! & HEAD_PAIR) !== 0) {
      const hit = this.tryList(this.head2.get(key2(h1, h2)), source, start, end, from, end, true)
      if (hit !== null) return hit
    }
    if ((this.units[h1]! & 2) !== 0) {
      const hit = this.tryList(this.head1.get(h1), source, start, end, from, end, true)
      if (hit !== null) return hit
    }
    return this.middle.length === 0 ? null : this.inMiddle(source, start, end)
  }

  /** The markers with a placeholder at both ends, tried on the whole line. */
  private inMiddle(source: string, start: number, end: number): Hit<M> | null {
    const middle = this.middle
    const text = lineOf(source, start, end)
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

  /**
   * The first pattern of `bucket` the line `source[start, end)` matches. Its edge is compared first: at
   * `from` for a head, ending at `stop` for a tail (`from`/`stop` are the ends without marks and final
   * dot); then its needle; the line is sliced for the regex only then.
   */
  private tryList(
    bucket: Bucket<M> | undefined,
    source: string,
    start: number,
    end: number,
    from: number,
    stop: number,
    atHead: boolean
  ): Hit<M> | null {
    if (bucket === undefined) return null
    const next = bucket.next
    if (next !== null) {
      // The unit after the pair (before it, for a tail) rules out the whole bucket at once.
      const at = atHead ? from + 2 : stop - 3
      if (at < from || at >= stop) return null
      const unit = foldUnit(source.charCodeAt(at))
      let shown = false
      for (let i = 0; i < next.length; i++) if (next[i] === unit) shown = true
      if (!shown) return null
    }
    const list = bucket.patterns
    let line: string | null = null
    // Patterns of a bucket mostly share their needle: the last answer is kept.
    let askedUnit = -1
    let held = false
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!
      const edge = p.edge
      if (edge.length > 2) {
        const at = atHead ? from : stop - edge.length
        if (at < from || at + edge.length > stop || !showsEdge(source, at, edge)) continue
      }
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
