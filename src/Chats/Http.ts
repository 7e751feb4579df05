/** Handlers of the chats group. */
import { HttpApiBuilder, HttpApiError, HttpServerRequest } from "@effect/platform"
import { Duration, Effect, Layer, Option, Schema } from "effect"
import { Api } from "../Api.js"
import { CurrentUser } from "../Domain/RequestContext.js"
import { Chats } from "../Chats.js"
import { IngestConfig } from "../Config.js"
import { UploadFields } from "../Domain/Chat.js"
import { ignoredNotice } from "./UploadOptions.js"
import { ValidationError } from "../Domain/Errors.js"
import { readUploadForm } from "./UploadForm.js"
import { ImportFields } from "./Api.js"
import { ChatImports } from "./Imports.js"

export const HttpChatsLive = HttpApiBuilder.group(Api, "chats", (handlers) =>
  Effect.gen(function*() {
    const chats = yield* Chats
    const imports = yield* ChatImports
    const { maxUploadBytes } = yield* IngestConfig
    return handlers
      // The body is read here (see UploadForm.ts), not through the contract's part stream.
      .handle("upload", () =>
        Effect.gen(function*() {
          const user = yield* CurrentUser
          const request = yield* HttpServerRequest.HttpServerRequest
          const [readTime, form] = yield* Effect.timed(readUploadForm(request, maxUploadBytes))
          yield* Effect.logDebug("Upload received").pipe(
            Effect.annotateLogs({ readMs: Math.round(Duration.toMillis(readTime)) })
          )
          if (Option.isNone(form.file)) {
            return yield* new ValidationError({ message: "file: attach the export as a file in the field named file" })
          }
          // A field that does not decode is a 400 naming it, like any other request parameter.
          const fields = yield* Schema.decodeUnknown(UploadFields)(Object.fromEntries(form.fields)).pipe(
            Effect.catchTag("ParseError", HttpApiError.HttpApiDecodeError.refailParseError)
          )
          const { chat, created, ignored } = yield* chats.upload({
            userId: user.sub,
            filename: form.file.value.name,
            bytes: form.file.value.bytes,
            displayName: fields.display_name,
            dayFirst: fields.day_first,
            timeZone: fields.timezone
          })
          // The contract answers 201 for a new chat and 200 for the one already stored.
          return created
            ? { ...chat, created: true as const }
            : { ...chat, created: false as const, ignored_options: ignored, notice: ignoredNotice(chat.id, ignored) }
        }))
      .handle("import", ({ path }) =>
        Effect.gen(function*() {
          const user = yield* CurrentUser
          const request = yield* HttpServerRequest.HttpServerRequest
          const form = yield* readUploadForm(request, maxUploadBytes)
          if (Option.isNone(form.file)) {
            return yield* new ValidationError({ message: "file: attach the export as a file in the field named file" })
          }
          const fields = yield* Schema.decodeUnknown(ImportFields)(Object.fromEntries(form.fields)).pipe(
            Effect.catchTag("ParseError", HttpApiError.HttpApiDecodeError.refailParseError)
          )
          const merged = yield* imports.merge({
            userId: user.sub,
            chatId: path.chat_id,
            filename: form.file.value.name,
            bytes: form.file.value.bytes,
            dayFirst: fields.day_first,
            force: fields.force ?? false
          })
          return { new_messages: merged.added, overlapping: merged.overlapping, conflicting: merged.conflicting, chat: merged.chat }
        }))
      .handle("list", ({ urlParams }) => Effect.flatMap(CurrentUser, (user) => chats.list(user.sub, urlParams)))
      .handle("get", ({ path }) => Effect.flatMap(CurrentUser, (user) => chats.get(user.sub, path.chat_id)))
      .handle("messages", ({ path, urlParams }) =>
        Effect.flatMap(CurrentUser, (user) =>
          chats.messages(user.sub, path.chat_id, urlParams, {
            author: urlParams.author,
            text: urlParams.q,
            from: urlParams.from === undefined ? undefined : bound(urlParams.from, "00:00:00"),
            to: urlParams.to === undefined ? undefined : bound(urlParams.to, "23:59:59")
          })))
      .handle("rename", ({ path, payload }) =>
        Effect.flatMap(CurrentUser, (user) => chats.rename(user.sub, path.chat_id, payload.display_name)))
      .handle("sharing", ({ path, payload }) =>
        Effect.flatMap(CurrentUser, (user) => chats.setSharing(user.sub, path.chat_id, payload.enabled)))
      .handle("delete", ({ path }) =>
        Effect.flatMap(CurrentUser, (user) => chats.remove(user.sub, path.chat_id)))
      .handle("publicStats", ({ path }) => chats.publicStats(path.chat_id))
  })).pipe(Layer.provide([Chats.Default, ChatImports.Default]))

/** A date bound as a wall-clock time: a bare date takes the start or the end of its day. */
const bound = (value: string, timeOfDay: string) =>
  value.length === 10 ? `${value} ${timeOfDay}` : value.replace("T", " ").padEnd(19, ":00").slice(0, 19)
