/** Chats as shown to their owner: the stored chat, its parse report, and its messages. */
import { Schema } from "effect"
import { mediaKinds, messageKinds, systemEvents } from "./MessageKind.js"
import { OpaqueCursor, SequenceCursor } from "./Pagination.js"

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

/** A wall-clock time as the export wrote it, without a time zone: `YYYY-MM-DDTHH:MM:SS`. */
export const WallClockText = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, { message: () => "must be YYYY-MM-DDTHH:MM:SS" }),
  Schema.filter(isRealWallClock, { message: () => "is not a real date and time" })
).annotations({
  identifier: "WallClockText",
  description: "Wall-clock time as written in the export, no time zone (YYYY-MM-DDTHH:MM:SS)"
})


export const ChatId = Schema.UUID.annotations({ description: "A chat id" })

/** What a zip export held besides the chat: its files matched to the messages that name them. */
export const AttachmentReport = Schema.Struct({
  matched: Schema.Record({ key: Schema.String, value: Schema.Int }).annotations({
    description: "attachments named by a message and present in the zip, by media kind"
  }),
  unmatched: Schema.Record({ key: Schema.String, value: Schema.Int }).annotations({
    description: "attachments named by a message but missing from the zip, by media kind"
  }),
  files_without_message: Schema.Int.annotations({ description: "files in the zip that no message names" })
}).annotations({ identifier: "AttachmentReport" })

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
  warnings: Schema.Array(Schema.String),
  attachments: Schema.optional(AttachmentReport),
  /** A chat of this user the upload overlaps: probably an earlier export of it, to merge into (POST /api/chats/{id}/imports). */
  possible_duplicate_of: Schema.optional(Schema.String)
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
  /** The IANA zone its written times were read in for their UTC value; null for chats stored before it was kept. */
  time_zone: Schema.NullOr(Schema.String),
  created_at: Schema.Date
}).annotations({ identifier: "ChatSummary" })

/** A chat as stored and shown to its owner; the driver reads timestamps as `Date`s, so rows decode with its type side. */
export const StoredChat = Schema.Struct({
  ...ChatSummary.fields,
  parse_report: Schema.NullOr(ParseReport)
})
export const ChatRow = Schema.typeSchema(StoredChat)
export type ChatRow = typeof ChatRow.Type


export const MessageKind = Schema.Literal(...messageKinds)
export const MediaKind = Schema.Literal(...mediaKinds).annotations({
  identifier: "MediaKind",
  description: "what a media message carries; `unknown` is Android's \"<Media omitted>\", which does not say"
})
export type MediaKind = typeof MediaKind.Type
export const SystemEvent = Schema.Literal(...systemEvents).annotations({
  identifier: "SystemEvent",
  description: "which system event a system message records; `other` for one the markers table does not know"
})
export type SystemEvent = typeof SystemEvent.Type

export const Message = Schema.Struct({
  id: Schema.String,
  seq: Schema.Int,
  sent_at: WallClockText,
  author: Schema.NullOr(Schema.String),
  text: Schema.String.annotations({ description: "the body; for a media message its caption (empty when none)" }),
  kind: MessageKind,
  media_kind: Schema.NullOr(MediaKind).annotations({
    description: "media messages only; null otherwise and for messages stored before media kinds were kept"
  }),
  file_name: Schema.NullOr(Schema.String).annotations({ description: "the attachment's file name, when the export names one" }),
  event: Schema.NullOr(SystemEvent).annotations({ description: "system messages only; null otherwise" })
}).annotations({ identifier: "Message" })
export type Message = typeof Message.Type

export const DisplayName = Schema.Trim.pipe(
  Schema.minLength(1, { message: () => "must not be empty" }),
  Schema.maxLength(100, { message: () => "must be at most 100 characters" })
)

const isTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone })
    return true
  } catch {
    return false
  }
}

/** An IANA time zone name that this runtime knows. */
export const TimeZone = Schema.String.pipe(
  Schema.maxLength(64),
  Schema.filter(isTimeZone, { message: (issue) => `${JSON.stringify(issue.actual)} is not an IANA time zone` })
)

/** The text fields of an upload, beside its `file`. */
export const UploadFields = Schema.Struct({
  display_name: Schema.optional(DisplayName),
  day_first: Schema.optional(Schema.BooleanFromString).annotations({
    description: "`true` or `false`: override the detected day/month order"
  }),
  timezone: Schema.optional(TimeZone).annotations({
    description: "IANA time zone the written times are in (for UTC readings); default UTC"
  })
})
export type UploadFields = typeof UploadFields.Type

/** The position of a chat in the list (newest activity first): its last message time and id. */
export const ChatCursor = OpaqueCursor(Schema.Tuple(Schema.NullOr(WallClockText), Schema.UUID))

/** The position of a message in its chat: its sequence number. */
export const MessageCursor = SequenceCursor
