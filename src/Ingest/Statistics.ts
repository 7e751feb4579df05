/**
 * Exact statistics of a parsed WhatsApp chat: who writes how much, when, how fast they answer, who
 * starts conversations, silences, streaks, words and emoji. Pure, one pass over the messages.
 */
import { Schema } from "effect"
import stopwords from "stopwords-iso/stopwords-iso.json" with { type: "json" }
import type { MessageSource, ParsedMessage } from "./Model.js"

// ---------------------------------------------------------------------------------------------
// The shape on the wire (snake_case, plain JSON)
// ---------------------------------------------------------------------------------------------

const Count = Schema.NonNegativeInt

/** "YYYY-MM-DDTHH:MM:SS", the wall-clock time as the export wrote it (no time zone). */
const WallClockText = Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/)).annotations({
  description: "wall-clock date and time as written in the export, no time zone (YYYY-MM-DDTHH:MM:SS)"
})

const DayText = Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}$/)).annotations({
  description: "wall-clock date as written in the export (YYYY-MM-DD)"
})

const EmojiCount = Schema.Struct({ emoji: Schema.String, count: Count }).annotations({ identifier: "EmojiCount" })
const WordCount = Schema.Struct({ word: Schema.String, count: Count }).annotations({ identifier: "WordCount" })

const Activity = Schema.Struct({
  by_weekday: Schema.Array(Count).annotations({
    description: "7 counts of messages by weekday of the written date: index 0 = Monday ... 6 = Sunday"
  }),
  by_hour: Schema.Array(Count).annotations({ description: "24 counts of messages by written hour: index 0 ... 23" })
}).annotations({ identifier: "Activity" })

const Percentiles = Schema.Struct({
  count: Count.annotations({ description: "number of samples" }),
  median_seconds: Schema.NullOr(Schema.Number),
  p75_seconds: Schema.NullOr(Schema.Number),
  p90_seconds: Schema.NullOr(Schema.Number)
}).annotations({
  identifier: "ResponseTimePercentiles",
  description: "percentiles by linear interpolation between closest ranks (numpy's default, Excel's " +
    "PERCENTILE.INC), in seconds rounded to the millisecond; null when there is no sample"
})

const ResponseTimes = Schema.Struct({
  replies: Percentiles.annotations({ description: "answers within a conversation: gap below the silence threshold" }),
  restarts: Percentiles.annotations({ description: "answers that reopen a conversation: gap of at least the silence threshold" })
}).annotations({ identifier: "ResponseTimes" })

const counters = {
  messages: Count.annotations({ description: "messages of any kind but system events (text, media, deleted, edited)" }),
  words: Count.annotations({ description: "whitespace-separated runs in the bodies of text and edited messages" }),
  characters: Count.annotations({
    description: "user-perceived characters (grapheme clusters: an emoji family or a flag is one) in the bodies " +
      "of text and edited messages, spaces and line breaks included"
  }),
  media: Count,
  links: Count.annotations({ description: "http://, https:// and www. addresses in text and edited bodies" }),
  deleted: Count,
  edited: Count
}

const ParticipantStatistics = Schema.Struct({
  name: Schema.String,
  ...counters,
  conversations_started: Count,
  double_texts: Count,
  top_emoji: Schema.Array(EmojiCount),
  top_words: Schema.Array(WordCount),
  activity: Activity,
  response_times: ResponseTimes
}).annotations({ identifier: "ParticipantStatistics" })

const Totals = Schema.Struct({
  ...counters,
  participants: Count,
  conversations: Count,
  double_texts: Count,
  top_emoji: Schema.Array(EmojiCount),
  top_words: Schema.Array(WordCount),
  activity: Activity
}).annotations({ identifier: "ChatTotals" })

