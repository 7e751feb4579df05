/**
 * What the body scan of the statistics needs to know about a code point: letter, combining mark,
 * pictograph, regional indicator, a part that continues an emoji, or one that extends the character
 * before it. One table lookup per code point instead of several Unicode property tests.
 */

export const LETTER = 1
export const MARK = 2
export const PICTOGRAPH = 4
export const REGIONAL = 8
/** Continues an emoji run: skin tones, joiner, variation selector, keycap, tags. */
export const EMOJI_PART = 16
/** Extends the character before it (grapheme clusters): marks, joiners, skin tones, tags. */
export const EXTENDS = 32

let classTable: Uint8Array | null = null

/** Character classes of planes 0 and 1, built on first use from the regex property escapes (~20 ms). */
export const planeClasses = (): Uint8Array => {
  if (classTable === null) {
    const table = new Uint8Array(0x20000)
    const letter = /^\p{L}$/u
    const mark = /^\p{M}$/u
    const pictograph = /^\p{Extended_Pictographic}$/u
    for (let point = 0; point < 0x20000; point++) {
      if (point >= 0xd800 && point <= 0xdfff) continue
      const s = String.fromCodePoint(point)
      table[point] = (letter.test(s) ? LETTER : 0) | (mark.test(s) ? MARK | EXTENDS : 0) |
        (pictograph.test(s) ? PICTOGRAPH : 0)
    }
    table[0x200c] = table[0x200c]! | EXTENDS
    table[0x200d] = table[0x200d]! | EXTENDS | EMOJI_PART
    table[0xfe0f] = table[0xfe0f]! | EMOJI_PART
    table[0x20e3] = table[0x20e3]! | EMOJI_PART
    for (let point = 0x1f3fb; point <= 0x1f3ff; point++) table[point] = EXTENDS | EMOJI_PART
    for (let point = 0x1f1e6; point <= 0x1f1ff; point++) table[point] = REGIONAL
    classTable = table
  }
  return classTable
}

const LETTER_TEST = /^\p{L}$/u
const MARK_TEST = /^\p{M}$/u

/** Classes beyond plane 1: CJK extensions, tags, variation selectors supplement. */
export const farClass = (point: number): number => {
  if (point >= 0xe0020 && point <= 0xe007f) return EXTENDS | EMOJI_PART
  const s = String.fromCodePoint(point)
  return (LETTER_TEST.test(s) ? LETTER : 0) | (MARK_TEST.test(s) ? MARK | EXTENDS : 0)
}
