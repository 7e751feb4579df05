/**
 * Messages per month from the first month to the last, months without a message drawn as an empty
 * slot, and the longest silence as a shaded band: how the chat grew and faded.
 */
import { scaleLinear } from "d3-scale"
import type { ChatStatistics } from "../Domain/Statistics.js"
import { type ChartDefinition, nothing } from "./Chart.js"
import { count, day, duration, month, months as monthNames, plural } from "./Format.js"
import { palette } from "./Palette.js"
import { element, text } from "./Svg.js"

export interface MonthCount {
  /** "YYYY-MM" */
  readonly month: string
  readonly messages: number
}

const monthIndex = (date: string): number => Number(date.slice(0, 4)) * 12 + Number(date.slice(5, 7)) - 1
const monthKey = (index: number): string => `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`

/** Every month from the first with a message to the last, with its count (0 for a silent month). */
export const monthly = (stats: ChatStatistics): ReadonlyArray<MonthCount> => {
  const first = stats.timeline[0]
  const last = stats.timeline[stats.timeline.length - 1]
  if (first === undefined || last === undefined) return []
  const start = monthIndex(first.date)
  const counts = new Array<number>(monthIndex(last.date) - start + 1).fill(0)
  for (const entry of stats.timeline) counts[monthIndex(entry.date) - start]! += entry.messages
  return counts.map((messages, i) => ({ month: monthKey(start + i), messages }))
}

/** Where a wall-clock date falls in months since `start`, with the fraction of its month. */
const position = (date: string, start: number): number => {
  const year = Number(date.slice(0, 4))
  const m = Number(date.slice(5, 7))
  const daysInMonth = new Date(Date.UTC(year, m, 0)).getUTCDate()
  return monthIndex(date) - start + (Number(date.slice(8, 10)) - 1) / daysInMonth
}

export const timeline: ChartDefinition = {
  kind: "timeline",
  title: "Messages per month",
  size: () => ({ width: 400, height: 220 }),
  summary: ({ stats }) => {
    const rows = monthly(stats)
    const first = rows[0]
    const last = rows[rows.length - 1]
    if (first === undefined || last === undefined) return "No messages."
    const top = rows.reduce((best, row) => row.messages > best.messages ? row : best, first)
    const silent = rows.filter((row) => row.messages === 0).length
    const silence = stats.longest_silence
    return `${plural(stats.totals.messages, "message")} over ${plural(rows.length, "month")}, ${month(first.month)} to ` +
      `${month(last.month)}. Busiest month: ${month(top.month)} with ${plural(top.messages, "message")}. ` +
      `${plural(silent, "month")} without a message.` +
      (silence === null ? "" : ` Longest silence: ${duration(silence.seconds)}, ${day(silence.from)} to ${day(silence.to)}.`)
  },
  draw: ({ stats }, size) => {
    const rows = monthly(stats)
    const first = rows[0]
    if (first === undefined) return nothing(size, "No messages")
    const start = monthIndex(`${first.month}-01`)
    const max = Math.max(...rows.map((row) => row.messages))
    const margin = { top: 28, right: 12, bottom: 26, left: 44 }
    const x = scaleLinear().domain([0, rows.length]).range([margin.left, size.width - margin.right])
    const y = scaleLinear().domain([0, Math.max(1, max)]).nice().range([size.height - margin.bottom, margin.top])
    const slot = x(1) - x(0)
    const bar = Math.max(1, slot * 0.8)
    const parts: Array<string> = []
    const silence = stats.longest_silence
    if (silence !== null && silence.seconds > 0) {
      const from = x(position(silence.from, start))
      const to = x(position(silence.to, start))
      parts.push(
        element("rect", {
          x: from,
          y: margin.top,
          width: Math.max(2, to - from),
          height: size.height - margin.bottom - margin.top,
          fill: palette.accent,
          "fill-opacity": 0.14,
          "data-silence-seconds": silence.seconds,
          "data-from": silence.from,
          "data-to": silence.to
        }),
        text("text", {
          x: Math.min(Math.max(from, margin.left), size.width - margin.right - 150),
          y: margin.top - 8,
          fill: palette.accent
        }, `Longest silence: ${duration(silence.seconds)}`)
      )
    }
    const top = y.domain()[1] ?? max
    parts.push(
      element("line", { x1: margin.left, x2: size.width - margin.right, y1: y(top), y2: y(top), stroke: palette.grid }),
      text("text", { x: margin.left - 6, y: y(top), dy: "0.35em", "text-anchor": "end", fill: palette.muted }, count(top)),
      element("line", { x1: margin.left, x2: size.width - margin.right, y1: y(0), y2: y(0), stroke: palette.muted }),
      text("text", { x: margin.left - 6, y: y(0), dy: "0.35em", "text-anchor": "end", fill: palette.muted }, "0")
    )
    rows.forEach((row, i) => {
      const left = x(i) + (slot - bar) / 2
      parts.push(
        row.messages === 0
          // A silent month: an empty slot marked on the baseline, so a gap reads as a gap.
          ? element("rect", { x: left, y: y(0) - 2, width: bar, height: 2, fill: palette.grid, "data-month": row.month, "data-count": 0 })
          : element("rect", { x: left, y: y(row.messages), width: bar, height: y(0) - y(row.messages), fill: palette.primary, "data-month": row.month, "data-count": row.messages })
      )
    })
    // Month names for a short chat, the year at each January (and the first month) for a long one,
    // skipping a label that would touch the one before.
    let lastLabelAt = Number.NEGATIVE_INFINITY
    const minGap = rows.length <= 12 ? 0 : 36
    rows.forEach((row, i) => {
      const m = Number(row.month.slice(5, 7)) - 1
      const label = rows.length <= 12 ? monthNames[m] ?? "" : m === 0 || i === 0 ? row.month.slice(0, 4) : ""
      const at = x(i) + slot / 2
      if (label === "" || at - lastLabelAt < minGap) return
      lastLabelAt = at
      parts.push(text("text", { x: at, y: size.height - margin.bottom + 16, "text-anchor": "middle", fill: palette.muted }, label))
    })
    return element("g", {}, ...parts)
  }
}