export const ChatStatisticsSchema = Schema.Struct({
  settings: Schema.Struct({
    silence_threshold_minutes: Schema.Number,
    double_text_minutes: Schema.Number,
    top_n: Count,
    stopword_languages: Schema.Array(Schema.String)
  }),
  totals: Totals,
  participants: Schema.Array(ParticipantStatistics).annotations({
    description: "most messages first; ties in order of first appearance"
  }),
  timeline: Schema.Array(Schema.Struct({ date: DayText, messages: Count })).annotations({
    description: "every written date with at least one message, oldest first"
  }),
  longest_silence: Schema.NullOr(Schema.Struct({ from: WallClockText, to: WallClockText, seconds: Schema.Number })),
  longest_streak: Schema.NullOr(Schema.Struct({ from: DayText, to: DayText, days: Count })),
  first_message: Schema.NullOr(Schema.Struct({ at: WallClockText, author: Schema.String })),
  last_message: Schema.NullOr(Schema.Struct({ at: WallClockText, author: Schema.String }))
}).annotations({ identifier: "ChatStatistics" })

export interface ChatStatistics extends Schema.Schema.Type<typeof ChatStatisticsSchema> {}
export type ParticipantStatistics = typeof ParticipantStatistics.Type
export type ResponseTimePercentiles = typeof Percentiles.Type

// ---------------------------------------------------------------------------------------------
// Options and definitions
// ---------------------------------------------------------------------------------------------

/**
 * Stop-word languages used by default: the Latin-script languages most common in the exports we
 * see, plus every non-Latin-script list (those cannot remove a Latin-script word). Taking the union
 * of all 58 lists would remove real words ("car" is French, "dog" Danish, "air" Malay).
 */
export const defaultStopwordLanguages: ReadonlyArray<string> = [
  "en", "es", "pt", "fr", "de", "it", "nl",
  "ar", "bg", "bn", "el", "fa", "gu", "he", "hi", "hy", "ja", "ko", "ku", "mr", "ru", "th", "uk", "ur", "zh"
]

export interface StatisticsOptions {
  /** A gap of at least this many minutes between two messages starts a new conversation. Default 240. */
  readonly silenceThresholdMinutes?: number
  /** A message by the same author as the one before, at least this many minutes after it, is a double text. Default 60. */
  readonly doubleTextMinutes?: number
  /** How many emoji and words the top lists keep. Default 20. */
  readonly topN?: number
  /** ISO 639-1 codes of the stopwords-iso lists removed from the top words. Default `defaultStopwordLanguages`. */
  readonly stopwordLanguages?: ReadonlyArray<string>
}

/**
 * Computes a chat's statistics in one pass over `messages`, taken in the order given (file order):
 * parsed columns read through `columnSource`, or message objects.
 *
 * Definitions:
 * - A *message* is any entry whose kind is not "system" and that has an author; system events count
 *   nowhere, and their authors are not participants.
 * - Times are the wall-clock fields written in the export (`getUTC*` of `sentAt`); a *gap* is the
 *   time between a message and the message before it; a negative gap (a clock that went back) is 0.
 * - *Words*, *characters*, *links*, *emoji* and *top words* read the bodies of "text" and "edited"
 *   messages only (a media or deleted body is a marker, not something written); an edited body loses
 *   its trailing "<This message was edited>" marker first.
 * - *Characters* are grapheme clusters, counted in the same scan without `Intl.Segmenter` (too slow
 *   for every body): code points minus those that join the one before (combining marks, variation
 *   selectors, skin-tone modifiers, zero-width joiners and the pictograph they join, tag characters,
 *   the second half of a flag, LF after CR). This equals the segmenter's count except for Indic
 *   conjuncts, where a consonant after a virama counts as a character of its own.
 * - *Emoji*: runs of pictographs, flags and keycaps, cut into graphemes by `Intl.Segmenter`, so a
 *   ZWJ family, a skin-toned hand or a flag is one emoji; "❤" and "❤️" are the same key (the emoji
 *   form). ©, ® and ™ count only when written with the emoji variation selector.
 * - *Top words*: lowercased runs of letters (`\p{L}`, with their combining marks) of at least two
 *   letters, links excluded, minus the stop words of `stopwordLanguages` (stopwords-iso). Digits,
 *   apostrophes and punctuation split words ("don't" is "don" and "t"). Ties sort by the word.
 * - *Activity*: `by_weekday` index 0 = Monday ... 6 = Sunday; `by_hour` 0 ... 23.
 * - *Response time*: a message whose author differs from the previous message's author; its gap is
 *   a *reply* when below the silence threshold and a *restart* otherwise. Percentiles (median, p75,
 *   p90) interpolate linearly between closest ranks (numpy's default): for sorted samples x[0..n-1]
 *   the p-quantile is x[h] interpolated at h = (n - 1) * p. Seconds, rounded to the millisecond.
 * - *Conversations*: one starts at the first message and at every message after a gap of at least
 *   the silence threshold; the author of that message started it.
 * - *Double text*: a message by the same author as the previous message, sent at least
 *   `doubleTextMinutes` after it (no one answered in between); each such follow-up counts once,
 *   whether or not it also starts a new conversation.
 * - *Longest silence*: the largest gap (the first one on a tie); *longest streak*: the longest run of
 *   consecutive written dates with messages (the earliest on a tie).
 * - *First / last message*: the first and last message in the order given.
 */
