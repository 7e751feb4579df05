/** The `chunks` table: a chat's chunks, their embedding progress, and the messages the chunker reads. */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { wallClockSql } from "../Database.js"
import { MessageKind } from "../Domain/Chat.js"
import type { Chunk } from "./Chunker.js"

/** A chunk's id and the range of messages it covers: what a search finds, before fusion. */
export const ChunkHit = Schema.Struct({
  id: Schema.String,
  first_message_id: Schema.String,
  last_message_id: Schema.String
})
export type ChunkHit = typeof ChunkHit.Type

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
        kind: MessageKind
      }),
      execute: (chatId) =>
        sql`SELECT id::text AS id, ${sql.literal(wallClockSql("sent_at_local"))} AS sent_at, author, text, kind
            FROM messages WHERE chat_id = ${chatId}::uuid ORDER BY seq`
    })

    const chunkCount = (chatId: string, embedder: string) =>
      sql<{ total: number; embedded: number }>`
        SELECT count(*)::int AS total, count(embedded_at)::int AS embedded
        FROM chunks WHERE chat_id = ${chatId}::uuid AND embedder = ${embedder}`.pipe(
        Effect.map((rows) => rows[0] ?? { total: 0, embedded: 0 })
      )

    /** Stores a chat's chunks once: a re-run finds them there and inserts nothing. */
    const insertChunks = (
      input: { readonly chatId: string; readonly userId: string; readonly embedder: string },
      chunks: ReadonlyArray<Chunk>
    ) =>
      chunks.length === 0
        ? Effect.void
        : sql`INSERT INTO chunks (chat_id, user_id, seq, first_message_id, last_message_id, text, token_count, embedder)
              SELECT ${input.chatId}::uuid, ${input.userId}, u.seq, u.first, u.last, u.text, u.tokens, ${input.embedder}
              FROM unnest(${chunks.map((c) => c.seq)}::int[], ${chunks.map((c) => c.firstMessageId)}::bigint[],
                          ${chunks.map((c) => c.lastMessageId)}::bigint[], ${chunks.map((c) => c.text)}::text[],
                          ${chunks.map((c) => c.tokenCount)}::int[]) AS u(seq, first, last, text, tokens)
              ON CONFLICT (chat_id, embedder, seq) DO NOTHING`.pipe(Effect.asVoid)

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

    return { messagesOf, chunkCount, insertChunks, pending, markEmbedded, deleteOtherEmbedders, chatsToEmbed } as const
  })
}) {}
