/**
 * The SQL of retrieval: full-text search of messages before a chat has chunks, and the messages chunks
 * cover (chunk search is in ChunksRepo.ts, exact answers in ChatToolsRepo.ts).
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { wallClockSql } from "../Database.js"
import { CitedMessage } from "../Domain/Rag.js"
import { ChunkHit } from "./ChunksRepo.js"

/** A message a retrieved chunk covers, with the rank (from 1) of the best chunk that covers it. */
export const RankedMessage = Schema.Struct({ ...CitedMessage.fields, rank: Schema.Int })
export type RankedMessage = typeof RankedMessage.Type

export class RetrievalRepo extends Effect.Service<RetrievalRepo>()("chatsight/RetrievalRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const sentAt = sql.literal(wallClockSql("m.sent_at_local"))

    /** Before a chat has chunks: messages matching any word of the question, best first. */
    const fullTextMessages = SqlSchema.findAll({
      Request: Schema.Struct({ chatId: Schema.String, query: Schema.String, k: Schema.Int }),
      Result: ChunkHit,
      execute: ({ chatId, k, query }) =>
        sql`SELECT m.id::text AS id, m.id::text AS first_message_id, m.id::text AS last_message_id
            FROM messages m, to_tsquery('simple', ${query}) q
            WHERE m.chat_id = ${chatId}::uuid AND m.kind IN ('text', 'edited') AND to_tsvector('simple', m.text) @@ q
            ORDER BY ts_rank(to_tsvector('simple', m.text), q) DESC, m.seq LIMIT ${k}`
    })

    /** The messages the chunks cover, from the messages table, in file order, each once with its best chunk's rank. */
    const messagesOfChunks = SqlSchema.findAll({
      Request: Schema.Struct({
        chatId: Schema.String,
        firsts: Schema.Array(Schema.String),
        lasts: Schema.Array(Schema.String)
      }),
      Result: RankedMessage,
      execute: ({ chatId, firsts, lasts }) =>
        sql`SELECT m.seq, m.id::text AS message_id, m.author, ${sentAt} AS sent_at, m.text, min(r.rank)::int AS rank
            FROM unnest(${firsts}::bigint[], ${lasts}::bigint[]) WITH ORDINALITY AS r(first_id, last_id, rank)
            JOIN messages f ON f.id = r.first_id
            JOIN messages l ON l.id = r.last_id
            JOIN messages m ON m.chat_id = ${chatId}::uuid AND m.seq BETWEEN f.seq AND l.seq
            -- What people wrote: text, edited messages and media captions (as the chunker keeps them).
            WHERE (m.kind IN ('text', 'edited') OR (m.kind = 'media' AND m.media_kind IS NOT NULL AND m.text <> ''))
            GROUP BY m.seq, m.id, m.author, m.sent_at_local, m.text
            ORDER BY m.seq`
    })

    return { fullTextMessages, messagesOfChunks } as const
  })
}) {}
