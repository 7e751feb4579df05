/**
 * What a message is: text, a media placeholder, a system event, a deleted or an edited message. A plain
 * list (its Schema is in Chat.ts), so the parser, which indexes its columns by it, loads no library.
 */
export const messageKinds = ["text", "media", "system", "deleted", "edited"] as const
export type MessageKind = (typeof messageKinds)[number]
