/**
 * The emoji of a run of pictographs, flags and keycaps, one key per emoji: cut into graphemes (a ZWJ
 * family, a skin-toned hand or a flag is one) and normalised ("❤" and "❤️" are the same key).
 */

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" })
const emojiRuns = new Map<string, ReadonlyArray<string>>()
const EMOJI_RUN_CACHE_LIMIT = 50_000
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}$/u
const TEXT_SYMBOLS = new Set(["\u00a9", "\u00ae", "\u2122"])

/** The emoji of one run, cut into graphemes and normalised; memoised, since runs repeat a lot. */
export const emojiOf = (run: string): ReadonlyArray<string> => {
  const known = emojiRuns.get(run)
  if (known !== undefined) return known
  const found: Array<string> = []
  for (const { segment } of segmenter.segment(run)) {
    const emoji = normaliseEmoji(segment)
    if (emoji !== null) found.push(emoji)
  }
  if (emojiRuns.size < EMOJI_RUN_CACHE_LIMIT) emojiRuns.set(run, found)
  return found
}

/**
 * One key per emoji: a lone symbol takes its emoji form ("❤" and "❤️" are one), a keycap always has
 * its selector, a trailing joiner is dropped; a lone regional indicator and a plain ©, ® or ™ are
 * not emoji.
 */
const normaliseEmoji = (grapheme: string): string | null => {
  let g = grapheme
  while (g.endsWith("\u200d")) g = g.slice(0, -1)
  const bare = g.includes("\ufe0f") ? g.replaceAll("\ufe0f", "") : g
  const firstPoint = bare.codePointAt(0)
  if (firstPoint === undefined) return null
  const single = bare.length === (firstPoint > 0xffff ? 2 : 1)
  if (single) {
    if (firstPoint >= 0x1f1e6 && firstPoint <= 0x1f1ff) return null
    if (bare === g && TEXT_SYMBOLS.has(bare)) return null
    return EMOJI_PRESENTATION.test(bare) ? bare : bare + "\ufe0f"
  }
  if (bare.length === 2 && bare.charCodeAt(1) === 0x20e3) return bare[0] + "\ufe0f\u20e3"
  return g
}
