/** What a message is: text, a media placeholder, a system event, a deleted or an edited message. */
import { Schema } from "effect"

export const MessageKind = Schema.Literal("text", "media", "system", "deleted", "edited")
export type MessageKind = typeof MessageKind.Type
