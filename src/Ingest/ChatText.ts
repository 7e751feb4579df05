/** Export bytes to chat text: the encodings WhatsApp writes, and the refusals of what is not text. */
import { refusal, type Refusal } from "./Refusal.js"

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * Decodes export bytes: UTF-8 (a BOM is dropped), or UTF-16 when a UTF-16 BOM says so (old Windows
 * exports). Refuses empty, binary and invalid UTF-8 content.
 */
export const decodeChatBytes = (bytes: Uint8Array): string | Refusal => {
  if (bytes.length === 0) return refusal("empty", "The file is empty.")
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    try {
      const text = new TextDecoder(bytes[0] === 0xff ? "utf-16le" : "utf-16be", { fatal: true }).decode(bytes)
      return isBlank(text) ? refusal("empty", "The file has no text in it.") : text
    } catch {
      return refusal("invalid-utf8", "The file claims to be UTF-16 text but is not valid UTF-16.")
    }
  }
  // A chat is text: NUL bytes never occur in one, and control characters other than tab and line
  // breaks are rare. Only a prefix is examined; that is enough to catch images, archives and the like.
  const sample = Math.min(bytes.length, 65_536)
  let control = 0
  for (let i = 0; i < sample; i++) {
    const b = bytes[i]!
    if (b === 0) return refusal("binary", "The file is binary data, not a text chat export.")
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) || b === 0x7f) control++
  }
  if (control / sample > 0.01) return refusal("binary", "The file is binary data, not a text chat export.")
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return refusal("invalid-utf8", "The file is not valid UTF-8 text; WhatsApp exports are UTF-8.")
  }
  return isBlank(text) ? refusal("empty", "The file has no text in it.") : text
}

export const isBlank = (text: string): boolean => /^[\s\uFEFF\u200E\u200F]*$/.test(text)
