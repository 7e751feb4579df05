/**
 * Chats: an uploaded export is parsed on a worker thread and stored with its messages and statistics
 * in one transaction; the same file uploaded again by the same user is the same chat. A user only
 * ever reaches their own chats; someone else's id is as good as missing.
 */
import { createHash, randomUUID } from "node:crypto"
import { Duration, Effect, Option, Schema } from "effect"
import { PurgeChat } from "./Chats/Purge.js"
import { type MessageFilter, ChatsRepo } from "./Chats/Repo.js"
import { IngestConfig } from "./Config.js"
import { Database, orDatabaseError } from "./Database.js"
import { ChatAccess, chatNotFound } from "./Chats/Access.js"
import { ChatHooks } from "./Chats/Hooks.js"
import { MessageStore, type UploadToStore } from "./Chats/MessageCopy.js"
import { MergeRepo } from "./Chats/MergeRepo.js"
import { defaultName, fileName, ignoredOptions, type UploadOptions } from "./Chats/UploadOptions.js"
import { ChatCursor, type ChatRow, MessageCursor } from "./Domain/Chat.js"
import { limitOf, type PageRequest, toPage } from "./Domain/Pagination.js"
import { Users } from "./Users.js"
import { type ChatStatistics, ChatStatisticsSchema } from "./Domain/Statistics.js"
import type { InternalError } from "./Domain/Errors.js"
import { inSlices } from "./Ingest/ParserThreads.js"
import { wireReport } from "./Ingest/ReportWire.js"
import { storedWallClock } from "./Ingest/WallClock.js"
import { Jobs } from "./Worker/Jobs.js"
import { orFail } from "./Domain/Found.js"

export interface Upload extends UploadOptions {
  readonly userId: string
  readonly filename: string
  readonly bytes: Uint8Array
}

const decodeStatistics = Schema.decodeUnknown(Schema.NullOr(ChatStatisticsSchema))


/**
 * Anonymised statistics for a public page: participants become "Participant n"; no words at all, and no
 * emoji of anyone in particular. The chat's own most used emoji (a count over everyone) stay: the shared
 * page shows them.
 */
export const anonymise = (stats: ChatStatistics): ChatStatistics => {
  const alias = new Map(stats.participants.map((p, i) => [p.name, `Participant ${i + 1}`]))
  const rename = (name: string) => alias.get(name) ?? "Participant"
  return {
    ...stats,
    totals: { ...stats.totals, top_words: [] },
    participants: stats.participants.map((p) => ({ ...p, name: rename(p.name), top_words: [], top_emoji: [] })),
    first_message: stats.first_message === null ? null : { ...stats.first_message, author: rename(stats.first_message.author) },
    last_message: stats.last_message === null ? null : { ...stats.last_message, author: rename(stats.last_message.author) }
  }
}

/** Bytes hashed between two turns of the event loop: a few milliseconds. */
const hashSliceBytes = 2 * 1024 * 1024

/**
 * The SHA-256 of an export, hex, hashed a slice at a time with the event loop's other work in between:
 * in one go a large upload (about 150 ms for 80 MB) holds the loop, and WebCrypto, though it hashes on
 * libuv's thread pool, first copies the whole input on the loop (50 ms and more for 80 MB).
 */
const contentHashOf = (bytes: Uint8Array) =>
  Effect.suspend(() => {
    const hash = createHash("sha256")
    return inSlices(bytes, hashSliceBytes, (slice) => hash.update(slice)).pipe(Effect.map(() => hash.digest("hex")))
  })

