/** Horizontal bars with a label before and the value after: the shape of every per-participant count. */
import { scaleBand, scaleLinear } from "d3-scale"
import { type Attributes, element, text } from "./Svg.js"
import { type ChartSize, fit, nothing } from "./Chart.js"
import { palette } from "./Palette.js"

export interface Bar {
  readonly label: string
  readonly value: number
  /** Written after the bar, e.g. "120 (42%)". */
  readonly note: string
  readonly data: Attributes
}

/** A natural size for `rows` bars (at least room for one line of text). */
export const barsSize = (rows: number): ChartSize => ({ width: 400, height: Math.max(80, 16 + rows * 30) })

/** The rows that fit `size` (at least 16 px each, at most `max`); the rest folded into one "others" row. */
export const fitRows = <A>(rows: ReadonlyArray<A>, size: ChartSize, max: number, fold: (rest: ReadonlyArray<A>) => A): ReadonlyArray<A> => {
  const room = Math.max(1, Math.min(max, Math.floor((size.height - 16) / 16)))
  return rows.length <= room ? rows : [...rows.slice(0, room - 1), fold(rows.slice(room - 1))]
}

export const horizontalBars = (bars: ReadonlyArray<Bar>, size: ChartSize, empty: string, labelFont = 12): string => {
  if (bars.length === 0) return nothing(size, empty)
  const margin = { top: 8, right: 96, bottom: 8, left: Math.min(150, Math.max(104, size.width * 0.26)) }
  const y = scaleBand<number>().domain(bars.map((_, i) => i)).range([margin.top, size.height - margin.bottom]).paddingInner(0.25)
  const max = Math.max(1, ...bars.map((bar) => bar.value))
  const x = scaleLinear().domain([0, max]).range([margin.left, size.width - margin.right])
  const band = Math.min(y.bandwidth(), 28)
  return element(
    "g",
    {},
    ...bars.flatMap((bar, i) => {
      const top = (y(i) ?? 0) + (y.bandwidth() - band) / 2
      const middle = top + band / 2
      return [
        text("text", { x: margin.left - 8, y: middle, dy: "0.35em", "text-anchor": "end", "font-size": labelFont }, fit(bar.label, margin.left - 12)),
        element("rect", { x: margin.left, y: top, width: Math.max(bar.value > 0 ? 1 : 0, x(bar.value) - margin.left), height: band, rx: 2, fill: palette.primary, ...bar.data }),
        text("text", { x: x(bar.value) + 6, y: middle, dy: "0.35em", fill: palette.muted }, bar.note)
      ]
    })
  )
}