export const computeStatistics = (
  input: MessageSource | ReadonlyArray<ParsedMessage>,
  options: StatisticsOptions = {}
): ChatStatistics => {
  const messages = isMessageArray(input) ? arraySource(input) : input
  const silenceMinutes = options.silenceThresholdMinutes ?? 240
  const doubleTextMinutes = options.doubleTextMinutes ?? 60
  const topN = options.topN ?? 20
  const languages = options.stopwordLanguages ?? defaultStopwordLanguages
  if (!(silenceMinutes > 0) || !Number.isFinite(silenceMinutes)) {
    throw new RangeError(`silenceThresholdMinutes must be a positive number, got ${silenceMinutes}`)
  }
  if (!(doubleTextMinutes > 0) || !Number.isFinite(doubleTextMinutes)) {
    throw new RangeError(`doubleTextMinutes must be a positive number, got ${doubleTextMinutes}`)
  }
  if (!Number.isInteger(topN) || topN < 0) throw new RangeError(`topN must be a non-negative integer, got ${topN}`)
  const silenceMs = silenceMinutes * MINUTE_MS
  const doubleTextMs = doubleTextMinutes * MINUTE_MS
  const stop = stopwordSet(languages)

  const byName = new Map<string, Accumulator>()
  const accumulators: Array<Accumulator> = []
  const perDay = new Map<number, number>()
  let previous: Accumulator | null = null
  let previousAt = 0
  let first: { readonly at: number; readonly author: string } | null = null
  let lastAt = 0
  let silenceMsMax = -1
  let silenceFrom = 0
  let silenceTo = 0
  let lastDay = Number.NaN
  let lastDayCount = 0

  for (let i = 0; i < messages.length; i++) {
    const kind = messages.kind(i)
    const author = messages.author(i)
    if (kind === "system" || author === null) continue
    let acc: Accumulator | undefined = previous !== null && previous.name === author ? previous : byName.get(author)
    if (acc === undefined) {
      acc = new Accumulator(author, accumulators.length)
      byName.set(author, acc)
      accumulators.push(acc)
    }
    acc.messages++
    switch (kind) {
      case "media":
        acc.media++
        break
      case "deleted":
        acc.deleted++
        break
      case "edited":
        acc.edited++
        measureBody(acc, stripEditedMarker(messages.text(i)), stop)
        break
      case "text":
        measureBody(acc, messages.text(i), stop)
        break
    }

    const at = messages.sentAt(i)
    const day = Math.floor(at / DAY_MS)
    acc.byWeekday[(((day + 3) % 7) + 7) % 7]!++
    acc.byHour[Math.floor((at - day * DAY_MS) / HOUR_MS)]!++
    if (day === lastDay) {
      lastDayCount++
    } else {
      if (lastDayCount > 0) perDay.set(lastDay, (perDay.get(lastDay) ?? 0) + lastDayCount)
      lastDay = day
      lastDayCount = 1
    }

    if (previous === null) {
      acc.conversationsStarted++
      first = { at, author }
    } else {
      const gap = Math.max(0, at - previousAt)
      if (gap > silenceMsMax) {
        silenceMsMax = gap
        silenceFrom = previousAt
        silenceTo = at
      }
      if (previous !== acc) {
        if (gap < silenceMs) acc.replies.push(gap / 1000)
        else acc.restarts.push(gap / 1000)
      } else if (gap >= doubleTextMs) {
        acc.doubleTexts++
      }
      if (gap >= silenceMs) acc.conversationsStarted++
    }
    previous = acc
    previousAt = at
    lastAt = at
  }
  if (lastDayCount > 0) perDay.set(lastDay, (perDay.get(lastDay) ?? 0) + lastDayCount)

  const ordered = accumulators.slice().sort((a, b) => b.messages - a.messages || a.order - b.order)
  const participants = ordered.map((acc): ParticipantStatistics => ({
    name: acc.name,
    messages: acc.messages,
    words: acc.words,
    characters: acc.characters,
    media: acc.media,
    links: acc.links,
    deleted: acc.deleted,
    edited: acc.edited,
    conversations_started: acc.conversationsStarted,
    double_texts: acc.doubleTexts,
    top_emoji: top(acc.emoji, topN).map(([emoji, count]) => ({ emoji, count })),
    top_words: top(acc.wordCounts, topN).map(([word, count]) => ({ word, count })),
    activity: { by_weekday: Array.from(acc.byWeekday), by_hour: Array.from(acc.byHour) },
    response_times: { replies: percentiles(acc.replies), restarts: percentiles(acc.restarts) }
  }))

  const sum = (pick: (acc: Accumulator) => number) => accumulators.reduce((total, acc) => total + pick(acc), 0)
  const byWeekday = new Array<number>(7).fill(0)
  const byHour = new Array<number>(24).fill(0)
  for (const acc of accumulators) {
    for (let d = 0; d < 7; d++) byWeekday[d]! += acc.byWeekday[d]!
    for (let h = 0; h < 24; h++) byHour[h]! += acc.byHour[h]!
  }

  const days = Array.from(perDay.keys()).sort((a, b) => a - b)
  let streak: ChatStatistics["longest_streak"] = null
  for (let i = 0, runStart = 0; i < days.length; i++) {
    if (i > 0 && days[i]! !== days[i - 1]! + 1) runStart = i
    const length = i - runStart + 1
    if (streak === null || length > streak.days) {
      streak = { from: dayText(days[runStart]!), to: dayText(days[i]!), days: length }
    }
  }

  return {
    settings: {
      silence_threshold_minutes: silenceMinutes,
      double_text_minutes: doubleTextMinutes,
      top_n: topN,
      stopword_languages: [...languages]
    },
    totals: {
      messages: sum((acc) => acc.messages),
      words: sum((acc) => acc.words),
      characters: sum((acc) => acc.characters),
      media: sum((acc) => acc.media),
      links: sum((acc) => acc.links),
      deleted: sum((acc) => acc.deleted),
      edited: sum((acc) => acc.edited),
      participants: accumulators.length,
      conversations: sum((acc) => acc.conversationsStarted),
      double_texts: sum((acc) => acc.doubleTexts),
      top_emoji: top(mergeCounts(accumulators.map((acc) => acc.emoji)), topN).map(([emoji, count]) => ({ emoji, count })),
      top_words: top(mergeCounts(accumulators.map((acc) => acc.wordCounts)), topN).map(([word, count]) => ({ word, count })),
      activity: { by_weekday: byWeekday, by_hour: byHour }
    },
    participants,
    timeline: days.map((day) => ({ date: dayText(day), messages: perDay.get(day)! })),
    longest_silence: silenceMsMax < 0
      ? null
      : { from: wallClockText(silenceFrom), to: wallClockText(silenceTo), seconds: silenceMsMax / 1000 },
    longest_streak: streak,
    first_message: first === null ? null : { at: wallClockText(first.at), author: first.author },
    last_message: previous === null ? null : { at: wallClockText(lastAt), author: previous.name }
  }
}

