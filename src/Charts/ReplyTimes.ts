/**
 * How fast each participant answers: every answer (a message after someone else's) by its delay, in
 * fixed buckets from under a minute to over a day, one small bar chart per participant.
 */
import { scaleBand, scaleLinear } from "d3-scale"
import type { ParticipantStatistics, ResponseTimeBucket } from "../Domain/Statistics.js"
import { type ChartDefinition, fit, nothing } from "./Chart.js"
import { duration, percent, plural } from "./Format.js"
import { palette } from "./Palette.js"
import { element, text } from "./Svg.js"

/** "<1m", "5–15m", "15–60m", "1–6h", ">1d": a bound in the unit of the bucket's upper end. */
const bucketLabel = (bucket: ResponseTimeBucket): string => {
  const unitOf = (seconds: number) => seconds <= 3_600 ? [60, "m"] as const : seconds <= 86_400 ? [3_600, "h"] as const : [86_400, "d"] as const
  if (bucket.to_seconds === null) {
    const [size, unit] = unitOf(bucket.from_seconds)
    return `>${bucket.from_seconds / size}${unit}`
  }
  const [size, unit] = unitOf(bucket.to_seconds)
  return bucket.from_seconds === 0 ? `<${bucket.to_seconds / size}${unit}` : `${bucket.from_seconds / size}–${bucket.to_seconds / size}${unit}`
}

interface Row {
  readonly name: string
  readonly buckets: ReadonlyArray<ResponseTimeBucket>
  readonly answers: number
  readonly median: number | null
}

const rowsOf = (participants: ReadonlyArray<ParticipantStatistics>): ReadonlyArray<Row> =>
  participants.flatMap((p) => {
    const buckets = p.response_time_buckets
    if (buckets === undefined) return []
    return [{ name: p.name, buckets, answers: buckets.reduce((sum, b) => sum + b.count, 0), median: p.response_times.replies.median_seconds }]
  }).filter((row) => row.answers > 0)

const within = (row: Row, seconds: number): number =>
  row.buckets.filter((b) => b.to_seconds !== null && b.to_seconds <= seconds).reduce((sum, b) => sum + b.count, 0)

export const replyTimes: ChartDefinition = {
  kind: "reply-times",
  title: "How fast each participant answers",
  size: ({ stats }) => ({ width: 400, height: 34 + 62 * Math.max(1, Math.min(6, rowsOf(stats.participants).length)) }),
  summary: ({ stats }) => {
    if (stats.participants.length > 0 && stats.participants.every((p) => p.response_time_buckets === undefined)) {
      return "Answer times were not computed for this chat."
    }
    const rows = rowsOf(stats.participants)
    if (rows.length === 0) return "No answers: no message follows someone else's."
    const listed = rows.slice(0, 10).map((row) =>
      `${row.name}: ${plural(row.answers, "answer")}, ${percent(within(row, 300), row.answers)} within 5 minutes` +
      (row.median === null ? "" : `, median reply ${duration(row.median)}`)
    )
    return `Answers by delay (under 1 minute, 1 to 5, 5 to 15, 15 to 60 minutes, 1 to 6 hours, 6 to 24 hours, over a day). ${listed.join("; ")}.`
  },
  draw: ({ stats }, size) => {
    const margin = { top: 8, right: 8, bottom: 22, left: Math.min(150, Math.max(104, size.width * 0.26)) }
    const room = Math.max(1, Math.floor((size.height - margin.top - margin.bottom) / 34))
    const rows = rowsOf(stats.participants).slice(0, Math.min(6, room))
    const first = rows[0]
    if (first === undefined) return nothing(size, stats.participants.some((p) => p.response_time_buckets !== undefined) ? "No answers" : "Not computed for this chat")
    const x = scaleBand<number>().domain(first.buckets.map((_, i) => i)).range([margin.left, size.width - margin.right]).paddingInner(0.2)
    const rowY = scaleBand<number>().domain(rows.map((_, i) => i)).range([margin.top, size.height - margin.bottom]).paddingInner(0.3)
    const maxShare = Math.max(...rows.flatMap((row) => row.buckets.map((b) => b.count / row.answers)))
    const parts: Array<string> = []
    rows.forEach((row, r) => {
      const top = rowY(r) ?? 0
      const height = rowY.bandwidth()
      const bar = scaleLinear().domain([0, maxShare]).range([0, Math.max(1, height - 12)])
      parts.push(
        text("text", { x: margin.left - 8, y: top + height - 4, "text-anchor": "end" }, fit(row.name, margin.left - 12)),
        element("line", { x1: margin.left, x2: size.width - margin.right, y1: top + height, y2: top + height, stroke: palette.grid })
      )
      row.buckets.forEach((bucket, i) => {
        const h = bar(bucket.count / row.answers)
        parts.push(element("rect", {
          x: x(i) ?? 0,
          y: top + height - h,
          width: x.bandwidth(),
          height: h,
          fill: palette.primary,
          "data-participant": row.name,
          "data-bucket": bucketLabel(bucket),
          "data-from-seconds": bucket.from_seconds,
          "data-to-seconds": bucket.to_seconds === null ? "none" : bucket.to_seconds,
          "data-count": bucket.count
        }))
        if (height >= 28 && bucket.count > 0) {
          parts.push(text("text", { x: (x(i) ?? 0) + x.bandwidth() / 2, y: top + height - h - 3, "text-anchor": "middle", "font-size": 10, fill: palette.muted }, percent(bucket.count, row.answers)))
        }
      })
    })
    first.buckets.forEach((bucket, i) => {
      parts.push(text("text", { x: (x(i) ?? 0) + x.bandwidth() / 2, y: size.height - 6, "text-anchor": "middle", fill: palette.muted, "font-size": 11 }, bucketLabel(bucket)))
    })
    return element("g", {}, ...parts)
  }
}
