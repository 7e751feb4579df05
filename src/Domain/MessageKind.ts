/**
 * What a message is: text, a media placeholder, a system event, a deleted or an edited message; what
 * media it carries; which system event it is. Plain lists (their Schemas are in Chat.ts), so the parser,
 * which indexes its columns by them, loads no library.
 */
export const messageKinds = ["text", "media", "system", "deleted", "edited"] as const
export type MessageKind = (typeof messageKinds)[number]

/**
 * The media a `media` message carries. `unknown` is Android's "<Media omitted>", which does not say;
 * `view_once` is a photo or video the sender allowed to be seen once (exported without a kind).
 */
export const mediaKinds = [
  "image", "video", "audio", "voice", "sticker", "gif", "document", "contact", "location", "poll", "view_once", "unknown"
] as const
export type MediaKind = (typeof mediaKinds)[number]

/** The system events WhatsApp writes into an export, by what they record. */
export const systemEvents = [
  "encryption", "created", "added", "removed", "left", "joined", "community", "subject", "icon", "description",
  "settings", "admin", "security_code", "number_changed", "disappearing", "call", "pinned", "kept", "contact",
  "privacy", "other"
] as const
export type SystemEvent = (typeof systemEvents)[number]