// ---------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------

const isMessageArray = (input: MessageSource | ReadonlyArray<ParsedMessage>): input is ReadonlyArray<ParsedMessage> =>
  Array.isArray(input)

/** Message objects read one field at a time. */
export const arraySource = (messages: ReadonlyArray<ParsedMessage>): MessageSource => ({
  length: messages.length,
  sentAt: (i) => messages[i]!.sentAt,
  author: (i) => messages[i]!.author,
  text: (i) => messages[i]!.text,
  kind: (i) => messages[i]!.kind
})

const MINUTE_MS = 60_000
const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

class Accumulator {
  messages = 0
  words = 0
  characters = 0
  media = 0
  links = 0
  deleted = 0
  edited = 0
  conversationsStarted = 0
  doubleTexts = 0
  readonly byWeekday = new Uint32Array(7)
  readonly byHour = new Uint32Array(24)
  readonly emoji = new Map<string, number>()
  readonly wordCounts = new Map<string, number>()
  readonly replies: Array<number> = []
  readonly restarts: Array<number> = []
  constructor(readonly name: string, readonly order: number) {}
}

const wallClockText = (ms: number): string => new Date(ms).toISOString().slice(0, 19)
const dayText = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10)

/** The markers WhatsApp appends to an edited message, in the export languages we have seen. */
const EDITED_MARKER =
  /\s*<(?:this message was edited|se editó este mensaje\.?|mensaje editado|mensagem editada|diese nachricht wurde bearbeitet\.?|ce message a été modifié\.?|messaggio modificato)>\s*$/i

