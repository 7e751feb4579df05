/** The `chunks` table: a chat's chunks, their embedding progress, and the messages the chunker reads. */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { wallClockSql } from "../Database.js"
import { MediaKind, MessageKind } from "../Domain/Chat.js"
import type { Chunk } from "./Chunker.js"
import { isSearchConfig, type SearchConfig, searchConfigOf } from "./SearchLanguage.js"

/** A chunk's id and the range of messages it covers: what a search finds, before fusion. */
export const ChunkHit = Schema.Struct({
  id: Schema.String,
  first_message_id: Schema.String,
  last_message_id: Schema.String
})
export type ChunkHit = typeof ChunkHit.Type

/**
 * A full-text hit and how much of the question it covers: the share of the question's term weight it
 * matches, each term weighing its rarity in the chat (idf), so one common word shared by chance covers little.
 */
export const TextHit = Schema.Struct({ ...ChunkHit.fields, coverage: Schema.Number })
export type TextHit = typeof TextHit.Type

/** A chunk still without its vector, with the text to embed. */
export const PendingChunk = Schema.Struct({ ...ChunkHit.fields, text: Schema.String })
export type PendingChunk = typeof PendingChunk.Type

export class ChunksRepo extends Effect.Service<ChunksRepo>()("chatsight/ChunksRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** A chat's messages in file order, as the chunker reads them. */
    const messagesOf = SqlSchema.findAll({
      Request: Schema.String,
      Result: Schema.Struct({
        id: Schema.String,
        sent_at: Schema.String,
        author: Schema.NullOr(Schema.String),
        text: Schema.String,
        kind: MessageKind,
        media_kind: Schema.NullOr(MediaKind)
      }),
      execute: (chatId) =>
        sql`SELECT id::text AS id, ${sql.literal(wallClockSql("sent_at_local"))} AS sent_at, author, text, kind, media_kind
            FROM messages WHERE chat_id = ${chatId}::uuid ORDER BY seq`
    })

    /** How many chunks the chat has for `embedder`, how many have their vector, and their search language. */
    const chunkCount = (chatId: string, embedder: string) =>
      sql<{ total: number; embedded: number; config: string | null }>`
        SELECT count(*)::int AS total, count(embedded_at)::int AS embedded, min(search_config::text) AS config
        FROM chunks WHERE chat_id = ${chatId}::uuid AND embedder = ${embedder}`.pipe(
        Effect.map((rows) => {
          const row = rows[0]
          const config: SearchConfig = row?.config != null && isSearchConfig(row.config) ? row.config : "simple"
          return { total: row?.total ?? 0, embedded: row?.embedded ?? 0, config }
        })
      )

    /**
     * Stores a chat's chunks once (a re-run finds them there and inserts nothing), indexed for full-text
     * search in the language of their text; chunks added to a chat that has some already (after a merge)
     * keep the chat's configuration, so one query searches them all alike.
     */
    const insertChunks = (
      input: { readonly chatId: string; readonly userId: string; readonly embedder: string },
      chunks: ReadonlyArray<Chunk>
    ) =>
      chunks.length === 0
        ? Effect.void
        : sql`INSERT INTO chunks (chat_id, user_id, seq, first_message_id, last_message_id, text, token_count, embedder,
                                  search_config)
              SELECT ${input.chatId}::uuid, ${input.userId}, u.seq, u.first, u.last, u.text, u.tokens, ${input.embedder},
                     coalesce(
                       (SELECT k.search_config FROM chunks k
                        WHERE k.chat_id = ${input.chatId}::uuid AND k.embedder = ${input.embedder} LIMIT 1),
                       ${searchConfigOf(chunks.map((c) => c.text))}::regconfig)
              FROM unnest(${chunks.map((c) => c.seq)}::int[], ${chunks.map((c) => c.firstMessageId)}::bigint[],
                          ${chunks.map((c) => c.lastMessageId)}::bigint[], ${chunks.map((c) => c.text)}::text[],
                          ${chunks.map((c) => c.tokenCount)}::int[]) AS u(seq, first, last, text, tokens)
              ON CONFLICT (chat_id, embedder, seq) DO NOTHING`.pipe(Effect.asVoid)

    /**
     * Chunks matching any of `terms` (tsquery operands: words, `word:*` prefixes), most covered first,
     * then by ts_rank. A term weighs its idf among the chat's `total` chunks: one the chat's configuration
     * drops (a stop word) weighs nothing, one the chat never uses the most, so a question whose words are
     * not in the chat covers little with the words it shares by chance. Each term is looked up on its own
     * in the index (no per-row evaluation of every term); ts_rank only orders the best few.
     */
    const searchText = SqlSchema.findAll({
      Request: Schema.Struct({
        chatId: Schema.String,
        embedder: Schema.String,
        config: Schema.String,
        terms: Schema.Array(Schema.String),
        total: Schema.Int,
        k: Schema.Int
      }),
      Result: TextHit,
      execute: ({ chatId, config, embedder, k, terms, total }) =>
        sql`WITH t AS (
              SELECT u.i::int AS i, to_tsquery(${config}::regconfig, u.term) AS q
              FROM unnest(${terms}::text[]) WITH ORDINALITY AS u(term, i)
            ), m AS (
              SELECT t.i, c.id FROM t JOIN chunks c ON c.search @@ t.q
              WHERE c.chat_id = ${chatId}::uuid AND c.embedder = ${embedder}
            ), w AS (
              SELECT t.i, ln(1 + (${total}::float8 + 0.5) / (count(m.id) + 0.5)) AS idf
              FROM t LEFT JOIN m ON m.i = t.i WHERE numnode(t.q) > 0 GROUP BY t.i
            ), scored AS (
              SELECT m.id, sum(w.idf) / (SELECT sum(idf) FROM w) AS coverage
              FROM m JOIN w ON w.i = m.i GROUP BY m.id
              ORDER BY coverage DESC, m.id LIMIT ${3 * k}
            )
            SELECT c.id::text AS id, c.first_message_id::text AS first_message_id,
                   c.last_message_id::text AS last_message_id, s.coverage::float8 AS coverage
            FROM scored s JOIN chunks c ON c.id = s.id
            ORDER BY s.coverage DESC, ts_rank(c.search, to_tsquery(${config}::regconfig, ${terms.join(" | ")})) DESC, c.seq
            LIMIT ${k}`
    })

    /** The next chunks without a stored vector, in order. */
    const pending = SqlSchema.findAll({
      Request: Schema.Struct({ chatId: Schema.String, embedder: Schema.String, limit: Schema.Int }),
      Result: PendingChunk,
      execute: ({ chatId, embedder, limit }) =>
        sql`SELECT id::text AS id, first_message_id::text AS first_message_id,
                   last_message_id::text AS last_message_id, text
            FROM chunks WHERE chat_id = ${chatId}::uuid AND embedder = ${embedder} AND embedded_at IS NULL
            ORDER BY seq LIMIT ${limit}`
    })

    const markEmbedded = (ids: ReadonlyArray<string>) =>
      sql`UPDATE chunks SET embedded_at = now() WHERE id = ANY(${ids}::bigint[])`.pipe(Effect.asVoid)

    /** Removes a chat's chunks made for any other embedder (the vector store drops their vectors first). */
    const deleteOtherEmbedders = (chatId: string, embedder: string) =>
      sql`DELETE FROM chunks WHERE chat_id = ${chatId}::uuid AND embedder <> ${embedder}`.pipe(Effect.asVoid)

    /** Chats whose chunks are not all embedded by `embedder` (new chats, or an embedder change). */
    const chatsToEmbed = (embedder: string) =>
      sql<{ id: string; user_id: string }>`
        SELECT c.id::text AS id, c.user_id FROM active_chats c
        WHERE c.status = 'ready' AND (
          NOT EXISTS (SELECT 1 FROM chunks k WHERE k.chat_id = c.id AND k.embedder = ${embedder})
          OR EXISTS (SELECT 1 FROM chunks k WHERE k.chat_id = c.id AND k.embedder = ${embedder} AND k.embedded_at IS NULL))`

    return {
      messagesOf,
      chunkCount,
      insertChunks,
      searchText,
      pending,
      markEmbedded,
      deleteOtherEmbedders,
      chatsToEmbed
    } as const
  })
}) {}
