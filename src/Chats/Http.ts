/** Handlers of the chats group, and the streamed reading of an upload's multipart body. */
import { HttpApiBuilder, HttpApiError, Multipart } from "@effect/platform"
import { Chunk, Duration, Effect, Exit, Fiber, Layer, Option, Schema, Stream } from "effect"
import { Api } from "../Api.js"
import { CurrentUser } from "../Domain/RequestContext.js"
import { Chats } from "../Chats.js"
import { IngestConfig } from "../Config.js"
import { UploadFields } from "../Domain/Chat.js"
import { ignoredNotice } from "./UploadOptions.js"
import { hasNul, nulRefused, PayloadTooLarge, ValidationError } from "../Domain/Errors.js"
import { formatBytes } from "../Domain/Size.js"

type UploadError = ValidationError | PayloadTooLarge | Multipart.MultipartError

interface UploadForm {
  readonly file: Option.Option<{ readonly name: string; readonly bytes: Uint8Array }>
  readonly fields: ReadonlyMap<string, string>
}

const emptyForm: UploadForm = { file: Option.none(), fields: new Map() }

const tooLarge = (maxBytes: number) =>
  new PayloadTooLarge({ message: `The upload is larger than the limit of ${formatBytes(maxBytes)}` })

/**
 * Adds one part to the form. A file is read to its end unless `abandon` fails first: the next parts are
 * pulled meanwhile, and a body that ends inside this file is reported there (see readUpload).
 */
const addPart = (
  form: UploadForm,
  part: Multipart.Part,
  maxBytes: number,
  abandon: Effect.Effect<never, Multipart.MultipartError>
): Effect.Effect<UploadForm, UploadError> => {
  // Names and text fields are stored as text, which cannot hold NUL: refused like any request's NUL.
  if (hasNul(part.key)) return Effect.fail(nulRefused("a field name"))
  if (Multipart.isFile(part)) {
    if (part.key !== "file" || Option.isSome(form.file)) {
      return Effect.fail(new ValidationError({ message: "file: send exactly one file, in the field named file" }))
    }
    if (hasNul(part.name)) return Effect.fail(nulRefused("file (its name)"))
    const read = Stream.runFoldEffect(part.content, { size: 0, chunks: Chunk.empty<Uint8Array>() }, (acc, chunk) => {
      const size = acc.size + chunk.length
      return size > maxBytes ? Effect.fail(tooLarge(maxBytes)) : Effect.succeed({ size, chunks: Chunk.append(acc.chunks, chunk) })
    })
    return Effect.raceFirst(read, abandon).pipe(
      Effect.map(({ chunks }) => ({ ...form, file: Option.some({ name: part.name, bytes: Buffer.concat(Chunk.toArray(chunks)) }) }))
    )
  }
  if (Multipart.isField(part) && hasNul(part.value)) return Effect.fail(nulRefused(part.key))
  return Multipart.isField(part)
    ? Effect.succeed({ ...form, fields: new Map(form.fields).set(part.key, part.value) })
    : Effect.succeed(form)
}

/**
 * Reads the parts as they stream in, holding at most `maxBytes` of file and refusing the rest at once.
 * The following parts are always being pulled while the current ones are read: when a body ends inside
 * a file part (no closing boundary), the platform's parser fails the stream of parts but never ends
 * the file's own stream, which would be waited on forever (fixed upstream in Effect 4, #7156).
 */
const readUpload = (
  parts: Stream.Stream<Multipart.Part, Multipart.MultipartError>,
  maxBytes: number
): Effect.Effect<UploadForm, PayloadTooLarge | ValidationError> =>
  Effect.gen(function*() {
    const pull = yield* Stream.toPull(parts)
    // The pull fails with none at the end of the parts, with some error when the body is malformed.
    const settle = <A>(effect: Effect.Effect<A, Option.Option<Multipart.MultipartError>>) =>
      effect.pipe(
        Effect.map(Option.some),
        Effect.catchAll(Option.match({ onNone: () => Effect.succeed(Option.none<A>()), onSome: Effect.fail }))
      )
    let form = emptyForm
    let following = yield* Effect.forkScoped(settle(pull))
    while (true) {
      const chunk = yield* Fiber.join(following)
      if (Option.isNone(chunk)) return form
      following = yield* Effect.forkScoped(settle(pull))
      const abandon = Effect.flatMap(Fiber.await(following), (exit) => Exit.isFailure(exit) ? Effect.failCause(exit.cause) : Effect.never)
      for (const part of chunk.value) form = yield* addPart(form, part, maxBytes, abandon)
    }
  }).pipe(
    Effect.scoped,
    Effect.catchTag("MultipartError", (error): Effect.Effect<never, PayloadTooLarge | ValidationError> =>
      error.reason === "BodyTooLarge" || error.reason === "FileTooLarge"
        ? Effect.fail(tooLarge(maxBytes))
        : Effect.fail(new ValidationError({
          message: "The body is not a readable multipart/form-data upload (malformed, or cut before its closing boundary)"
        })))
  )

export const HttpChatsLive = HttpApiBuilder.group(Api, "chats", (handlers) =>
  Effect.gen(function*() {
    const chats = yield* Chats
    const { maxUploadBytes } = yield* IngestConfig
    return handlers
      .handle("upload", ({ payload }) =>
        Effect.gen(function*() {
          const user = yield* CurrentUser
          const [readTime, form] = yield* Effect.timed(readUpload(payload, maxUploadBytes))
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
  })).pipe(Layer.provide(Chats.Default))

/** A date bound as a wall-clock time: a bare date takes the start or the end of its day. */
const bound = (value: string, timeOfDay: string) =>
  value.length === 10 ? `${value} ${timeOfDay}` : value.replace("T", " ").padEnd(19, ":00").slice(0, 19)
