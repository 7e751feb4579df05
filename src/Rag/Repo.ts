/** The SQL of questions about a chat: chunks, their embedding progress, and the messages they cover. */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import type { Chunk, ChunkInput } from "./Chunker.js"
import { wallClockSql } from "../Database.js"

export const PendingChunk = Schema.Struct({
  id: Schema.String,
  first_message_id: Schema.String,
  last_message_id: Schema.String,
  text: Schema.String
})
export type PendingChunk = typeof PendingChunk.Type

export class RagRepo extends Effect.Service<RagRepo>()("chatsight/RagRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** The owner of a chat that is not deleted. */
    const ownerOf = (chatId: string) =>
      sql<{ user_id: string }>`SELECT user_id FROM active_chats WHERE id = ${chatId}::uuid`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0]?.user_id))
      )

    /** A chat's messages in file order, as the chunker reads them. */
    const messagesOf = SqlSchema.findAll({
      Request: Schema.String,
      Result: Schema.Struct({
        id: Schema.String,
        sentAt: Schema.String,
        author: Schema.NullOr(Schema.String),
        text: Schema.String,
        kind: Schema.Literal("text", "media", "system", "deleted", "edited")
      }),
      execute: (chatId) =>
        sql`SELECT id::text AS id, ${sql.literal(wallClockSql("sent_at_local"))} AS "sentAt", author, text, kind
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

    /** Chats whose chunks are not all embedded by `embedder` (new chats, or an embedder change). */
    const chatsToEmbed = (embedder: string) =>
      sql<{ id: string; user_id: string }>`
        SELECT c.id::text AS id, c.user_id FROM active_chats c
        WHERE c.status = 'ready' AND (
          NOT EXISTS (SELECT 1 FROM chunks k WHERE k.chat_id = c.id AND k.embedder = ${embedder})
          OR EXISTS (SELECT 1 FROM chunks k WHERE k.chat_id = c.id AND k.embedder = ${embedder} AND k.embedded_at IS NULL))`

    return { ownerOf, messagesOf, chunkCount, insertChunks, pending, markEmbedded, chatsToEmbed } as const
  })
}) {}

export type { ChunkInput }

/** A chunk found by a search, before fusion. */
export const ChunkHit = Schema.Struct({
  id: Schema.String,
  first_message_id: Schema.String,
  last_message_id: Schema.String
})
export type ChunkHit = typeof ChunkHit.Type

export const CitedMessage = Schema.Struct({
  message_id: Schema.String,
  author: Schema.NullOr(Schema.String),
  sent_at: Schema.String,
  text: Schema.String
})
export type CitedMessage = typeof CitedMessage.Type

export class RetrievalRepo extends Effect.Service<RetrievalRepo>()("chatsight/RetrievalRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const sentAt = sql.literal(wallClockSql("m.sent_at_local"))

    /** Chunks matching any word of the question, best first. */
    const fullTextChunks = SqlSchema.findAll({
      Request: Schema.Struct({ chatId: Schema.String, embedder: Schema.String, query: Schema.String, k: Schema.Int }),
      Result: ChunkHit,
      execute: ({ chatId, embedder, k, query }) =>
        sql`SELECT c.id::text AS id, c.first_message_id::text AS first_message_id, c.last_message_id::text AS last_message_id
            FROM chunks c, to_tsquery('simple', ${query}) q
            WHERE c.chat_id = ${chatId}::uuid AND c.embedder = ${embedder} AND c.search @@ q
            ORDER BY ts_rank(c.search, q) DESC, c.seq LIMIT ${k}`
    })

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

    /** The messages the chunks cover, from the messages table, in file order, each once. */
    const messagesOfChunks = SqlSchema.findAll({
      Request: Schema.Struct({
        chatId: Schema.String,
        firsts: Schema.Array(Schema.String),
        lasts: Schema.Array(Schema.String)
      }),
      Result: CitedMessage,
      execute: ({ chatId, firsts, lasts }) =>
        sql`SELECT DISTINCT m.seq, m.id::text AS message_id, m.author, ${sentAt} AS sent_at, m.text
            FROM unnest(${firsts}::bigint[], ${lasts}::bigint[]) AS r(first_id, last_id)
            JOIN messages f ON f.id = r.first_id
            JOIN messages l ON l.id = r.last_id
            JOIN messages m ON m.chat_id = ${chatId}::uuid AND m.seq BETWEEN f.seq AND l.seq
            WHERE m.kind IN ('text', 'edited')
            ORDER BY m.seq`
    })

    /** Messages (not system events) of the chat, of one author and within a wall-clock range if given. */
    const ofWhomAndWhen = (input: {
      readonly chatId: string
      readonly author: string | null
      readonly from: string | null
      readonly to: string | null
    }) =>
      sql.and([
        sql`m.chat_id = ${input.chatId}::uuid`,
        sql`m.kind <> 'system'`,
        ...(input.author === null ? [] : [sql`m.author = ${input.author}`]),
        ...(input.from === null ? [] : [sql`m.sent_at_local >= ${input.from}::timestamp`]),
        ...(input.to === null ? [] : [sql`m.sent_at_local <= ${input.to}::timestamp`])
      ])

    const countMessages = (input: {
      readonly chatId: string
      readonly author: string | null
      readonly from: string | null
      readonly to: string | null
    }) =>
      sql<{ n: number }>`SELECT count(*)::int AS n FROM messages m
        WHERE ${ofWhomAndWhen(input)}`.pipe(
        Effect.map((rows) => rows[0]?.n ?? 0)
      )

    /** The first or last few messages (not system events), of one author and range if given. */
    const edgeMessages = SqlSchema.findAll({
      Request: Schema.Struct({
        chatId: Schema.String,
        author: Schema.NullOr(Schema.String),
        from: Schema.NullOr(Schema.String),
        to: Schema.NullOr(Schema.String),
        last: Schema.Boolean,
        limit: Schema.Int
      }),
      Result: CitedMessage,
      execute: (input) =>
        sql`SELECT m.id::text AS message_id, m.author, ${sentAt} AS sent_at, m.text FROM messages m
            WHERE ${ofWhomAndWhen(input)}
            ORDER BY m.seq ${input.last ? sql`DESC` : sql`ASC`} LIMIT ${input.limit}`
    })

    return { fullTextChunks, fullTextMessages, messagesOfChunks, countMessages, edgeMessages } as const
  })
}) {}

export const Conversation = Schema.Struct({
  id: Schema.String,
  chat_id: Schema.String,
  title: Schema.String,
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf
})
export type Conversation = typeof Conversation.Type

export const ConversationMessage = Schema.Struct({
  id: Schema.String,
  role: Schema.Literal("user", "assistant"),
  content: Schema.String,
  citations: Schema.Array(CitedMessage),
  mode: Schema.NullOr(Schema.String),
  created_at: Schema.DateFromSelf
})
export type ConversationMessage = typeof ConversationMessage.Type

/** Conversations about chats. Reads go through `active_ai_conversations` (soft delete in one place). */
export class ConversationsRepo extends Effect.Service<ConversationsRepo>()("chatsight/ConversationsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal("id::text AS id, chat_id::text AS chat_id, title, created_at, updated_at")

    const create = SqlSchema.single({
      Request: Schema.Struct({ userId: Schema.String, chatId: Schema.String, title: Schema.String }),
      Result: Conversation,
      execute: ({ chatId, title, userId }) =>
        sql`INSERT INTO ai_conversations (user_id, chat_id, title) VALUES (${userId}, ${chatId}::uuid, ${title})
            RETURNING ${columns}`
    })

    const find = SqlSchema.findOne({
      Request: Schema.Struct({ userId: Schema.String, conversationId: Schema.String }),
      Result: Conversation,
      execute: ({ conversationId, userId }) =>
        sql`SELECT ${columns} FROM active_ai_conversations WHERE id = ${conversationId}::uuid AND user_id = ${userId}`
    })

    const list = SqlSchema.findAll({
      Request: Schema.Struct({ userId: Schema.String, chatId: Schema.String }),
      Result: Conversation,
      execute: ({ chatId, userId }) =>
        sql`SELECT ${columns} FROM active_ai_conversations WHERE user_id = ${userId} AND chat_id = ${chatId}::uuid
            ORDER BY updated_at DESC, id LIMIT 100`
    })

    const messages = SqlSchema.findAll({
      Request: Schema.String,
      Result: ConversationMessage,
      execute: (conversationId) =>
        sql`SELECT id::text AS id, role, content, citations, mode, created_at FROM ai_messages
            WHERE conversation_id = ${conversationId}::uuid ORDER BY id`
    })

    const append = (conversationId: string, message: {
      readonly role: "user" | "assistant"
      readonly content: string
      readonly citations: ReadonlyArray<CitedMessage>
      readonly mode: string | null
    }) =>
      Effect.zipRight(
        sql`INSERT INTO ai_messages (conversation_id, role, content, citations, mode)
            VALUES (${conversationId}::uuid, ${message.role}, ${message.content},
                    ${JSON.stringify(message.citations)}::jsonb, ${message.mode})`,
        sql`UPDATE ai_conversations SET updated_at = now() WHERE id = ${conversationId}::uuid`
      )

    /** Marks the conversation deleted; true when it was the user's and not already deleted. */
    const softDelete = (userId: string, conversationId: string) =>
      sql`UPDATE ai_conversations SET deleted_at = now(), updated_at = now()
          WHERE id = (SELECT id FROM active_ai_conversations WHERE id = ${conversationId}::uuid AND user_id = ${userId})
          RETURNING id`.pipe(Effect.map((rows) => rows.length === 1))

    return { create, find, list, messages, append, softDelete } as const
  })
}) {}
