/**
 * The one purge path of a chat's content, for a deleted chat and for an erased account alike: its
 * vectors in the configured store first (in Qdrant they outlive the rows), then its row, which takes its
 * messages, statistics, chunks, insights and conversations with it. Idempotent: a chat already purged is
 * nothing to do.
 */
import { Effect, Option, Schema } from "effect"
import { jobHandler } from "../Worker/Handler.js"
import { ChatsRepo, type PurgeCounts } from "./Repo.js"
import { Vector } from "../Vector.js"

export type { PurgeCounts }

const nothing = { chats: 0, messages: 0, chunks: 0, vectors: 0, insights: 0, conversations: 0 }

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
    yield* Effect.logInfo("Chat purged").pipe(Effect.annotateLogs({ chatId, ...found.value }))
    return purged ? { chats: 1, ...found.value } : nothing
  }).pipe(Effect.withSpan("Chats.purge", { attributes: { chatId } }))

export const PurgeChat = jobHandler({
  kind: "chat.purge",
  payload: Schema.Struct({ chat_id: Schema.UUID }),
  run: ({ chat_id }) => Effect.asVoid(purgeChat(chat_id))
})
