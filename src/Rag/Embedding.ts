/**
 * The embedding job: chunks a chat, stores the chunks once, then embeds and stores their vectors in
 * batches, recording progress, then removes what an earlier embedder left of the chat. Idempotent: a
 * re-run (after a crash or a redeploy) keeps the chunks already stored and embeds only those without a
 * vector, so nothing is duplicated; after a merge it replaces only the chunks the new messages changed.
 */
import { Effect, Option, Schema } from "effect"
import { ChatAccess } from "../Chats/Access.js"
import type { StoredChat } from "../Chats/Hooks.js"
import { Llm } from "../Llm.js"
import { Vector } from "../Vector.js"
import { jobHandler } from "../Worker/Handler.js"
import { Jobs } from "../Worker/Jobs.js"
import { embedJobKey } from "./Keys.js"
import { syncChunks } from "./ChunkSync.js"
import { ChunksRepo } from "./ChunksRepo.js"

/** Chunks embedded per model call and vector write. */
const batchSize = 64

export const EmbedChat = jobHandler({
  kind: "chat.embed",
  payload: Schema.Struct({ chat_id: Schema.UUID, embedder: Schema.String }),
  run: ({ chat_id, embedder }, job) =>
    Effect.gen(function*() {
      const llm = yield* Llm
      const vector = yield* Vector
      const repo = yield* ChunksRepo
      const access = yield* ChatAccess
      if (llm.embedder !== embedder) {
        // The configured embedder changed since this job was enqueued; the re-embedding sweep
        // enqueues the chat again under the new one.
        return yield* Effect.logInfo("Embedding job for another embedder; nothing to do")
      }
      const owner = yield* access.ownerOf(chat_id)
      if (Option.isNone(owner)) return yield* Effect.logInfo("Chat deleted before embedding; nothing to do")

      // Stores the chunks the first time; after a merge replaces only those its new messages changed.
      yield* syncChunks({ chatId: chat_id, userId: owner.value, embedder })
      const counts = yield* repo.chunkCount(chat_id, embedder)
      const total = counts.total
      let embedded = counts.embedded
      yield* job.setProgress({ done: embedded, total })
      while (true) {
        const batch = yield* repo.pending({ chatId: chat_id, embedder, limit: batchSize })
        if (batch.length === 0) break
        const vectors = yield* llm.embed(batch.map((chunk) => chunk.text), "document")
        yield* vector.upsert(batch.map((chunk, i) => ({
          chunkId: chunk.id,
          chatId: chat_id,
          userId: owner.value,
          firstMessageId: chunk.first_message_id,
          lastMessageId: chunk.last_message_id,
          embedder,
          vector: vectors[i]!
        })))
        yield* repo.markEmbedded(batch.map((chunk) => chunk.id))
        embedded += batch.length
        yield* job.setProgress({ done: embedded, total })
      }
      // Complete: the vectors (and chunks) of an earlier embedder are no longer searched. Inside the job,
      // so a crash before this point reruns it, and a rerun of a finished chat comes straight here.
      yield* vector.retainEmbedder(chat_id, embedder)
      yield* repo.deleteOtherEmbedders(chat_id, embedder)
      yield* Effect.logInfo("Chat embedded").pipe(Effect.annotateLogs({ chatId: chat_id, chunks: total, embedder }))
    }).pipe(Effect.withSpan("Rag.embedChat", { attributes: { chatId: chat_id, embedder } }))
})

/**
 * Enqueues the embedding of every chat the configured embedder has not (fully) embedded: chats
 * uploaded while no worker ran, and all chats after the embedder changes. The dedupe key makes it
 * safe to run at every start and on several instances at once.
 */
export const embedMissing = Effect.gen(function*() {
  const llm = yield* Llm
  const repo = yield* ChunksRepo
  const jobs = yield* Jobs
  const chats = yield* repo.chatsToEmbed(llm.embedder)
  for (const chat of chats) {
    yield* jobs.send(EmbedChat, { chat_id: chat.id, embedder: llm.embedder }, {
      dedupeKey: embedJobKey(chat.id, llm.embedder),
      userId: chat.user_id
    })
  }
  if (chats.length > 0) {
    yield* Effect.logInfo("Chats queued for embedding").pipe(Effect.annotateLogs({ chats: chats.length, embedder: llm.embedder }))
  }
}).pipe(Effect.withSpan("Rag.embedMissing"))

/** Registered as a chat hook: a newly stored chat gets its embedding job (questions need its vectors). */
export const queueEmbedding = Effect.gen(function*() {
  const llm = yield* Llm
  const jobs = yield* Jobs
  return (chat: StoredChat) =>
    jobs.send(EmbedChat, { chat_id: chat.chatId, embedder: llm.embedder }, {
      // A merge changed a chat embedded before: its own job brings the chunks up to date.
      dedupeKey: chat.mergeId === undefined
        ? embedJobKey(chat.chatId, llm.embedder)
        : `${embedJobKey(chat.chatId, llm.embedder)}:merge:${chat.mergeId}`,
      userId: chat.userId
    }).pipe(Effect.asVoid)
})
