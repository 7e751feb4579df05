/** The chart kinds, as the chart endpoint names them (`<kind>.svg`) and the shared page draws them. */
import { Schema } from "effect"

export const chartKinds = ["heatmap", "timeline", "participants", "reply-times", "starters", "streaks", "emoji"] as const
export const ChartKind = Schema.Literal(...chartKinds)
export type ChartKind = typeof ChartKind.Type

/** A chart's file name in its URL. */
export const ChartFile = Schema.Literal(
  "heatmap.svg",
  "timeline.svg",
  "participants.svg",
  "reply-times.svg",
  "starters.svg",
  "streaks.svg",
  "emoji.svg"
).annotations({ description: "the chart kind, as `<kind>.svg`" })
export type ChartFile = typeof ChartFile.Type

/** Spelled out rather than sliced from the file name, so the compiler checks both lists agree. */
export const kindOfFile: Readonly<Record<ChartFile, ChartKind>> = {
  "heatmap.svg": "heatmap",
  "timeline.svg": "timeline",
  "participants.svg": "participants",
  "reply-times.svg": "reply-times",
  "starters.svg": "starters",
  "streaks.svg": "streaks",
  "emoji.svg": "emoji"
}
