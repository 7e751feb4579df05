/**
 * The link-preview image of a shared page (Open Graph, 1200 x 630): the chat's weekday-by-hour heatmap,
 * drawn without a single character of text, so no name or word can reach an image that messengers
 * copy and keep. Rasterised by resvg (its binary ships in the npm package).
 */
import { Resvg } from "@resvg/resvg-js"
import { heatCells, palette } from "../Charts.js"
import type { ChatStatistics } from "../Domain/Statistics.js"

export const previewSize = { width: 1200, height: 630 } as const

const emptyWeek: ReadonlyArray<ReadonlyArray<number>> = Array.from({ length: 7 }, () => new Array<number>(24).fill(0))

/** The preview as SVG: a band in the chart colour over the heatmap; no `<text>`, no `<title>`. */
export const previewSvg = (stats: ChatStatistics | null): string => {
  const grid = stats?.totals.activity.by_weekday_hour ?? emptyWeek
  const { width, height } = previewSize
  const { marks } = heatCells(grid, { left: 60, right: width - 60, top: 88, bottom: height - 50 })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="${width}" height="${height}" fill="${palette.background}"/>` +
    `<rect width="${width}" height="48" fill="${palette.primary}"/>` +
    marks.join("") +
    `</svg>`
}

/** The PNG of `svg`; no fonts are loaded, as the preview has no text to set. */
export const rasterise = (svg: string): Uint8Array =>
  new Resvg(svg, { font: { loadSystemFonts: false }, fitTo: { mode: "original" } }).render().asPng()
