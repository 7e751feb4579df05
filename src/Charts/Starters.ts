/** Who starts conversations: the first message after a silence of at least the chat's threshold. */
import type { ParticipantStatistics } from "../Domain/Statistics.js"
import { type Bar, barsSize, fitRows, horizontalBars } from "./Bars.js"
import type { ChartDefinition } from "./Chart.js"
import { count, percent, plural } from "./Format.js"

interface Row {
  readonly name: string
  readonly started: number
  readonly others: number
}

const fold = (rest: ReadonlyArray<Row>): Row => ({
  name: `${rest.length} others`,
  started: rest.reduce((sum, row) => sum + row.started, 0),
  others: rest.length
})

const byStarts = (participants: ReadonlyArray<ParticipantStatistics>): ReadonlyArray<Row> =>
  participants
    .map((p) => ({ name: p.name, started: p.conversations_started, others: 0 }))
    .sort((a, b) => b.started - a.started)

export const starters: ChartDefinition = {
  kind: "starters",
  title: "Who starts conversations",
  size: ({ stats }) => barsSize(Math.min(12, stats.participants.length)),
  summary: ({ stats }) => {
    const total = stats.totals.conversations
    if (total === 0) return "No conversations."
    const hours = stats.settings.silence_threshold_minutes / 60
    const listed = byStarts(stats.participants).slice(0, 10).map((row) => `${row.name} ${count(row.started)} (${percent(row.started, total)})`)
    return `${plural(total, "conversation")}, each starting after at least ${plural(hours, "hour")} of silence. Started by: ${listed.join(", ")}.`
  },
  draw: ({ stats }, size) => {
    const total = stats.totals.conversations
    const bars = fitRows(byStarts(stats.participants), size, 12, fold).map((row): Bar => ({
      label: row.name,
      value: row.started,
      note: `${count(row.started)} (${percent(row.started, total)})`,
      data: row.others > 0
        ? { "data-others": row.others, "data-started": row.started }
        : { "data-participant": row.name, "data-started": row.started }
    }))
    return horizontalBars(bars, size, "No conversations")
  }
}