export class Chats extends Effect.Service<Chats>()("chatsight/Chats", {
  effect: Effect.gen(function*() {
    const db = yield* Database
    const repo = yield* ChatsRepo
    const jobs = yield* Jobs
    const users = yield* Users
    const access = yield* ChatAccess
    const hooks = yield* ChatHooks
    const config = yield* IngestConfig
    const messageStore = yield* MessageStore
    const mergeRepo = yield* MergeRepo

    const store = (
      upload: Upload,
      chatId: string,
      hash: string,
      parsed: UploadToStore,
      timeZone: string,
      duplicateOf: Option.Option<string>,
      statistics: Effect.Effect<ChatStatistics, InternalError>
    ) =>
      Effect.gen(function*() {
        const { report } = parsed
        const inserted = yield* repo.insert({
          id: chatId,
          userId: upload.userId,
          displayName: upload.displayName ?? defaultName(upload.filename, report.participants),
          sourceFilename: fileName(upload.filename),
          contentHash: hash,
          participants: report.participants,
          messageCount: report.messages,
          firstMessageAt: report.firstMessageAt === null ? null : storedWallClock(report.firstMessageAt),
          lastMessageAt: report.lastMessageAt === null ? null : storedWallClock(report.lastMessageAt),
          parseReport: Option.match(duplicateOf, {
            onNone: () => wireReport(report),
            onSome: (chatId) => ({ ...wireReport(report), possible_duplicate_of: chatId })
          }),
          timeZone
        })
        if (Option.isNone(inserted)) return inserted
        yield* parsed.store(timeZone)
        yield* repo.insertStats(inserted.value, yield* statistics)
        return inserted
      }).pipe(db.transaction, Effect.withSpan("Chats.store", { attributes: { messages: parsed.count } }))

    /** The chat as its owner sees it, with its parse report and statistics. */
    const detail = (chat: ChatRow) =>
      Effect.map(
        Effect.flatMap(repo.stats(chat.id), decodeStatistics),
        (statistics) => ({ ...chat, statistics })
      )

    /**
     * Stores an export and answers the chat with its report and statistics; `created` is false when
     * the same user had already uploaded the identical file.
     */
    const upload = (input: Upload) =>
      Effect.gen(function*() {
        const timeZone = input.timeZone ?? config.defaultTimeZone
        yield* users.requireActive(input.userId)
        const hash = yield* contentHashOf(input.bytes)
        const existing = yield* repo.findByHash({ userId: input.userId, contentHash: hash })
        if (Option.isSome(existing)) {
          const ignored = ignoredOptions(existing.value, input, config.defaultTimeZone)
          if (ignored.length > 0) {
            yield* Effect.logInfo("Identical re-upload; options not applied").pipe(
              Effect.annotateLogs({ chatId: existing.value.id, ignored: ignored.join(",") })
            )
          }
          return { chat: yield* detail(existing.value), created: false, ignored }
        }

        // The chat's id is chosen before its row is inserted: the parsing thread writes it into the rows.
        const chatId = randomUUID()
        const [parseTime, parsed] = yield* messageStore.readUpload(chatId, {
          bytes: input.bytes,
          filename: input.filename,
          export: {
            maxBytes: config.maxUploadBytes,
            ...(input.dayFirst === undefined ? {} : { dayFirst: input.dayFirst })
          },
          // The thread computes them while the messages are being stored.
          statistics: { silenceThresholdMinutes: config.silenceThresholdMinutes }
        }).pipe(Effect.timed)
        // Another export of a chat already stored shares messages with it: said in the report, to merge instead.
        const duplicateOf = yield* mergeRepo.overlappingChat(input.userId, parsed.probes, 2)
        // Two identical uploads racing: the unique (user, hash) index lets one in; the other reads it.
        const [storeTime, stored] = yield* Effect.timed(store(input, chatId, hash, parsed, timeZone, duplicateOf, parsed.statistics))
        const chat = yield* Option.match(stored, {
          onSome: (chatId) => repo.find({ userId: input.userId, chatId }),
          onNone: () => repo.findByHash({ userId: input.userId, contentHash: hash })
        }).pipe(
          // Stored in this request, or by the upload it raced with: the row is there.
          Effect.flatMap(Option.match({ onNone: () => Effect.dieMessage("A stored chat could not be read back"), onSome: Effect.succeed }))
        )
        if (Option.isSome(stored)) {
          yield* Effect.forEach(hooks.stored, (hook) => hook({ chatId: chat.id, userId: input.userId }), { discard: true })
        }
        yield* Effect.logInfo("Chat stored").pipe(
          Effect.annotateLogs({
            chatId: chat.id,
            messages: parsed.count,
            format: parsed.report.format,
            parseMs: Math.round(Duration.toMillis(parseTime)),
            storeMs: Math.round(Duration.toMillis(storeTime))
          })
        )
        return {
          chat: yield* detail(chat),
          created: Option.isSome(stored),
          // Raced with an identical upload that stored first: its options won.
          ignored: Option.isSome(stored) ? [] : ignoredOptions(chat, input, config.defaultTimeZone)
        }
      }).pipe(
        orDatabaseError,
        Effect.withSpan("Chats.upload", { attributes: { "user.id": input.userId, bytes: input.bytes.length } })
      )

    const list = (userId: string, page: PageRequest<typeof ChatCursor.Type>) =>
      Effect.gen(function*() {
        const after = page.starting_after === undefined
          ? null
          : { lastMessageAt: page.starting_after[0], id: page.starting_after[1] }
        const rows = yield* repo.list({ userId, limit: limitOf(page), after })
        return toPage(rows, page, (row) => [row.last_message_at, row.id] as const)
      }).pipe(orDatabaseError, Effect.withSpan("Chats.list"))

    const get = (userId: string, chatId: string) =>
      Effect.flatMap(access.owned(userId, chatId), detail).pipe(orDatabaseError, Effect.withSpan("Chats.get"))

    const messages = (userId: string, chatId: string, page: PageRequest<typeof MessageCursor.Type>, filter: MessageFilter) =>
      Effect.gen(function*() {
        yield* access.owned(userId, chatId)
        const afterSeq = page.starting_after === undefined ? null : Number(page.starting_after)
        const rows = yield* repo.messages({ chatId, limit: limitOf(page), afterSeq, ...filter })
        return toPage(rows, page, (row) => String(row.seq))
      }).pipe(orDatabaseError, Effect.withSpan("Chats.messages"))

    const rename = (userId: string, chatId: string, displayName: string) =>
      repo.rename({ userId, chatId, displayName }).pipe(
        orFail(() => chatNotFound(chatId)),
        orDatabaseError,
        Effect.withSpan("Chats.rename")
      )

    const setSharing = (userId: string, chatId: string, shared: boolean) =>
      repo.setSharing({ userId, chatId, shared }).pipe(
        orFail(() => chatNotFound(chatId)),
        orDatabaseError,
        Effect.withSpan("Chats.setSharing")
      )

    /** The public page of a shared chat: counts and times only, participants anonymised. */
    const publicStats = (chatId: string) =>
      Effect.gen(function*() {
        const chat = yield* repo.findShared(chatId).pipe(
          orFail(() => chatNotFound(chatId))
        )
        const statistics = yield* Effect.flatMap(repo.stats(chat.id), decodeStatistics)
        return {
          id: chat.id,
          source_platform: chat.source_platform,
          message_count: chat.message_count,
          participant_count: chat.participants.length,
          first_message_at: chat.first_message_at,
          last_message_at: chat.last_message_at,
          statistics: statistics === null ? null : anonymise(statistics)
        }
      }).pipe(orDatabaseError, Effect.withSpan("Chats.publicStats"))

    /**
     * When a shared chat last changed (its row: rename, sharing; its statistics), read in one cheap query
     * before a public page is served from a cache; none when it is not shared, missing or deleted.
     */
    const sharedVersion = (chatId: string) =>
      repo.sharedVersion(chatId).pipe(orDatabaseError, Effect.withSpan("Chats.sharedVersion"))

    /** Gone from every read at once; the purge job hard-deletes its content. */
    const remove = (userId: string, chatId: string) =>
      Effect.gen(function*() {
        if (!(yield* repo.softDelete(userId, chatId))) return yield* chatNotFound(chatId)
        yield* jobs.send(PurgeChat, { chat_id: chatId }, { dedupeKey: `chat.purge:${chatId}`, userId })
        return { id: chatId, deleted: true as const }
      }).pipe(db.transaction, Effect.withSpan("Chats.remove", { attributes: { chatId } }))

    return { upload, list, get, messages, rename, setSharing, remove, publicStats, sharedVersion } as const
  }),
  dependencies: [ChatsRepo.Default, ChatAccess.Default, Users.Default, Jobs.Default, MessageStore.Default, MergeRepo.Default]
}) {}
