/**
 * The one scan of a message body the statistics make: words, characters (grapheme clusters), links,
 * words of letters for the top words, and emoji, all counted in a single pass over the lowercased text.
 */
import { EMOJI_PART, EXTENDS, farClass, LETTER, MARK, PICTOGRAPH, planeClasses, REGIONAL } from "./CharacterClass.js"
import { emojiOf } from "./Emoji.js"

/** Where a body's counts go: a participant's running totals. */
export interface BodyCounts {
  words: number
  characters: number
  links: number
  readonly emoji: Map<string, number>
  readonly wordCounts: Map<string, number>
}

/** Where a link starts at `i` (http://, https:// or www. and at least one more character), its prefix length; else 0. */
const linkAt = (text: string, i: number): number => {
  const prefix = text.startsWith("https://", i) ? 8 : text.startsWith("http://", i) ? 7 : text.startsWith("www.", i) ? 4 : 0
  return prefix > 0 && i + prefix < text.length && !endsLink(text.charCodeAt(i + prefix)) ? prefix : 0
}

const endsLink = (unit: number): boolean => isSpace(unit) || unit === 0x3c || unit === 0x3e || unit === 0x22

const isKeycapBase = (point: number): boolean => point === 0x23 || point === 0x2a || (point >= 0x30 && point <= 0x39)

/**
 * Counts one body into `acc` in a single scan of its lowercased text: words (whitespace runs),
 * characters (grapheme clusters), links, words of letters and emoji runs.
 */
export const measureBody = (acc: BodyCounts, text: string, stop: ReadonlySet<string>): void => {
  const lower = text.toLowerCase()
  const length = lower.length
  if (length === 0) return
  const table = planeClasses()
  let words = 0
  let characters = 0
  let inWord = false
  let afterJoiner = false
  let openFlag = false
  let afterCR = false
  let inLink = false
  let wordStart = -1
  let wordLetters = 0
  let runStart = -1
  let keycapAt = -1
  for (let i = 0; i < length; i++) {
    const start = i
    const unit = lower.charCodeAt(i)
    let point = unit
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < length) {
      const low = lower.charCodeAt(i + 1)
      if (low >= 0xdc00 && low <= 0xdfff) {
        point = (unit - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000
        i++
      }
    }
    const space = isSpace(unit)
    if (space) {
      inWord = false
    } else if (!inWord) {
      inWord = true
      words++
    }
    const cls = point < 0x20000 ? table[point]! : farClass(point)

    let extendsPrevious = (cls & EXTENDS) !== 0 || (afterJoiner && (cls & PICTOGRAPH) !== 0) || (afterCR && point === 0x0a)
    if ((cls & REGIONAL) !== 0) {
      if (openFlag) {
        extendsPrevious = true
        openFlag = false
      } else {
        openFlag = !extendsPrevious
      }
    } else {
      openFlag = false
    }
    if (!extendsPrevious) characters++
    afterJoiner = point === 0x200d
    afterCR = point === 0x0d

    if (inLink) {
      if (endsLink(unit)) inLink = false
    } else if ((cls & LETTER) !== 0) {
      if (runStart >= 0) {
        countEmoji(acc, lower.slice(runStart, start))
        runStart = -1
      }
      if (wordStart < 0) {
        const prefix = linkAt(lower, start)
        if (prefix > 0) {
          acc.links++
          inLink = true
        } else {
          wordStart = start
          wordLetters = 0
        }
      }
      wordLetters++
    } else if (wordStart >= 0 && (cls & MARK) !== 0) {
      // a combining mark inside a word belongs to it
    } else {
      if (wordStart >= 0) {
        if (wordLetters >= 2) countWord(acc, lower.slice(wordStart, start), stop)
        wordStart = -1
      }
      if (runStart >= 0) {
        if ((cls & (PICTOGRAPH | REGIONAL | EMOJI_PART)) === 0) {
          countEmoji(acc, lower.slice(runStart, start))
          runStart = -1
        }
      } else if ((cls & (PICTOGRAPH | REGIONAL)) !== 0) {
        runStart = start
      } else if (point === 0x20e3 && keycapAt >= 0) {
        runStart = keycapAt
      }
    }
    keycapAt = isKeycapBase(point) ? start : point === 0xfe0f && keycapAt === start - 1 ? keycapAt : -1
  }
  if (wordStart >= 0 && wordLetters >= 2) countWord(acc, lower.slice(wordStart), stop)
  if (runStart >= 0) countEmoji(acc, lower.slice(runStart))
  acc.words += words
  acc.characters += characters
}

const countWord = (acc: BodyCounts, word: string, stop: ReadonlySet<string>): void => {
  if (stop.has(word)) return
  const counts = acc.wordCounts
  counts.set(word, (counts.get(word) ?? 0) + 1)
}

const countEmoji = (acc: BodyCounts, run: string): void => {
  const counts = acc.emoji
  for (const emoji of emojiOf(run)) counts.set(emoji, (counts.get(emoji) ?? 0) + 1)
}

/** The characters JavaScript's `\s` matches. */
const isSpace = (unit: number): boolean =>
  unit === 0x20 || (unit >= 0x09 && unit <= 0x0d) ||
  (unit >= 0xa0 && (unit === 0xa0 || unit === 0x1680 || (unit >= 0x2000 && unit <= 0x200a) || unit === 0x2028 ||
    unit === 0x2029 || unit === 0x202f || unit === 0x205f || unit === 0x3000 || unit === 0xfeff))
