/** Chats: upload an export, read chats and their messages, rename, delete, and share a public page. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, Multipart, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../Auth/Api.js"
import { PublicRateLimit, UploadRateLimit } from "../Domain/RateLimit.js"
import {
  ChatCursor,
  ChatId,
  ChatSummary,
  DisplayName,
  isRealWallClock,
  Message,
  MessageCursor,
  ParseReport,
  UploadFields,
  WallClockText
} from "../Domain/Chat.js"
import { Conflict, httpError, LockTimeout, NotFound, UnsupportedExport } from "../Domain/Errors.js"
import { Page, PageParams } from "../Domain/Pagination.js"
import { ChatStatisticsSchema } from "../Domain/Statistics.js"

export const ChatDetail = Schema.Struct({
  ...ChatSummary.fields,
  parse_report: Schema.NullOr(ParseReport),
  statistics: Schema.NullOr(ChatStatisticsSchema)
}).annotations({ identifier: "ChatDetail" })

/** A new chat (201). */
export const UploadedChat = Schema.Struct({
  ...ChatDetail.fields,
  created: Schema.Literal(true)
}).annotations({ identifier: "UploadedChat" })

/** This user had already uploaded the identical file: the stored chat is answered (200). */
export const AlreadyUploadedChat = Schema.Struct({
  ...ChatDetail.fields,
  created: Schema.Literal(false),
  /** Options of this upload that differ from the stored chat's, and so were not applied. */
  ignored_options: Schema.Array(Schema.Literal("display_name", "day_first", "timezone")),
  /** Says what was not applied and how to apply it; null when nothing was ignored. */
  notice: Schema.NullOr(Schema.String)
}).annotations({ identifier: "AlreadyUploadedChat" })

/** A date (`YYYY-MM-DD`) or a wall-clock time (`YYYY-MM-DDTHH:MM:SS`), as the export wrote them. */
const DateBound = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/, {
    message: () => "must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"
  }),
  Schema.filter(isRealWallClock, { message: () => "is not a real date and time" })
)

export const MessageParams = Schema.Struct({
  ...PageParams(MessageCursor).fields,
  author: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200))),
  q: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200))),
  from: Schema.optional(DateBound),
  to: Schema.optional(DateBound)
})

export const PublicStats = Schema.Struct({
  id: Schema.String,
  source_platform: Schema.String,
  message_count: Schema.Int,
  participant_count: Schema.Int,
  first_message_at: Schema.NullOr(WallClockText),
  last_message_at: Schema.NullOr(WallClockText),
  statistics: Schema.NullOr(ChatStatisticsSchema)
}).annotations({ identifier: "PublicStats" })

// Streamed: the handler reads the parts itself and decodes the text fields with `UploadFields`.
const UploadForm = HttpApiSchema.MultipartStream(
  Schema.Struct({
    file: Multipart.SingleFileSchema.annotations({ description: "the .txt or .zip from WhatsApp's Export chat" }),
    ...UploadFields.fields
  })
)

const chatPath = Schema.Struct({ chat_id: ChatId })

/** The text fields of an import beside its file. */
export const ImportFields = Schema.Struct({
  day_first: UploadFields.fields.day_first,
  force: Schema.optional(Schema.BooleanFromString).annotations({
    description: "`true` merges an export that shares no message with the chat (otherwise 409)"
  })
})

// Streamed like an upload: the handler reads the parts itself and decodes the text fields with `ImportFields`.
const ImportForm = HttpApiSchema.MultipartStream(
  Schema.Struct({
    file: Multipart.SingleFileSchema.annotations({ description: "a newer (or older) .txt or .zip export of the same chat" }),
    ...ImportFields.fields
  })
)

/** What merging an export found, and the chat as it is now. */
export const MergedChat = Schema.Struct({
  /** Messages of the export the chat did not hold: stored, in file order. */
  new_messages: Schema.Int,
  /** Messages of the export the chat already held. */
  overlapping: Schema.Int,
  /** Messages the chat already held in another version (edited or deleted since); the stored version is kept. */
  conflicting: Schema.Int,
  chat: ChatDetail
}).annotations({ identifier: "MergedChat" })

export class ChatsApi extends HttpApiGroup.make("chats")
  .add(
    HttpApiEndpoint.post("upload", "/api/chats/upload")
      .middleware(UploadRateLimit)
      .setPayload(UploadForm)
      .addSuccess(UploadedChat, { status: 201 })
      .addSuccess(AlreadyUploadedChat, { status: 200 })
      .addError(httpError(UnsupportedExport))
      .addError(httpError(NotFound))
      .annotate(OpenApi.Description, "Upload a WhatsApp export (multipart field `file`). 201 with the new chat, its parse report and statistics; 200 with the stored chat when this user already uploaded the identical file.")
  )
  .add(
    HttpApiEndpoint.post("import", "/api/chats/:chat_id/imports")
      .middleware(UploadRateLimit)
      .setPath(chatPath)
      .setPayload(ImportForm)
      .addSuccess(MergedChat)
      .addError(httpError(UnsupportedExport))
      .addError(httpError(NotFound))
      .addError(httpError(Conflict))
      .addError(httpError(LockTimeout))
      .annotate(
        OpenApi.Description,
        "Merge a newer (or older) export of this chat (multipart field `file`): messages already stored are recognised, only new ones are added in file order, statistics are recomputed and the new chunks embedded. 409 when the export shares no message with the chat, unless `force=true`."
      )
  )
  .add(HttpApiEndpoint.get("list", "/api/chats").setUrlParams(PageParams(ChatCursor)).addSuccess(Page(ChatSummary, ChatCursor)))
  .add(HttpApiEndpoint.get("get", "/api/chats/:chat_id").setPath(chatPath).addSuccess(ChatDetail).addError(httpError(NotFound)))
  .add(
    HttpApiEndpoint.get("messages", "/api/chats/:chat_id/messages")
      .setPath(chatPath)
      .setUrlParams(MessageParams)
      .addSuccess(Page(Message, MessageCursor))
      .addError(httpError(NotFound))
      .annotate(OpenApi.Description, "Messages in file order; filter by exact `author`, text containing `q`, and `from`/`to` (inclusive, wall-clock).")
  )
  .add(
    HttpApiEndpoint.put("rename", "/api/chats/:chat_id/display-name")
      .setPath(chatPath)
      .setPayload(Schema.Struct({ display_name: DisplayName }))
      .addSuccess(ChatSummary)
      .addError(httpError(NotFound))
  )
  .add(
    HttpApiEndpoint.put("sharing", "/api/chats/:chat_id/sharing")
      .setPath(chatPath)
      .setPayload(Schema.Struct({ enabled: Schema.Boolean }))
      .addSuccess(ChatSummary)
      .addError(httpError(NotFound))
  )
  .add(
    HttpApiEndpoint.del("delete", "/api/chats/:chat_id")
      .setPath(chatPath)
      .addSuccess(Schema.Struct({ id: Schema.String, deleted: Schema.Literal(true) }))
      .addError(httpError(NotFound))
      .annotate(OpenApi.Description, "Gone from every read at once; its content is hard-deleted by a purge job.")
  )
  .middlewareEndpoints(Authentication)
  .add(
    HttpApiEndpoint.get("publicStats", "/api/chats/public/:chat_id/stats")
      .middleware(PublicRateLimit)
      .setPath(chatPath)
      .addSuccess(PublicStats)
      .addError(httpError(NotFound))
      .annotate(OpenApi.Description, "Anonymised statistics of a chat whose owner turned sharing on; 404 otherwise. No names, no message text.")
  )
  .annotate(OpenApi.Title, "Chats")
{}