const stripEditedMarker = (text: string): string => text.endsWith(">") ? text.replace(EDITED_MARKER, "") : text

const stopwordLists: Readonly<Record<string, ReadonlyArray<string>>> = stopwords
const stopwordCache = new Map<string, ReadonlySet<string>>()

const stopwordSet = (languages: ReadonlyArray<string>): ReadonlySet<string> => {
  const key = languages.join(",")
  let set = stopwordCache.get(key)
  if (set === undefined) {
    const words = new Set<string>()
    for (const language of languages) {
      const list = stopwordLists[language]
      if (list === undefined) throw new RangeError(`stopwords-iso has no list for language "${language}"`)
      for (const word of list) words.add(word.toLowerCase())
    }
    set = words
    stopwordCache.set(key, set)
  }
  return set
}

const LETTER = 1
const MARK = 2
const PICTOGRAPH = 4
const REGIONAL = 8
/** Continues an emoji run: skin tones, joiner, variation selector, keycap, tags. */
const EMOJI_PART = 16
/** Extends the character before it (grapheme clusters): marks, joiners, skin tones, tags. */
const EXTENDS = 32

let classTable: Uint8Array | null = null

/** Character classes of planes 0 and 1, built on first use from the regex property escapes (~20 ms). */
const classes = (): Uint8Array => {
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
const farClass = (point: number): number => {
  if (point >= 0xe0020 && point <= 0xe007f) return EXTENDS | EMOJI_PART
  const s = String.fromCodePoint(point)
  return (LETTER_TEST.test(s) ? LETTER : 0) | (MARK_TEST.test(s) ? MARK | EXTENDS : 0)
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
const measureBody = (acc: Accumulator, text: string, stop: ReadonlySet<string>): void => {
  const lower = text.toLowerCase()
  const length = lower.length
  if (length === 0) return
  const table = classes()
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

const countWord = (acc: Accumulator, word: string, stop: ReadonlySet<string>): void => {
  if (stop.has(word)) return
  const counts = acc.wordCounts
  counts.set(word, (counts.get(word) ?? 0) + 1)
}

const countEmoji = (acc: Accumulator, run: string): void => {
  const counts = acc.emoji
  for (const emoji of emojiOf(run)) counts.set(emoji, (counts.get(emoji) ?? 0) + 1)
}

/** The characters JavaScript's `\s` matches. */
const isSpace = (unit: number): boolean =>
  unit === 0x20 || (unit >= 0x09 && unit <= 0x0d) ||
  (unit >= 0xa0 && (unit === 0xa0 || unit === 0x1680 || (unit >= 0x2000 && unit <= 0x200a) || unit === 0x2028 ||
    unit === 0x2029 || unit === 0x202f || unit === 0x205f || unit === 0x3000 || unit === 0xfeff))

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" })
const emojiRuns = new Map<string, ReadonlyArray<string>>()
const EMOJI_RUN_CACHE_LIMIT = 50_000
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}$/u
const TEXT_SYMBOLS = new Set(["\u00a9", "\u00ae", "\u2122"])

/** The emoji of one run, cut into graphemes and normalised; memoised, since runs repeat a lot. */
const emojiOf = (run: string): ReadonlyArray<string> => {
  const known = emojiRuns.get(run)
  if (known !== undefined) return known
  const found: Array<string> = []
  for (const { segment } of segmenter.segment(run)) {
    const emoji = normaliseEmoji(segment)
    if (emoji !== null) found.push(emoji)
  }
  if (emojiRuns.size < EMOJI_RUN_CACHE_LIMIT) emojiRuns.set(run, found)
  return found
}

/**
 * One key per emoji: a lone symbol takes its emoji form ("❤" and "❤️" are one), a keycap always has
 * its selector, a trailing joiner is dropped; a lone regional indicator and a plain ©, ® or ™ are
 * not emoji.
 */
const normaliseEmoji = (grapheme: string): string | null => {
  let g = grapheme
  while (g.endsWith("\u200d")) g = g.slice(0, -1)
  const bare = g.includes("\ufe0f") ? g.replaceAll("\ufe0f", "") : g
  const firstPoint = bare.codePointAt(0)
  if (firstPoint === undefined) return null
  const single = bare.length === (firstPoint > 0xffff ? 2 : 1)
  if (single) {
    if (firstPoint >= 0x1f1e6 && firstPoint <= 0x1f1ff) return null
    if (bare === g && TEXT_SYMBOLS.has(bare)) return null
    return EMOJI_PRESENTATION.test(bare) ? bare : bare + "\ufe0f"
  }
  if (bare.length === 2 && bare.charCodeAt(1) === 0x20e3) return bare[0] + "\ufe0f\u20e3"
  return g
}

const mergeCounts = (maps: ReadonlyArray<ReadonlyMap<string, number>>): ReadonlyMap<string, number> => {
  if (maps.length === 1) return maps[0]!
  const merged = new Map<string, number>()
  for (const map of maps) {
    for (const [key, count] of map) merged.set(key, (merged.get(key) ?? 0) + count)
  }
  return merged
}

/** The `n` largest counts, most first, ties by key (code-unit order); linear in the map's size. */
const top = (counts: ReadonlyMap<string, number>, n: number): Array<readonly [string, number]> => {
  const before = (a: readonly [string, number], b: readonly [string, number]) =>
    a[1] > b[1] || (a[1] === b[1] && a[0] < b[0])
  if (counts.size <= n) return Array.from(counts).sort((a, b) => before(a, b) ? -1 : 1)
  const best: Array<readonly [string, number]> = []
  if (n === 0) return best
  for (const entry of counts) {
    if (best.length === n && !before(entry, best[n - 1]!)) continue
    let lo = 0
    let hi = best.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (before(best[mid]!, entry)) lo = mid + 1
      else hi = mid
    }
    best.splice(lo, 0, entry)
    if (best.length > n) best.pop()
  }
  return best
}

const percentiles = (samples: ReadonlyArray<number>): ResponseTimePercentiles => {
  if (samples.length === 0) return { count: 0, median_seconds: null, p75_seconds: null, p90_seconds: null }
  const sorted = Float64Array.from(samples).sort()
  const at = (p: number) => {
    const h = (sorted.length - 1) * p
    const lo = Math.floor(h)
    const below = sorted[lo]!
    const value = lo + 1 < sorted.length ? below + (h - lo) * (sorted[lo + 1]! - below) : below
    return Math.round(value * 1000) / 1000
  }
  return { count: sorted.length, median_seconds: at(0.5), p75_seconds: at(0.75), p90_seconds: at(0.9) }
}
