/**
 * The purge job: a deleted chat's content (messages, statistics, chunks, insights, conversations) is
 * hard-deleted in the background. Idempotent: a chat already purged is nothing to do.
 */
import { Effect, Schema } from "effect"
import { jobHandler } from "../Worker/Handler.js"
import { ChatsRepo } from "./Repo.js"
import { Vector } from "../Vector.js"

export const PurgeChat = jobHandler({
  kind: "chat.purge",
  payload: Schema.Struct({ chat_id: Schema.UUID }),
  run: ({ chat_id }) =>
    Effect.gen(function*() {
      // Vectors first: in Qdrant they outlive the rows; in pgvector this removes the chunks.
      yield* Effect.flatMap(Vector, (vector) => vector.deleteChat(chat_id))
      return yield* Effect.flatMap(ChatsRepo, (repo) => repo.purge(chat_id))
    }).pipe(
      Effect.tap((purged) => Effect.logInfo(purged ? "Chat purged" : "Chat already purged").pipe(Effect.annotateLogs({ chatId: chat_id }))),
      Effect.asVoid,
      Effect.withSpan("Chats.purge", { attributes: { chatId: chat_id } })
    )
})
