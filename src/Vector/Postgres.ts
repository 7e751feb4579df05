/**
 * The `Vector` store on pgvector: vectors live in `chunks.embedding` of the rows the embedding job
 * inserted, and a search is an exact scan of one chat's chunks (a chat holds thousands, not millions).
 * The column has no fixed size (migration 0010): each row holds its embedder's size, and a search only
 * compares vectors of the one embedder it names.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema } from "effect"
import { orDatabaseError } from "../Database.js"
import { checkVector, type ChunkVector, Vector, type VectorHit, type VectorQuery, type VectorStore } from "../Vector.js"

/** Rows per UPDATE: one statement per batch keeps round trips few and each statement's parameters small. */
const upsertBatch = 256

/** Chat ids are uuids; anything else names no chat (and would make PostgreSQL refuse the cast). */
const isChatId = Schema.is(Schema.UUID)

/** pgvector's text form, `[x,y,...]`; JavaScript's shortest round-trip digits parse back exactly. */
const literal = (vector: ReadonlyArray<number>) => `[${vector.join(",")}]`

export const makePostgresStore = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  /**
   * Sets the vectors of existing rows. A row is matched by id and also by chat and user, so a vector
   * can never land on another user's chunk; rows that do not exist are reported, not created. The
   * message ids a hit reports are the row's own, so `firstMessageId`/`lastMessageId` are not written.
   */
  const updateBatch = (batch: ReadonlyArray<ChunkVector>) =>
    sql<{ readonly id: string }>`
      UPDATE chunks AS c
      SET embedding = u.embedding::vector, embedder = u.embedder
      FROM unnest(${batch.map((v) => v.chunkId)}::bigint[], ${batch.map((v) => v.chatId)}::text[],
                  ${batch.map((v) => v.userId)}::text[], ${batch.map((v) => v.embedder)}::text[],
                  ${batch.map((v) => literal(v.vector))}::text[]) AS u(id, chat_id, user_id, embedder, embedding)
      WHERE c.id = u.id AND c.chat_id::text = u.chat_id AND c.user_id = u.user_id
      RETURNING c.id::text AS id`

  const upsert = (vectors: ReadonlyArray<ChunkVector>) =>
    Effect.gen(function*() {
      if (vectors.length === 0) return
      yield* Effect.forEach(vectors, (v) => checkVector(v.vector, v.embedder, `the vector of chunk ${v.chunkId}`), { discard: true })
      let updated = 0
      for (let start = 0; start < vectors.length; start += upsertBatch) {
        updated += (yield* updateBatch(vectors.slice(start, start + upsertBatch))).length
      }
      if (updated < vectors.length) {
        yield* Effect.logWarning("Some vectors named no stored chunk of their chat; they were not stored").pipe(
          Effect.annotateLogs({ given: vectors.length, stored: updated })
        )
      }
    }).pipe(orDatabaseError, Effect.withSpan("Vector.upsert", { attributes: { count: vectors.length, backend: "postgres" } }))

  const search = (query: VectorQuery) =>
    Effect.gen(function*() {
      const k = Math.floor(query.k)
      if (!(k > 0) || !isChatId(query.chatId)) return []
      yield* checkVector(query.vector, query.embedder, "the query vector")
      const q = literal(query.vector)
      const rows = yield* sql<{ readonly id: string; readonly first_message_id: string; readonly last_message_id: string; readonly score: number }>`
        SELECT id::text AS id, first_message_id::text AS first_message_id, last_message_id::text AS last_message_id,
               1 - (embedding <=> ${q}::vector) AS score
        FROM chunks
        WHERE chat_id = ${query.chatId}::uuid AND user_id = ${query.userId} AND embedder = ${query.embedder}
          AND embedding IS NOT NULL
        ORDER BY embedding <=> ${q}::vector, id
        LIMIT ${k}`
      const hits: ReadonlyArray<VectorHit> = rows.map((row) => ({
        chunkId: row.id,
        firstMessageId: row.first_message_id,
        lastMessageId: row.last_message_id,
        // float4 rounding can put an exact match a hair outside [-1, 1].
        score: Math.max(-1, Math.min(1, Number(row.score)))
      }))
      yield* Effect.annotateCurrentSpan("hits", hits.length)
      return hits
    }).pipe(orDatabaseError, Effect.withSpan("Vector.search", { attributes: { store: "postgres", k: query.k } }))

  const store: VectorStore = {
    backend: "postgres",
    upsert,
    search,
    deleteChat: (chatId) =>
      (isChatId(chatId) ? Effect.asVoid(sql`DELETE FROM chunks WHERE chat_id = ${chatId}::uuid`) : Effect.void).pipe(
        orDatabaseError,
        Effect.withSpan("Vector.deleteChat", { attributes: { backend: "postgres" } })
      ),
    // The vectors live in the chunk rows, so the rows of the other embedders go with them.
    retainEmbedder: (chatId, embedder) =>
      (isChatId(chatId)
        ? Effect.asVoid(sql`DELETE FROM chunks WHERE chat_id = ${chatId}::uuid AND embedder <> ${embedder}`)
        : Effect.void).pipe(
          orDatabaseError,
          Effect.withSpan("Vector.retainEmbedder", { attributes: { backend: "postgres", embedder } })
        ),
    // The vectors are the chunk rows' own: the rows go.
    deleteChunks: (chatId, chunkIds) =>
      (isChatId(chatId) && chunkIds.length > 0
        ? Effect.asVoid(sql`DELETE FROM chunks WHERE chat_id = ${chatId}::uuid AND id = ANY(${chunkIds}::bigint[])`)
        : Effect.void).pipe(
          orDatabaseError,
          Effect.withSpan("Vector.deleteChunks", { attributes: { backend: "postgres", count: chunkIds.length } })
        ),
    deleteUser: (userId) =>
      sql`DELETE FROM chunks WHERE user_id = ${userId}`.pipe(
        Effect.asVoid,
        orDatabaseError,
        Effect.withSpan("Vector.deleteUser", { attributes: { backend: "postgres" } })
      ),
    health: sql`SELECT 1`.pipe(
      Effect.timeout("5 seconds"),
      Effect.as({ status: "up" as const, backend: "postgres" as const }),
      Effect.catchAll(() => Effect.succeed({ status: "down" as const, backend: "postgres" as const })),
      Effect.withSpan("Vector.health", { attributes: { backend: "postgres" } })
    )
  }
  return store
})

/** `Vector` on the chunks table of the database in context. */
export const VectorPostgres: Layer.Layer<Vector, never, SqlClient.SqlClient> = Layer.effect(Vector, makePostgresStore)
