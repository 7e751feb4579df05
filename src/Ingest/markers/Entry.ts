/**
 * One marker of WhatsApp's export text as the reference table (whatsapp-markers.json) gives it: where it
 * is printed, what it marks, and how sure its sources are. Placeholders such as `{name}` stand for the
 * variable part.
 */
export type MarkerPlatform = "android" | "ios" | "both"

/** "seen": matched in a real export; "code": from WhatsApp's string tables or parser lists; "uncertain": one weak source. */
export type MarkerConfidence = "seen" | "code" | "uncertain"

export type MarkerEntry = readonly [
  platform: MarkerPlatform,
  category: string,
  subtype: string,
  text: string,
  confidence: MarkerConfidence
]
