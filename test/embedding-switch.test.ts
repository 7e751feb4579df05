/**
 * Changing the embedder (here from a 768-dimension one to the offline USE-lite at 512): the start-up
 * sweep queues every chat again, the re-embedding stores 512-dimension vectors beside the old ones,
 * the old ones serve until the new set is complete, and are removed then. On pgvector and on Qdrant
 * (where each size has its own collection).
 */
import { Database as DatabaseService } from "../src/Database.js"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { ChatAccess } from "../src/Chats/Access.js"
import { UpstreamUnavailable } from "../src/Domain/Errors.js"
import { Llm } from "../src/Llm.js"
import { OfflineLive, offlineModel } from "../src/Llm/Offline.js"
import { ChunksRepo } from "../src/Rag/ChunksRepo.js"
import { EmbedChat, embedMissing } from "../src/Rag/Embedding.js"
import { Vector } from "../src/Vector.js"
import { VectorPostgres } from "../src/Vector/Postgres.js"
import { VectorQdrant } from "../src/Vector/Qdrant.js"
import type { RunningJob } from "../src/Worker/Handler.js"
import { Jobs } from "../src/Worker/Jobs.js"
import { QdrantDouble, QdrantDoubleLive } from "./support/qdrantDouble.js"
import { TestConfig, TestDatabase } from "./support/TestApp.js"

const oldEmbedder = "old-model@768"
const newEmbedder = "use-lite-v1@512"

/** The previous model: a fixed unit vector per text, 768 long. */
const OldModel = Layer.succeed(Llm, {
  ...offlineModel((texts) => Effect.succeed(texts.map((_, i) => Array.from({ length: 768 }, (_, j) => (j === i % 768 ? 1 : 0))))),
  embedder: oldEmbedder
})

/** USE-lite that fails on its `failAt`-th call, as an outage in the middle of a re-embedding would. */
const FailingUseLite = (failAt: number) =>
  Layer.effect(
    Llm,
    Effect.map(Llm, (llm) => {
      let calls = 0
      return {
        ...llm,
        embed: (texts: ReadonlyArray<string>, purpose: "document" | "query") =>
          ++calls === failAt ? Effect.fail(new UpstreamUnavailable({ message: "outage (test)" })) : llm.embed(texts, purpose)
      }
    })
  ).pipe(Layer.provide(OfflineLive))

const job: RunningJob = {
  id: "switch",
  kind: "chat.embed",
  attempt: 1,
  maxAttempts: 5,
  userId: "switch-user",
  instanceId: "switch-test",
  setProgress: () => Effect.void
}

/** A ready chat of 150 conversations (a chunk each: two hours of silence between them), so more than two job batches. */
const storeChat = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const userId = `switch-${randomUUID()}`
  yield* sql`INSERT INTO users (id) VALUES (${userId})`
  const [chat] = yield* sql<{ readonly id: string }>`
    INSERT INTO chats (user_id, display_name, content_hash, status) VALUES (${userId}, 'switch', ${randomUUID()}, 'ready')
    RETURNING id::text AS id`
  const chatId = chat?.id ?? ""
  const count = 150
  yield* sql`
    INSERT INTO messages (chat_id, seq, sent_at_local, sent_at, author, text, kind)
    SELECT ${chatId}::uuid, s, t, t AT TIME ZONE 'UTC', 'Ana', 'the boiler guy wants ' || s || ' pounds for Tuesday', 'text'
    FROM generate_series(0, ${count - 1}) AS s, LATERAL (SELECT timestamp '2024-01-01' + s * interval '2 hours') AS u(t)`
  return { chatId, userId }
}).pipe(Effect.orDie)

const chunkCounts = (chatId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ readonly embedder: string; readonly chunks: number; readonly embedded: number; readonly size: number | null }>`
      SELECT embedder, count(*)::int AS chunks, count(embedded_at)::int AS embedded, max(vector_dims(embedding)) AS size
      FROM chunks WHERE chat_id = ${chatId}::uuid GROUP BY embedder ORDER BY embedder`).pipe(Effect.orDie)

/** How many of the chat's chunks a search by `embedder` finds (any vector of its size: every chunk is among the k). */
const searchable = (chat: { readonly chatId: string; readonly userId: string }, embedder: string, size: number) =>
  Effect.flatMap(Vector, (vector) =>
    vector.search({ ...chat, embedder, vector: Array.from({ length: size }, (_, i) => (i === 0 ? 1 : 0)), k: 1000 })).pipe(
      Effect.map((hits) => hits.length),
      Effect.orDie
    )

