/**
 * What a chart is: a kind, a title, a text summary carrying its numbers, and SVG whose marks carry
 * the same numbers in `data-*` attributes. One definition per kind draws it for the shared page and
 * for clients alike; `Charts.ts` lists them.
 */
import type { ChartKind } from "../Domain/Charts.js"
import type { ChatStatistics } from "../Domain/Statistics.js"
import { palette } from "./Palette.js"
import { element, text } from "./Svg.js"

export interface ChartSize {
  readonly width: number
  readonly height: number
}

/** Who looks: the owner sees names and emoji; a shared page sees the anonymised statistics. */
export type Audience = "owner" | "public"

export interface ChartInput {
  readonly stats: ChatStatistics
  readonly audience: Audience
}

export interface Chart {
  readonly kind: ChartKind
  readonly title: string
  readonly summary: string
  readonly svg: string
}

export interface ChartDefinition {
  readonly kind: ChartKind
  readonly title: string
  /** Its natural size for these statistics: the shared page's (it scales with the page) and a client's default. */
  readonly size: (input: ChartInput) => ChartSize
  readonly summary: (input: ChartInput) => string
  /** The marks inside the frame; `size` is the whole drawing. */
  readonly draw: (input: ChartInput, size: ChartSize) => string
}

export const fontFamily = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

/** The chart as one `<svg>`: its title and summary first (what a screen reader announces), then the marks. */
export const render = (definition: ChartDefinition, input: ChartInput, asked: Partial<ChartSize> = {}): Chart => {
  const summary = definition.summary(input)
  const natural = definition.size(input)
  const size = { width: asked.width ?? natural.width, height: asked.height ?? natural.height }
  return { kind: definition.kind, title: definition.title, summary, svg: frame(definition, summary, size, definition.draw(input, size)) }
}

/** A chart of a chat without statistics: the frame, and why it is empty. */
export const renderNothing = (definition: ChartDefinition, size: ChartSize, message: string): Chart => ({
  kind: definition.kind,
  title: definition.title,
  summary: message,
  svg: frame(definition, message, size, nothing(size, message))
})

const frame = (definition: ChartDefinition, summary: string, size: ChartSize, body: string): string => {
  const id = `chart-${definition.kind}`
  return element(
    "svg",
    {
      xmlns: "http://www.w3.org/2000/svg",
      viewBox: `0 0 ${size.width} ${size.height}`,
      width: size.width,
      height: size.height,
      role: "img",
      "aria-labelledby": `${id}-title ${id}-desc`,
      "data-chart": definition.kind,
      "font-family": fontFamily,
      "font-size": 12,
      fill: palette.text
    },
    text("title", { id: `${id}-title` }, definition.title),
    text("desc", { id: `${id}-desc` }, summary),
    element("rect", { width: size.width, height: size.height, fill: palette.background }),
    body
  )
}

/** A chart with nothing to draw says so in its middle. */
export const nothing = (size: ChartSize, message: string): string =>
  text("text", { x: size.width / 2, y: size.height / 2, "text-anchor": "middle", fill: palette.muted, "data-empty": "true" }, message)

/** Longest label that fits `width` pixels at 12 px, cut with an ellipsis (a rough width per character). */
export const fit = (label: string, width: number): string => {
  const room = Math.max(3, Math.floor(width / 6.5))
  const characters = Array.from(label)
  return characters.length <= room ? label : `${characters.slice(0, room - 1).join("")}…`
}
