/**
 * The one purge path of a chat's content, for a deleted chat and for an erased account alike: its
 * vectors in the configured store first (in Qdrant they outlive the rows), then its row, which takes its
 * messages, statistics, chunks, insights and conversations with it, and the owner's exports that hold a
 * copy of it. Idempotent: a chat already purged is nothing to do.
 */
import { Duration, Effect, Option, Schema } from "effect"
import { jobHandler } from "../Worker/Handler.js"
import { ChatsRepo, type PurgeCounts } from "./Repo.js"
import { Vector } from "../Vector.js"

export type { PurgeCounts }

const nothing = { chats: 0, messages: 0, chunks: 0, vectors: 0, insights: 0, conversations: 0, exports: 0 }

/** Purges one deleted chat; answers what it removed (nothing for a chat already gone, or not deleted). */
export const purgeChat = (chatId: string) =>
  Effect.gen(function*() {
    const repo = yield* ChatsRepo
    const found = yield* repo.contentCounts(chatId)
    if (Option.isNone(found)) {
      yield* Effect.logInfo("Chat already purged").pipe(Effect.annotateLogs({ chatId }))
      return nothing
    }
    yield* Effect.flatMap(Vector, (vector) => vector.deleteChat(chatId))
    const purged = yield* repo.purge(chatId)
    if (purged.chats === 0) return nothing
    yield* Effect.logInfo("Chat purged").pipe(Effect.annotateLogs({ chatId, ...found.value, exports: purged.exports }))
    return { ...found.value, ...purged }
  }).pipe(Effect.withSpan("Chats.purge", { attributes: { chatId } }))

export const PurgeChat = jobHandler({
  kind: "chat.purge",
  payload: Schema.Struct({ chat_id: Schema.UUID }),
  run: ({ chat_id }) => Effect.asVoid(purgeChat(chat_id))
})

/** Chats purged per sweep; the next sweep takes the rest. */
const sweepBatch = 100

/**
 * The sweep's part for chats: with a retention period, chats untouched that long are deleted; then
 * deleted chats still holding content after `purgeWithin` (their job lost, failed, or the worker down) are
 * purged here, so a deletion is complete within a bounded time.
 */
export const sweepChats = (options: { readonly retentionDays: Option.Option<number>; readonly purgeWithin: Duration.Duration }) =>
  Effect.gen(function*() {
    const repo = yield* ChatsRepo
    const expired = Option.isSome(options.retentionDays) ? yield* repo.expireUntouched(options.retentionDays.value) : []
    const late = yield* repo.unpurged(Duration.toSeconds(options.purgeWithin), sweepBatch)
    for (const chatId of late) yield* purgeChat(chatId)
    if (expired.length > 0 || late.length > 0) {
      yield* Effect.logInfo("Chats swept").pipe(Effect.annotateLogs({ expiredByRetention: expired.length, purged: late.length }))
    }
    return { expired: expired.length, purged: late.length }
  }).pipe(Effect.withSpan("Chats.sweep"))
