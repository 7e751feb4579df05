/**
 * The longest run of consecutive days with messages and the longest silence, each as a number and
 * as a span on a strip covering the whole chat, so their place in its life shows too.
 */
import { scaleLinear } from "d3-scale"
import { type ChartDefinition, nothing } from "./Chart.js"
import { day, duration, plural } from "./Format.js"
import { palette } from "./Palette.js"
import { element, text } from "./Svg.js"

const DAY_MS = 86_400_000
const at = (wallClock: string): number => Date.parse(`${wallClock.length === 10 ? `${wallClock}T00:00:00` : wallClock}Z`)

export const streaks: ChartDefinition = {
  kind: "streaks",
  title: "Longest streak and longest silence",
  size: () => ({ width: 400, height: 190 }),
  summary: ({ stats }) => {
    const streak = stats.longest_streak
    const silence = stats.longest_silence
    if (streak === null) return "No messages."
    return `Longest streak: ${plural(streak.days, "day")} in a row with messages, ${day(streak.from)} to ${day(streak.to)}. ` +
      (silence === null || silence.seconds === 0
        ? "No silence: a single message."
        : `Longest silence: ${duration(silence.seconds)} without a message, ${day(silence.from)} to ${day(silence.to)}.`)
  },
  draw: ({ stats }, size) => {
    const streak = stats.longest_streak
    const silence = stats.longest_silence
    const first = stats.first_message
    const last = stats.last_message
    if (streak === null || first === null || last === null) return nothing(size, "No messages")
    const margin = { left: 16, right: 16 }
    const start = at(first.at.slice(0, 10))
    const end = Math.max(start + DAY_MS, at(last.at.slice(0, 10)) + DAY_MS)
    const x = scaleLinear().domain([start, end]).range([margin.left, size.width - margin.right]).clamp(true)
    const half = size.width / 2
    const stripY = size.height - 46
    const parts: Array<string> = [
      text("text", { x: margin.left, y: 24, fill: palette.muted }, "Longest streak"),
      text("text", { x: margin.left, y: 60, "font-size": 30, "font-weight": 700, fill: palette.primary, "data-streak-days": streak.days }, plural(streak.days, "day")),
      text("text", { x: margin.left, y: 82, fill: palette.muted }, `${day(streak.from)} – ${day(streak.to)}`),
      element("rect", { x: margin.left, y: stripY, width: size.width - margin.left - margin.right, height: 16, rx: 3, fill: palette.empty, stroke: palette.grid }),
      element("rect", {
        x: x(at(streak.from)),
        y: stripY,
        width: Math.max(3, x(at(streak.to) + DAY_MS) - x(at(streak.from))),
        height: 16,
        fill: palette.primary,
        "data-streak-from": streak.from,
        "data-streak-to": streak.to
      }),
      text("text", { x: margin.left, y: size.height - 10, fill: palette.muted }, day(first.at)),
      text("text", { x: size.width - margin.right, y: size.height - 10, "text-anchor": "end", fill: palette.muted }, day(last.at))
    ]
    if (silence !== null && silence.seconds > 0) {
      parts.push(
        text("text", { x: half, y: 24, fill: palette.muted }, "Longest silence"),
        text("text", { x: half, y: 60, "font-size": 30, "font-weight": 700, fill: palette.accent, "data-silence-seconds": silence.seconds }, duration(silence.seconds)),
        text("text", { x: half, y: 82, fill: palette.muted }, `${day(silence.from)} – ${day(silence.to)}`),
        element("rect", {
          x: x(at(silence.from)),
          y: stripY - 4,
          width: Math.max(3, x(at(silence.to)) - x(at(silence.from))),
          height: 24,
          fill: "none",
          stroke: palette.accent,
          "stroke-width": 2,
          "data-silence-from": silence.from,
          "data-silence-to": silence.to
        })
      )
    }
    return element("g", {}, ...parts)
  }
}
