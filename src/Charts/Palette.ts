/**
 * The charts' colours: from Okabe and Ito's palette (told apart with every common colour-vision
 * deficiency), a single-hue ramp for the heatmap whose steps darken steadily (read by lightness
 * alone), and WCAG's contrast ratio to check them against the background (test/charts-palette).
 */

export const palette = {
  background: "#ffffff",
  /** Body text and labels. */
  text: "#1f2328",
  /** Axis labels, notes. */
  muted: "#57606a",
  /** Grid lines and empty cells: decoration, never the only carrier of a value. */
  grid: "#d0d7de",
  empty: "#f3f4f6",
  /** Bars and marks (Okabe-Ito blue). */
  primary: "#0072b2",
  /** What stands out: the longest silence, the busiest cell's outline (Okabe-Ito vermillion). */
  accent: "#b34a00"
} as const

/** Heatmap steps, lightest (fewest messages) to darkest; an empty cell is `palette.empty`. */
export const heatRamp: ReadonlyArray<string> = ["#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b"]

const channel = (value: number): number => {
  const c = value / 255
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
}

/** Relative luminance of `#rrggbb` (WCAG 2.x). */
export const luminance = (hex: string): number => {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex)
  if (match === null) throw new RangeError(`not a #rrggbb colour: ${hex}`)
  const [r, g, b] = [match[1]!, match[2]!, match[3]!].map((part) => channel(Number.parseInt(part, 16)))
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
}

/** WCAG contrast ratio of two colours, 1 to 21. */
export const contrast = (a: string, b: string): number => {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (light! + 0.05) / (dark! + 0.05)
}
