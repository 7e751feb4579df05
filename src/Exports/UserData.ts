/**
 * What an export reads of a user's data, and only theirs: the account, the chats that are not deleted
 * (through `active_chats`) with their statistics, messages a page at a time, conversations with their
 * turns, the ledger a page at a time, and the payment orders with what each event did (never the
 * providers' payloads). Rows decode to the types the API's wire schemas encode.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { chatColumns } from "../Chats/ChatColumns.js"
import { orderColumns } from "../Payments/OrderColumns.js"
import { wallClockSql } from "../Database.js"
import { ChatRow } from "../Domain/Chat.js"
import { LedgerRow } from "../Domain/Credits.js"
import { ExportedAccount, ExportedMessage } from "../Domain/Exports.js"
import { OrderEvent, OrderRow } from "../Domain/Payments.js"
import { Conversation, ConversationMessage } from "../Domain/Rag.js"



// The driver reads timestamps as `Date`s: rows decode with the wire schemas' type side.
const AccountRow = Schema.typeSchema(ExportedAccount)
const TurnRow = Schema.Struct({
  ...ConversationMessage.fields,
  created_at: Schema.DateFromSelf,
  conversation_id: Schema.String
})
const EventRow = Schema.Struct({
  ...OrderEvent.fields,
  received_at: Schema.DateFromSelf,
  processed_at: Schema.NullOr(Schema.DateFromSelf),
  order_id: Schema.String
})

export class UserDataRepo extends Effect.Service<UserDataRepo>()("chatsight/UserDataRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const account = SqlSchema.findOne({
      Request: Schema.String,
      Result: AccountRow,
      execute: (userId) => sql`SELECT id, email, name, credit_balance, created_at FROM active_users WHERE id = ${userId}`
    })

    /** The user's chats that are not deleted, oldest upload first. */
    const chats = SqlSchema.findAll({
      Request: Schema.String,
      Result: ChatRow,
      execute: (userId) =>
        sql`SELECT ${sql.literal(chatColumns)} FROM active_chats WHERE user_id = ${userId} ORDER BY created_at, id`
    })

    const statistics = (chatId: string) =>
      sql<{ stats: unknown }>`SELECT stats FROM chat_stats WHERE chat_id = ${chatId}::uuid`.pipe(
        Effect.map((rows) => rows[0]?.stats ?? null)
      )

    /** How many messages of every kind (system events too) the user's chats hold. */
    const messageTotal = (userId: string) =>
      sql<{ total: number }>`SELECT count(*)::float8 AS total
        FROM messages m JOIN active_chats c ON c.id = m.chat_id AND c.user_id = ${userId}`.pipe(
        Effect.map((rows) => rows[0]?.total ?? 0)
      )

    /** The highest `seq` of the chat's messages; none for a chat without any, or one deleted or not the user's. */
    const lastSeq = (userId: string, chatId: string) =>
      sql<{ last: number | null }>`SELECT max(m.seq) AS last
        FROM messages m JOIN active_chats c ON c.id = m.chat_id AND c.user_id = ${userId}
        WHERE m.chat_id = ${chatId}::uuid`.pipe(Effect.map((rows) => rows[0]?.last ?? null))

    /**
     * The chat's messages with `seq` from `from` to `to`, in file order; none once the chat is deleted or
     * is not the user's. Pages are ranges of `seq`, not `LIMIT`s after a position: each reads at most its
     * range whatever plan the statistics of a freshly stored chat lead to. `sent_at` is written as the API
     * writes instants (ISO 8601, UTC, milliseconds).
     */
    const messages = SqlSchema.findAll({
      Request: Schema.Struct({ userId: Schema.String, chatId: Schema.String, from: Schema.Int, to: Schema.Int }),
      Result: ExportedMessage,
      execute: ({ chatId, from, to, userId }) =>
        sql`SELECT m.id::text AS id, m.seq, ${sql.literal(wallClockSql("m.sent_at_local"))} AS sent_at_local,
                   to_char(m.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS sent_at,
                   m.author, m.text, m.kind, m.media_kind, m.file_name, m.event
            FROM messages m JOIN active_chats c ON c.id = m.chat_id AND c.user_id = ${userId}
            WHERE m.chat_id = ${chatId}::uuid AND m.seq BETWEEN ${from} AND ${to}
            ORDER BY m.seq`
    })

    /** The chat's conversations that are not deleted, oldest first, each with its turns in order. */
    const conversations = (userId: string, chatId: string) =>
      Effect.gen(function*() {
        const found = yield* SqlSchema.findAll({
          Request: Schema.Void,
          Result: Schema.typeSchema(Conversation),
          execute: () =>
            sql`SELECT id::text AS id, chat_id::text AS chat_id, title, created_at, updated_at FROM active_ai_conversations
                WHERE user_id = ${userId} AND chat_id = ${chatId}::uuid ORDER BY created_at, id`
        })(undefined)
        const turns = found.length === 0 ? [] : yield* SqlSchema.findAll({
          Request: Schema.Void,
          Result: TurnRow,
          execute: () =>
            sql`SELECT conversation_id::text AS conversation_id, id::text AS id, role, content, citations, mode, created_at
                FROM ai_messages WHERE conversation_id = ANY(${found.map((c) => c.id)}::uuid[])
                ORDER BY conversation_id, id`
        })(undefined)
        return found.map((conversation) => ({
          ...conversation,
          messages: turns.filter((turn) => turn.conversation_id === conversation.id)
            .map(({ conversation_id: _, ...turn }) => turn)
        }))
      })

    /** Up to `limit` ledger entries after the entry `afterId`, oldest first. */
    const ledger = SqlSchema.findAll({
      Request: Schema.Struct({ userId: Schema.String, afterId: Schema.String, limit: Schema.Int }),
      Result: LedgerRow,
      execute: ({ afterId, limit, userId }) =>
        sql`SELECT id::text AS id, user_id, kind, amount, balance_after, reference, description, created_at
            FROM credit_transactions WHERE user_id = ${userId} AND id > ${afterId}::bigint ORDER BY id LIMIT ${limit}`
    })

    /** The user's payment orders, oldest first, each with its events' types and outcomes. */
    const orders = (userId: string) =>
      Effect.gen(function*() {
        const rows = yield* SqlSchema.findAll({
          Request: Schema.Void,
          Result: OrderRow,
          execute: () =>
            sql`SELECT ${sql.literal(orderColumns)} FROM payment_orders WHERE user_id = ${userId} ORDER BY created_at, id`
        })(undefined)
        const events = rows.length === 0 ? [] : yield* SqlSchema.findAll({
          Request: Schema.Void,
          Result: EventRow,
          execute: () =>
            sql`SELECT e.order_id::text AS order_id, e.event_type, e.outcome, e.received_at, e.processed_at
                FROM payment_events e JOIN payment_orders o ON o.id = e.order_id
                WHERE o.user_id = ${userId} ORDER BY e.id`
        })(undefined)
        return rows.map((order) => ({
          order,
          events: events.filter((event) => event.order_id === order.id).map(({ order_id: _, ...event }) => event)
        }))
      })

    return { account, chats, statistics, messageTotal, lastSeq, messages, conversations, ledger, orders } as const
  })
}) {}
