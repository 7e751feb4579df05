/**
 * A small SVG (and HTML) writer: elements as strings with escaped text and attributes, and numbers
 * rounded so the markup stays small. Charts build their markup with it; nothing here knows charts.
 */

export type Attributes = Readonly<Record<string, string | number | null | undefined>>

const entities: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }

/** Text safe inside an element or a quoted attribute. */
export const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c] ?? c)

/** Coordinates to two decimals: enough for any screen, and a third of the bytes of a full double. */
export const round = (n: number): number => Math.round(n * 100) / 100

const attributeText = (attributes: Attributes): string => {
  let text = ""
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue
    text += ` ${name}="${typeof value === "number" ? round(value) : escape(value)}"`
  }
  return text
}

/** `<name attributes>children</name>`; children are markup already (use `text` for plain text). */
export const element = (name: string, attributes: Attributes = {}, ...children: ReadonlyArray<string>): string =>
  children.length === 0
    ? `<${name}${attributeText(attributes)}/>`
    : `<${name}${attributeText(attributes)}>${children.join("")}</${name}>`

/** An element holding plain text. */
export const text = (name: string, attributes: Attributes, content: string): string =>
  `<${name}${attributeText(attributes)}>${escape(content)}</${name}>`
