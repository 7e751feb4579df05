/**
 * Chats' SQL. Every read goes through `active_chats`, so a deleted chat (or a deleted user's chat)
 * is gone from every lookup at once; only the purge job touches deleted rows.
 */
import { SqlClient, SqlSchema, type Statement } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import { ChatRow, Message } from "../Domain/Chat.js"
import { wallClockSql } from "../Database.js"
import { chatColumns } from "./ChatColumns.js"


/** What a purge removed from one chat. */
export interface PurgeCounts {
  readonly messages: number
  readonly chunks: number
  readonly vectors: number
  readonly insights: number
  readonly conversations: number
}

/** One batch of messages in columns, as the bulk insert takes them. */
export interface MessageColumns {
  readonly seq: ReadonlyArray<number>
  /** Wall-clock times as `YYYY-MM-DD HH:MM:SS`. */
  readonly sentAt: ReadonlyArray<string>
  readonly author: ReadonlyArray<string | null>
  readonly text: ReadonlyArray<string>
  readonly kind: ReadonlyArray<string>
  readonly mediaKind: ReadonlyArray<string | null>
  readonly fileName: ReadonlyArray<string | null>
  readonly event: ReadonlyArray<string | null>
}

export interface NewChat {
  /** Chosen by the caller when it needs the id before the row exists; by the database otherwise. */
  readonly id?: string | undefined
  readonly userId: string
  readonly displayName: string
  readonly sourceFilename: string | null
  readonly contentHash: string
  readonly participants: ReadonlyArray<string>
  readonly messageCount: number
  /** `YYYY-MM-DD HH:MM:SS` or null for a chat without messages. */
  readonly firstMessageAt: string | null
  readonly lastMessageAt: string | null
  readonly parseReport: unknown
  readonly timeZone: string
}

export interface MessageFilter {
  readonly author?: string | undefined
  readonly text?: string | undefined
  /** Inclusive bounds on the wall-clock time, `YYYY-MM-DD HH:MM:SS`. */
  readonly from?: string | undefined
  readonly to?: string | undefined
}

