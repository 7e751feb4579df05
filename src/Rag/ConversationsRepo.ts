/** Conversations about chats and their turns. Reads go through `active_ai_conversations` (soft delete in one place). */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { type CitedMessage, Conversation, ConversationMessage } from "../Domain/Rag.js"

// The driver reads timestamps as `Date`s: rows decode with the wire schemas' type side.
const ConversationRow = Schema.typeSchema(Conversation)
const ConversationMessageRow = Schema.typeSchema(ConversationMessage)

export class ConversationsRepo extends Effect.Service<ConversationsRepo>()("chatsight/ConversationsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal("id::text AS id, chat_id::text AS chat_id, title, created_at, updated_at")

    const create = SqlSchema.single({
      Request: Schema.Struct({ userId: Schema.String, chatId: Schema.String, title: Schema.String }),
      Result: ConversationRow,
      execute: ({ chatId, title, userId }) =>
        sql`INSERT INTO ai_conversations (user_id, chat_id, title) VALUES (${userId}, ${chatId}::uuid, ${title})
            RETURNING ${columns}`
    })

    const find = SqlSchema.findOne({
      Request: Schema.Struct({ userId: Schema.String, conversationId: Schema.String }),
      Result: ConversationRow,
      execute: ({ conversationId, userId }) =>
        sql`SELECT ${columns} FROM active_ai_conversations WHERE id = ${conversationId}::uuid AND user_id = ${userId}`
    })

    /** Latest activity first (to the millisecond, as cursors carry it); `limit + 1` rows. */
    const list = SqlSchema.findAll({
      Request: Schema.Struct({
        userId: Schema.String,
        chatId: Schema.String,
        limit: Schema.Int,
        after: Schema.NullOr(Schema.Struct({ at: Schema.DateFromSelf, id: Schema.String }))
      }),
      Result: ConversationRow,
      execute: ({ after, chatId, limit, userId }) =>
        sql`SELECT ${columns} FROM active_ai_conversations
            WHERE user_id = ${userId} AND chat_id = ${chatId}::uuid ${
          after === null
            ? sql``
            : sql`AND (date_trunc('milliseconds', updated_at) < ${after.at}
                       OR (date_trunc('milliseconds', updated_at) = ${after.at} AND id > ${after.id}::uuid))`
        }
            ORDER BY date_trunc('milliseconds', updated_at) DESC, id LIMIT ${limit + 1}`
    })

    const messages = SqlSchema.findAll({
      Request: Schema.String,
      Result: ConversationMessageRow,
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
