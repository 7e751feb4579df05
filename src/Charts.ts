/**
 * Charts of a chat's statistics as SVG: one definition per kind (in `Charts/`), drawn for the shared
 * page (anonymised statistics) and for the owner's clients (`GET /api/chats/{chat_id}/charts/{kind}.svg`).
 * Scales come from d3-scale; the markup from the small writer in `Charts/Svg.ts`.
 */
import { type Audience, type Chart, type ChartDefinition, type ChartSize, render, renderNothing } from "./Charts/Chart.js"
import { emoji } from "./Charts/Emoji.js"
import { heatmap } from "./Charts/Heatmap.js"
import { participants } from "./Charts/Participants.js"
import { replyTimes } from "./Charts/ReplyTimes.js"
import { starters } from "./Charts/Starters.js"
import { streaks } from "./Charts/Streaks.js"
import { timeline } from "./Charts/Timeline.js"
import type { ChartKind } from "./Domain/Charts.js"
import type { ChatStatistics } from "./Domain/Statistics.js"

export type { Audience, Chart, ChartSize } from "./Charts/Chart.js"
export { contrast, heatRamp, palette } from "./Charts/Palette.js"
export { escape } from "./Charts/Svg.js"

export const definitions: Readonly<Record<ChartKind, ChartDefinition>> = {
  heatmap,
  timeline,
  participants,
  "reply-times": replyTimes,
  starters,
  streaks,
  emoji
}

/** The shared page's order: when they talk, how it grew, who, how fast, who starts, the extremes, emoji. */
export const pageOrder: ReadonlyArray<ChartKind> = ["heatmap", "timeline", "participants", "reply-times", "starters", "streaks", "emoji"]

/** `kind` drawn from `stats` at `size`; a chat without statistics gets the chart's frame saying so. */
export const drawChartOf = (kind: ChartKind, stats: ChatStatistics | null, audience: Audience, size: Partial<ChartSize> = {}): Chart =>
  stats === null
    ? renderNothing(definitions[kind], { width: size.width ?? 400, height: size.height ?? 160 }, "No statistics for this chat")
    : render(definitions[kind], { stats, audience }, size)

/** `kind` drawn from `stats` at `size` (the kind's own size when none is asked). */
export const drawChart = (kind: ChartKind, stats: ChatStatistics, audience: Audience, size: Partial<ChartSize> = {}): Chart =>
  render(definitions[kind], { stats, audience }, size)
export { heatCells } from "./Charts/Heatmap.js"