const embedWith = (llm: Layer.Layer<Llm>, chatId: string, embedder: string) =>
  EmbedChat.execute({ chat_id: chatId, embedder }, job).pipe(
    Effect.provide(Layer.mergeAll(ChunksRepo.Default, ChatAccess.Default).pipe(Layer.provideMerge(llm)))
  )

const switches = (name: string, store: Layer.Layer<Vector | SqlClient.SqlClient | DatabaseService | QdrantDouble, unknown>) =>
  layer(store, { excludeTestServices: true, timeout: "120 seconds" })(`switching embedders on ${name}`, (it) => {
    it.effect("the chat is queued again, re-embedded at 512, and its 768 vectors go only once the new ones are complete", () =>
      Effect.gen(function*() {
        // pgvector keeps a vector in its chunk row; with Qdrant the rows keep none.
        const inRow = (size: number) => name === "Qdrant" ? null : size
        const chat = yield* storeChat
        yield* embedWith(OldModel, chat.chatId, oldEmbedder).pipe(Effect.orDie)
        expect(yield* chunkCounts(chat.chatId)).toEqual([{ embedder: oldEmbedder, chunks: 150, embedded: 150, size: inRow(768) }])

        // At start with the new embedder, the sweep queues the chat under it.
        const sql = yield* SqlClient.SqlClient
        yield* embedMissing.pipe(Effect.provide(Layer.mergeAll(ChunksRepo.Default, Jobs.Default, OfflineLive)), Effect.orDie)
        const queued = yield* sql<{ readonly payload: unknown }>`
          SELECT payload FROM jobs WHERE kind = 'chat.embed' AND payload->>'chat_id' = ${chat.chatId}`.pipe(Effect.orDie)
        expect(queued.map((row) => row.payload)).toEqual([{ chat_id: chat.chatId, embedder: newEmbedder }])

        // An outage on the second batch: the job fails half done, and the old vectors still serve.
        const outage = yield* Effect.flip(embedWith(FailingUseLite(2), chat.chatId, newEmbedder))
        expect(outage).toBeInstanceOf(UpstreamUnavailable)
        expect(yield* chunkCounts(chat.chatId)).toEqual([
          { embedder: oldEmbedder, chunks: 150, embedded: 150, size: inRow(768) },
          { embedder: newEmbedder, chunks: 150, embedded: 64, size: inRow(512) }
        ])
        expect(yield* searchable(chat, oldEmbedder, 768)).toBe(150)

        // The retry completes it, and only then is the old embedder's share removed.
        yield* embedWith(OfflineLive, chat.chatId, newEmbedder).pipe(Effect.orDie)
        expect(yield* chunkCounts(chat.chatId)).toEqual([{ embedder: newEmbedder, chunks: 150, embedded: 150, size: inRow(512) }])
        expect(yield* searchable(chat, newEmbedder, 512)).toBe(150)
        expect(yield* searchable(chat, oldEmbedder, 768)).toBe(0)
        const again = yield* ChunksRepo.pipe(
          Effect.flatMap((repo) => repo.chatsToEmbed(newEmbedder)),
          Effect.provide(ChunksRepo.Default),
          Effect.orDie
        )
        expect(again.map((row) => row.id)).not.toContain(chat.chatId)

        const double = yield* QdrantDouble
        if (name === "Qdrant") {
          // Each size in its own collection; nothing of the chat is left in the 768 one.
          const points = (collection: string) =>
            [...(double.collections.get(collection)?.points.values() ?? [])].filter((p) => p.payload["chatId"] === chat.chatId)
          expect(double.collections.get("chatsight_chunks_512")?.size).toBe(512)
          expect(points("chatsight_chunks_512")).toHaveLength(150)
          expect(points("chatsight_chunks")).toEqual([])
          expect(double.invalid()).toEqual([])
        } else {
          expect(double.requests).toEqual([])
        }
      }))
  })

const Database = TestDatabase()

switches("pgvector", Layer.mergeAll(VectorPostgres, QdrantDoubleLive).pipe(Layer.provideMerge(Database)))

switches(
  "Qdrant",
  Layer.unwrapEffect(
    Effect.map(QdrantDouble, (double) => VectorQdrant.pipe(Layer.provide(TestConfig({ QDRANT_URL: double.url }))))
  ).pipe(Layer.provideMerge(QdrantDoubleLive), Layer.provideMerge(Database))
)