export class ChatsRepo extends Effect.Service<ChatsRepo>()("chatsight/ChatsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal(chatColumns)

    const find = SqlSchema.findOne({
      Request: Schema.Struct({ userId: Schema.String, chatId: Schema.String }),
      Result: ChatRow,
      execute: ({ chatId, userId }) =>
        sql`SELECT ${columns} FROM active_chats WHERE id = ${chatId}::uuid AND user_id = ${userId}`
    })

    const findByHash = SqlSchema.findOne({
      Request: Schema.Struct({ userId: Schema.String, contentHash: Schema.String }),
      Result: ChatRow,
      execute: ({ contentHash, userId }) =>
        sql`SELECT ${columns} FROM active_chats WHERE user_id = ${userId} AND content_hash = ${contentHash}`
    })

    /** Newest activity first; the cursor is the last row's (last_message_at, id). */
    const list = SqlSchema.findAll({
      Request: Schema.Struct({
        userId: Schema.String,
        limit: Schema.Int,
        after: Schema.NullOr(Schema.Struct({ lastMessageAt: Schema.NullOr(Schema.String), id: Schema.String }))
      }),
      Result: ChatRow,
      execute: ({ after, limit, userId }) => {
        const page: Statement.Fragment = after === null
          ? sql``
          : after.lastMessageAt === null
          ? sql`AND last_message_at IS NULL AND id > ${after.id}::uuid`
          : sql`AND (last_message_at < ${after.lastMessageAt}::timestamp
                     OR (last_message_at = ${after.lastMessageAt}::timestamp AND id > ${after.id}::uuid)
                     OR last_message_at IS NULL)`
        return sql`SELECT ${columns} FROM active_chats WHERE user_id = ${userId} ${page}
                   ORDER BY last_message_at DESC NULLS LAST, id LIMIT ${limit + 1}`
      }
    })

    /** The new chat's id, or none when the user already has this file (the unique index decides). */
    const insert = (chat: NewChat) =>
      sql<{ id: string }>`INSERT INTO chats ${
        sql.insert({
          ...(chat.id === undefined ? {} : { id: chat.id }),
          user_id: chat.userId,
          display_name: chat.displayName,
          source_filename: chat.sourceFilename,
          content_hash: chat.contentHash,
          participants: JSON.stringify(chat.participants),
          message_count: chat.messageCount,
          first_message_at: chat.firstMessageAt,
          last_message_at: chat.lastMessageAt,
          status: "ready",
          parse_report: JSON.stringify(chat.parseReport),
          time_zone: chat.timeZone
        })
      } ON CONFLICT (user_id, content_hash) WHERE deleted_at IS NULL DO NOTHING
      RETURNING id::text AS id`.pipe(Effect.map((rows) => Option.fromNullable(rows[0]?.id)))

    /** One statement per batch: the columns travel as arrays and are unnested by the server. */
    const insertMessages = (chatId: string, timeZone: string, batch: MessageColumns) =>
      sql`INSERT INTO messages (chat_id, seq, sent_at_local, sent_at, author, text, kind, media_kind, file_name, event)
          SELECT ${chatId}::uuid, u.seq, u.local, u.local AT TIME ZONE ${timeZone}, u.author, u.text, u.kind,
                 u.media_kind, u.file_name, u.event
          FROM unnest(${batch.seq}::int[], ${batch.sentAt}::timestamp[], ${batch.author}::text[],
                      ${batch.text}::text[], ${batch.kind}::text[], ${batch.mediaKind}::text[],
                      ${batch.fileName}::text[], ${batch.event}::text[])
               AS u(seq, local, author, text, kind, media_kind, file_name, event)`

    const insertStats = (chatId: string, stats: unknown) =>
      sql`INSERT INTO chat_stats (chat_id, stats) VALUES (${chatId}::uuid, ${JSON.stringify(stats)}::jsonb)`

    const stats = (chatId: string) =>
      sql<{ stats: unknown }>`SELECT stats FROM chat_stats WHERE chat_id = ${chatId}::uuid`.pipe(
        Effect.map((rows) => rows[0]?.stats ?? null)
      )

    const messages = SqlSchema.findAll({
      Request: Schema.Struct({
        chatId: Schema.String,
        limit: Schema.Int,
        afterSeq: Schema.NullOr(Schema.Int),
        author: Schema.optional(Schema.String),
        text: Schema.optional(Schema.String),
        from: Schema.optional(Schema.String),
        to: Schema.optional(Schema.String)
      }),
      Result: Message,
      execute: (request) => {
        const conditions: Array<Statement.Fragment> = [sql`chat_id = ${request.chatId}::uuid`]
        if (request.afterSeq !== null) conditions.push(sql`seq > ${request.afterSeq}`)
        if (request.author !== undefined) conditions.push(sql`author = ${request.author}`)
        if (request.text !== undefined) conditions.push(sql`text ILIKE ${`%${escapeLike(request.text)}%`}`)
        if (request.from !== undefined) conditions.push(sql`sent_at_local >= ${request.from}::timestamp`)
        if (request.to !== undefined) conditions.push(sql`sent_at_local <= ${request.to}::timestamp`)
        return sql`SELECT id::text AS id, seq, ${sql.literal(wallClockSql("sent_at_local"))} AS sent_at, author, text, kind,
                          media_kind, file_name, event
                   FROM messages WHERE ${sql.and(conditions)} ORDER BY seq LIMIT ${request.limit + 1}`
      }
    })

    const rename = SqlSchema.findOne({
      Request: Schema.Struct({ userId: Schema.String, chatId: Schema.String, displayName: Schema.String }),
      Result: ChatRow,
      execute: ({ chatId, displayName, userId }) =>
        sql`UPDATE chats SET display_name = ${displayName}, updated_at = now()
            WHERE id = (SELECT id FROM active_chats WHERE id = ${chatId}::uuid AND user_id = ${userId})
            RETURNING ${columns}`
    })

    const setSharing = SqlSchema.findOne({
      Request: Schema.Struct({ userId: Schema.String, chatId: Schema.String, shared: Schema.Boolean }),
      Result: ChatRow,
      execute: ({ chatId, shared, userId }) =>
        sql`UPDATE chats SET is_shared = ${shared}, updated_at = now()
            WHERE id = (SELECT id FROM active_chats WHERE id = ${chatId}::uuid AND user_id = ${userId})
            RETURNING ${columns}`
    })

    /** Marks the chat deleted; true when it was the user's and not already deleted. */
    const softDelete = (userId: string, chatId: string) =>
      sql`UPDATE chats SET deleted_at = now(), updated_at = now()
          WHERE id = (SELECT id FROM active_chats WHERE id = ${chatId}::uuid AND user_id = ${userId})
          RETURNING id`.pipe(Effect.map((rows) => rows.length === 1))

    /** The owner of a chat that is not deleted. */
    const ownerOf = (chatId: string) =>
      sql<{ user_id: string }>`SELECT user_id FROM active_chats WHERE id = ${chatId}::uuid`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0]?.user_id))
      )

    /** A chat whose owner turned sharing on; anything else is as good as missing. */
    const findShared = SqlSchema.findOne({
      Request: Schema.String,
      Result: ChatRow,
      execute: (chatId) => sql`SELECT ${columns} FROM active_chats WHERE id = ${chatId}::uuid AND is_shared`
    })

    /** What a shared chat's public page is drawn from changed when one of these did; none unless shared. */
    const sharedVersion = (chatId: string) =>
      sql<{ updated_at: string; computed_at: string | null }>`
        SELECT c.updated_at::text AS updated_at, s.computed_at::text AS computed_at
        FROM active_chats c LEFT JOIN chat_stats s ON s.chat_id = c.id
        WHERE c.id = ${chatId}::uuid AND c.is_shared`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])))

    /** Hard-deletes a soft-deleted chat; messages, statistics, chunks, insights and conversations cascade. */
    /** What a deleted chat still holds, counted before the purge removes it; none unless it is a deleted chat. */
    const contentCounts = (chatId: string) =>
      sql<PurgeCounts>`SELECT
          (SELECT count(*) FROM messages WHERE chat_id = c.id)::int AS messages,
          (SELECT count(*) FROM chunks WHERE chat_id = c.id)::int AS chunks,
          (SELECT count(*) FROM chunks WHERE chat_id = c.id AND embedded_at IS NOT NULL)::int AS vectors,
          (SELECT count(*) FROM insights WHERE chat_id = c.id)::int AS insights,
          (SELECT count(*) FROM ai_conversations WHERE chat_id = c.id)::int AS conversations
        FROM chats c WHERE c.id = ${chatId}::uuid AND c.deleted_at IS NOT NULL`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )

    /** Deletes (softly, at once for every read) the chats untouched for `days`: their retention is over. */
    const expireUntouched = (days: number) =>
      sql<{ id: string }>`UPDATE chats SET deleted_at = now(), is_shared = false, updated_at = now()
        WHERE deleted_at IS NULL AND greatest(updated_at, coalesce(
          (SELECT max(updated_at) FROM ai_conversations a WHERE a.chat_id = chats.id), updated_at)) < now() - make_interval(days => ${days})
        RETURNING id::text AS id`.pipe(Effect.map((rows) => rows.map((row) => row.id)))

    /** Deleted chats still holding their content `seconds` after their deletion, oldest first. */
    const unpurged = (seconds: number, limit: number) =>
      sql<{ id: string }>`SELECT id::text AS id FROM chats
        WHERE deleted_at IS NOT NULL AND deleted_at < now() - make_interval(secs => ${seconds})
        ORDER BY deleted_at LIMIT ${limit}`.pipe(Effect.map((rows) => rows.map((row) => row.id)))

    /**
     * Deletes a deleted chat's row and, by cascade, everything it holds, with the owner's exports made
     * before its deletion (they hold a copy of it); false when it was already gone.
     */
    const purge = (chatId: string) =>
      sql`WITH chat AS (
            DELETE FROM chats WHERE id = ${chatId}::uuid AND deleted_at IS NOT NULL RETURNING id, user_id, deleted_at
          ), copies AS (
            DELETE FROM exports e USING chat WHERE e.user_id = chat.user_id AND e.created_at <= chat.deleted_at RETURNING e.id
          )
          SELECT (SELECT count(*) FROM chat)::int AS chats, (SELECT count(*) FROM copies)::int AS exports`.pipe(
        Effect.map((rows) => rows[0] ?? { chats: 0, exports: 0 })
      )

    return {
      find,
      findByHash,
      list,
      insert,
      insertMessages,
      insertStats,
      stats,
      messages,
      rename,
      setSharing,
      softDelete,
      findShared,
      sharedVersion,
      ownerOf,
      contentCounts,
      expireUntouched,
      unpurged,
      purge
    } as const
  })
}) {}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`)
