/**
 * The statistics only charts need, computed at upload from the same messages as the rest: messages
 * by weekday and hour together (the heatmap) and each participant's answer times in fixed buckets.
 * Kept apart from `Statistics.ts` so the counting core stays one pass with one purpose.
 */
import type { ChatStatistics, ResponseTimeBucket } from "../Domain/Statistics.js"
import { arraySource, type MessageSource, type ParsedMessage } from "./Messages.js"

/** Upper bounds of the answer-time buckets in seconds; the last bucket has none (more than a day). */
export const responseTimeBounds: ReadonlyArray<number> = [60, 300, 900, 3_600, 21_600, 86_400]

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/**
 * `stats` with `totals.activity.by_weekday_hour` (7 rows, Monday first, of 24 hourly counts) and each
 * participant's `response_time_buckets`. Messages and answers are read exactly as `computeStatistics`
 * reads them: system events and authorless entries count nowhere; an answer is a message whose author
 * differs from the previous message's, its time the gap to that message (0 when the clock went back).
 * So the heatmap sums to `totals.messages` and a participant's buckets sum to their replies plus
 * restarts.
 */
export const withChartStatistics = (
  input: MessageSource | ReadonlyArray<ParsedMessage>,
  stats: ChatStatistics
): ChatStatistics => {
  const messages = isMessageArray(input) ? arraySource(input) : input
  const heatmap = Array.from({ length: 7 }, () => new Array<number>(24).fill(0))
  const buckets = new Map<string, Array<number>>()
  let previousAuthor: string | null = null
  let previousAt = 0
  for (let i = 0; i < messages.length; i++) {
    const author = messages.author(i)
    if (author === null || messages.kind(i) === "system") continue
    const at = messages.sentAt(i)
    const day = Math.floor(at / DAY_MS)
    heatmap[(((day + 3) % 7) + 7) % 7]![Math.floor((at - day * DAY_MS) / HOUR_MS)]!++
    if (previousAuthor !== null && previousAuthor !== author) {
      let counts = buckets.get(author)
      if (counts === undefined) {
        counts = new Array<number>(responseTimeBounds.length + 1).fill(0)
        buckets.set(author, counts)
      }
      counts[bucketOf(Math.max(0, at - previousAt) / 1000)]!++
    }
    previousAuthor = author
    previousAt = at
  }
  return {
    ...stats,
    totals: { ...stats.totals, activity: { ...stats.totals.activity, by_weekday_hour: heatmap } },
    participants: stats.participants.map((participant) => ({
      ...participant,
      response_time_buckets: describeBuckets(buckets.get(participant.name))
    }))
  }
}

const isMessageArray = (input: MessageSource | ReadonlyArray<ParsedMessage>): input is ReadonlyArray<ParsedMessage> =>
  Array.isArray(input)

const bucketOf = (seconds: number): number => {
  for (let i = 0; i < responseTimeBounds.length; i++) if (seconds < responseTimeBounds[i]!) return i
  return responseTimeBounds.length
}

const describeBuckets = (counts: ReadonlyArray<number> | undefined): Array<ResponseTimeBucket> =>
  Array.from({ length: responseTimeBounds.length + 1 }, (_, i) => ({
    from_seconds: i === 0 ? 0 : responseTimeBounds[i - 1]!,
    to_seconds: i < responseTimeBounds.length ? responseTimeBounds[i]! : null,
    count: counts?.[i] ?? 0
  }))
