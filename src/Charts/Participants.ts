/** Each participant's share of the messages, most first; a long tail folds into one row. */
import type { ParticipantStatistics } from "../Domain/Statistics.js"
import { type Bar, barsSize, fitRows, horizontalBars } from "./Bars.js"
import type { ChartDefinition } from "./Chart.js"
import { count, percent, plural } from "./Format.js"

interface Row {
  readonly name: string
  readonly messages: number
  readonly others: number
}

const rowsOf = (participants: ReadonlyArray<ParticipantStatistics>): ReadonlyArray<Row> =>
  participants.map((p) => ({ name: p.name, messages: p.messages, others: 0 }))

const fold = (rest: ReadonlyArray<Row>): Row => ({
  name: `${rest.length} others`,
  messages: rest.reduce((sum, row) => sum + row.messages, 0),
  others: rest.length
})

export const participants: ChartDefinition = {
  kind: "participants",
  title: "Share of messages per participant",
  size: ({ stats }) => barsSize(Math.min(12, stats.participants.length)),
  summary: ({ stats }) => {
    const total = stats.totals.messages
    if (stats.participants.length === 0) return "No messages."
    const listed = stats.participants.slice(0, 10).map((p) => `${p.name} ${plural(p.messages, "message")} (${percent(p.messages, total)})`)
    const more = stats.participants.length - listed.length
    return `${plural(total, "message")} from ${plural(stats.participants.length, "participant")}: ${listed.join(", ")}` +
      (more > 0 ? `, and ${plural(more, "other participant")}.` : ".")
  },
  draw: ({ stats }, size) => {
    const total = stats.totals.messages
    const bars = fitRows(rowsOf(stats.participants), size, 12, fold).map((row): Bar => ({
      label: row.name,
      value: row.messages,
      note: `${count(row.messages)} (${percent(row.messages, total)})`,
      data: row.others > 0
        ? { "data-others": row.others, "data-messages": row.messages }
        : { "data-participant": row.name, "data-messages": row.messages, "data-share": total === 0 ? 0 : row.messages / total }
    }))
    return horizontalBars(bars, size, "No messages")
  }
}
