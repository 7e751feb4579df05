/** Activity by weekday and hour: 7 rows of 24 cells, darker for more messages, the busiest outlined. */
import { scaleBand, scaleQuantize } from "d3-scale"
import { type ChartDefinition, nothing } from "./Chart.js"
import { count, hour, plural, weekdays } from "./Format.js"
import { heatRamp, palette } from "./Palette.js"
import { element, text } from "./Svg.js"

interface Cell {
  readonly weekday: number
  readonly hour: number
  readonly count: number
}

const cellsOf = (grid: ReadonlyArray<ReadonlyArray<number>>): ReadonlyArray<Cell> =>
  grid.flatMap((row, weekday) => row.map((n, h) => ({ weekday, hour: h, count: n })))

const busiest = (cells: ReadonlyArray<Cell>): Cell | undefined =>
  cells.reduce<Cell | undefined>((best, cell) => best === undefined || cell.count > best.count ? cell : best, undefined)

export interface Box {
  readonly left: number
  readonly right: number
  readonly top: number
  readonly bottom: number
}

/**
 * The 168 cells of `grid` (7 rows of 24 counts) laid out in `box`, shaded by count, the busiest outlined;
 * each cell carries its weekday, hour and count. Text-free, so the preview image is drawn from it too.
 */
export const heatCells = (grid: ReadonlyArray<ReadonlyArray<number>>, box: Box) => {
  const cells = cellsOf(grid)
  const top = busiest(cells)
  const max = top?.count ?? 0
  const x = scaleBand<number>().domain(Array.from({ length: 24 }, (_, h) => h)).range([box.left, box.right]).paddingInner(0.08)
  const y = scaleBand<number>().domain([0, 1, 2, 3, 4, 5, 6]).range([box.top, box.bottom]).paddingInner(0.08)
  const shade = scaleQuantize<string>().domain([0, Math.max(1, max)]).range(heatRamp)
  const marks = cells.map((cell) => {
    const outlined = cell === top && max > 0
    return element("rect", {
      x: x(cell.hour) ?? 0,
      y: y(cell.weekday) ?? 0,
      width: x.bandwidth(),
      height: y.bandwidth(),
      rx: Math.min(4, x.bandwidth() / 6),
      fill: cell.count === 0 ? palette.empty : shade(cell.count),
      stroke: outlined ? palette.accent : null,
      "stroke-width": outlined ? 2 : null,
      "data-weekday": cell.weekday,
      "data-hour": cell.hour,
      "data-count": cell.count
    })
  })
  return { marks, x, y }
}

export const heatmap: ChartDefinition = {
  kind: "heatmap",
  title: "Activity by weekday and hour",
  size: () => ({ width: 400, height: 210 }),
  summary: ({ stats }) => {
    const grid = stats.totals.activity.by_weekday_hour
    if (grid === undefined) return "The hour-by-weekday counts were not computed for this chat."
    const cells = cellsOf(grid)
    const top = busiest(cells)
    if (top === undefined || top.count === 0) return "No messages."
    const byDay = grid.map((row) => row.reduce((a, b) => a + b, 0))
    const topDay = byDay.indexOf(Math.max(...byDay))
    const quiet = cells.filter((cell) => cell.count === 0).length
    return `${plural(stats.totals.messages, "message")} by weekday and hour of the day. Busiest hour: ` +
      `${weekdays[top.weekday]} ${hour(top.hour)} to ${hour((top.hour + 1) % 24)} with ${plural(top.count, "message")}. ` +
      `Busiest day: ${weekdays[topDay]} with ${plural(byDay[topDay]!, "message")}. ` +
      `${count(quiet)} of 168 hours of the week have no message.`
  },
  draw: ({ stats }, size) => {
    const grid = stats.totals.activity.by_weekday_hour
    if (grid === undefined) return nothing(size, "Not computed for this chat")
    const margin = { top: 22, right: 8, bottom: 28, left: 40 }
    const { marks, x, y } = heatCells(grid, { left: margin.left, right: size.width - margin.right, top: margin.top, bottom: size.height - margin.bottom })
    const dayLabels = weekdays.map((name, d) =>
      text("text", { x: margin.left - 6, y: (y(d) ?? 0) + y.bandwidth() / 2, dy: "0.35em", "text-anchor": "end", fill: palette.muted }, name.slice(0, 3))
    )
    const hourLabels = [0, 3, 6, 9, 12, 15, 18, 21].map((h) =>
      text("text", { x: (x(h) ?? 0) + x.bandwidth() / 2, y: margin.top - 8, "text-anchor": "middle", fill: palette.muted }, hour(h))
    )
    const legendY = size.height - 14
    const legend = [
      text("text", { x: margin.left, y: legendY + 4, fill: palette.muted }, "fewer"),
      ...heatRamp.map((colour, i) => element("rect", { x: margin.left + 40 + i * 16, y: legendY - 6, width: 14, height: 10, rx: 2, fill: colour })),
      text("text", { x: margin.left + 44 + heatRamp.length * 16, y: legendY + 4, fill: palette.muted }, "more")
    ]
    return element("g", {}, ...marks, ...dayLabels, ...hourLabels, ...legend)
  }
}
