/**
 * The chat's most used emoji, counted over everyone: the same on a shared page as for the owner (no
 * participant's own emoji are shown anywhere public, see `anonymise` in Chats.ts).
 */
import { type Bar, barsSize, fitRows, horizontalBars } from "./Bars.js"
import type { ChartDefinition } from "./Chart.js"
import { count, plural } from "./Format.js"

interface Row {
  readonly emoji: string
  readonly count: number
  readonly others: number
}

const fold = (rest: ReadonlyArray<Row>): Row => ({ emoji: `${rest.length} more`, count: rest.reduce((s, r) => s + r.count, 0), others: rest.length })

export const emoji: ChartDefinition = {
  kind: "emoji",
  title: "Top emoji",
  size: ({ stats }) => barsSize(Math.min(10, stats.totals.top_emoji.length)),
  summary: ({ stats }) => {
    const top = stats.totals.top_emoji
    if (top.length === 0) return "No emoji."
    return `The ${plural(Math.min(10, top.length), "most used emoji", "most used emoji")}: ` +
      `${top.slice(0, 10).map((e) => `${e.emoji} ${count(e.count)}`).join(", ")}.`
  },
  draw: ({ stats }, size) => {
    const rows = stats.totals.top_emoji.slice(0, 10).map((e) => ({ emoji: e.emoji, count: e.count, others: 0 }))
    const bars = fitRows(rows, size, 10, fold).map((row): Bar => ({
      label: row.emoji,
      value: row.count,
      note: count(row.count),
      data: row.others > 0 ? { "data-others": row.others, "data-count": row.count } : { "data-emoji": row.emoji, "data-count": row.count }
    }))
    return horizontalBars(bars, size, "No emoji", 16)
  }
}
