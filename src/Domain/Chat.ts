/** Chats as shown to their owner: the stored chat, its parse report, and its messages. */
import { Schema } from "effect"
import { NotFound } from "./Errors.js"

/** A wall-clock time as the export wrote it, without a time zone: `YYYY-MM-DDTHH:MM:SS`. */
export const WallClockText = Schema.String.annotations({
  description: "Wall-clock time as written in the export, no time zone (YYYY-MM-DDTHH:MM:SS)"
})

export const ChatId = Schema.UUID.annotations({ description: "A chat id" })

export const ParseReport = Schema.Struct({
  format: Schema.String,
  shape: Schema.String,
  day_first: Schema.Boolean,
  day_first_confidence: Schema.String,
  messages: Schema.Int,
  system_events: Schema.Int,
  media: Schema.Int,
  deleted: Schema.Int,
  edited: Schema.Int,
  participants: Schema.Array(Schema.String),
  unreadable_lines: Schema.Int,
  unreadable_samples: Schema.Array(Schema.String),
  first_message_at: Schema.NullOr(WallClockText),
  last_message_at: Schema.NullOr(WallClockText),
  warnings: Schema.Array(Schema.String)
}).annotations({ identifier: "ParseReport" })
export type ParseReport = typeof ParseReport.Type

export const ChatStatus = Schema.Literal("processing", "ready", "failed")

export const ChatSummary = Schema.Struct({
  id: Schema.String,
  display_name: Schema.String,
  source_platform: Schema.String,
  source_filename: Schema.NullOr(Schema.String),
  participants: Schema.Array(Schema.String),
  message_count: Schema.Int,
  first_message_at: Schema.NullOr(WallClockText),
  last_message_at: Schema.NullOr(WallClockText),
  status: ChatStatus,
  is_shared: Schema.Boolean,
  created_at: Schema.Date
}).annotations({ identifier: "ChatSummary" })

export const ChatRow = Schema.Struct({
  ...ChatSummary.fields,
  created_at: Schema.DateFromSelf,
  parse_report: Schema.NullOr(ParseReport)
})
export type ChatRow = typeof ChatRow.Type

export const MessageKind = Schema.Literal("text", "media", "system", "deleted", "edited")

export const Message = Schema.Struct({
  id: Schema.String,
  seq: Schema.Int,
  sent_at: WallClockText,
  author: Schema.NullOr(Schema.String),
  text: Schema.String,
  kind: MessageKind
}).annotations({ identifier: "Message" })
export type Message = typeof Message.Type

export const DisplayName = Schema.Trim.pipe(
  Schema.minLength(1, { message: () => "must not be empty" }),
  Schema.maxLength(100, { message: () => "must be at most 100 characters" })
)

/** Whether `YYYY-MM-DD[THH:MM[:SS]]` names a real date and time (no 30 February, no 25 o'clock). */
export const isRealWallClock = (text: string): boolean => {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text)
  if (match === null) return false
  const [y, mo, d, h = "0", mi = "0", s = "0"] = match.slice(1).map((part) => part ?? "0")
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)))
  return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(mo) - 1 &&
    date.getUTCDate() === Number(d) && date.getUTCHours() === Number(h) && date.getUTCMinutes() === Number(mi) &&
    date.getUTCSeconds() === Number(s)
}

/** Missing, deleted, or someone else's: all answer the same 404. */
export const chatNotFound = (chatId: string) => new NotFound({ message: `No chat ${chatId}` })
