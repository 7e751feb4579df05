/**
 * Exact statistics of a parsed WhatsApp chat: who writes how much, when, how fast they answer, who
 * starts conversations, silences, streaks, words and emoji. Pure, one pass over the messages; the
 * shape they are answered in is `ChatStatisticsSchema` (Domain/Statistics.ts).
 */
import { Schema } from "effect"
import stopwords from "stopwords-iso/stopwords-iso.json" with { type: "json" }
import { type MediaKind, mediaKinds } from "../Domain/MessageKind.js"
import type { ChatStatistics, ParticipantStatistics, ResponseTimePercentiles } from "../Domain/Statistics.js"
import { type BodyCounts, measureBody } from "./BodyScan.js"
import { arraySource, type MessageSource, type ParsedMessage } from "./Messages.js"
import { withChartStatistics } from "./ChartStatistics.js"
import { editedMarkerAt } from "./Markers.js"
import { wireDate, wireWallClock } from "./WallClock.js"

/**
 * Stop-word languages used by default: the Latin-script languages most common in the exports we
 * see, plus every non-Latin-script list (those cannot remove a Latin-script word). Taking the union
 * of all 58 lists would remove real words ("car" is French, "dog" Danish, "air" Malay).
 */
export const defaultStopwordLanguages: ReadonlyArray<string> = [
  "en", "es", "pt", "fr", "de", "it", "nl",
  "ar", "bg", "bn", "el", "fa", "gu", "he", "hi", "hy", "ja", "ko", "ku", "mr", "ru", "th", "uk", "ur", "zh"
]

export const StatisticsOptions = Schema.Struct({
  /** A gap of at least this many minutes between two messages starts a new conversation. Default 240. */
  silenceThresholdMinutes: Schema.optional(Schema.Number),
  /** A message by the same author as the one before, at least this many minutes after it, is a double text. Default 60. */
  doubleTextMinutes: Schema.optional(Schema.Number),
  /** How many emoji and words the top lists keep. Default 20. */
  topN: Schema.optional(Schema.Number),
  /** ISO 639-1 codes of the stopwords-iso lists removed from the top words. Default `defaultStopwordLanguages`. */
  stopwordLanguages: Schema.optional(Schema.Array(Schema.String))
})
export type StatisticsOptions = typeof StatisticsOptions.Type

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
 *   messages and the captions of media messages whose media kind is known (a media body parsed before
 *   media kinds were kept, or a deleted body, is a marker, not something written); an edited body loses
 *   its trailing "<This message was edited>" marker first. A file name or placeholder is never read.
 * - *Media by kind*: media messages by what they carry, when known (Markers.ts reads it from the export).
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
): ChatStatistics => withChartStatistics(input, countStatistics(input, options))

const countStatistics = (
  input: MessageSource | ReadonlyArray<ParsedMessage>,
  options: StatisticsOptions
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
      case "media": {
        acc.media++
        // Known only for messages parsed with the markers table; their text is the caption, never a
        // placeholder or a file name, so it is counted like any other writing.
        const mediaKind = messages.mediaKind?.(i) ?? null
        if (mediaKind !== null) {
          acc.mediaByKind.set(mediaKind, (acc.mediaByKind.get(mediaKind) ?? 0) + 1)
          measureBody(acc, messages.text(i), stop)
        }
        break
      }
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
    ...mediaByKind([acc]),
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
      ...mediaByKind(accumulators),
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
      : { from: wireWallClock(silenceFrom), to: wireWallClock(silenceTo), seconds: silenceMsMax / 1000 },
    longest_streak: streak,
    first_message: first === null ? null : { at: wireWallClock(first.at), author: first.author },
    last_message: previous === null ? null : { at: wireWallClock(lastAt), author: previous.name }
  }
}

const isMessageArray = (input: MessageSource | ReadonlyArray<ParsedMessage>): input is ReadonlyArray<ParsedMessage> =>
  Array.isArray(input)

const MINUTE_MS = 60_000
const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

class Accumulator implements BodyCounts {
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
  readonly mediaByKind = new Map<MediaKind, number>()
  readonly replies: Array<number> = []
  readonly restarts: Array<number> = []
  constructor(readonly name: string, readonly order: number) {}
}

/** `media_by_kind` over some participants, in `mediaKinds` order; absent when no media kind is known. */
const mediaByKind = (accs: ReadonlyArray<Accumulator>): { media_by_kind?: Record<string, number> } => {
  const counts: Record<string, number> = {}
  let any = false
  for (const kind of mediaKinds) {
    let n = 0
    for (const acc of accs) n += acc.mediaByKind.get(kind) ?? 0
    if (n > 0) {
      counts[kind] = n
      any = true
    }
  }
  return any ? { media_by_kind: counts } : {}
}

const stripEditedMarker = (text: string): string => {
  const at = text.endsWith(">") ? editedMarkerAt(text) : -1
  return at === -1 ? text : text.slice(0, at)
}

const dayText = (day: number): string => wireDate(day * DAY_MS)

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
