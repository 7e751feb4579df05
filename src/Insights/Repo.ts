/**
 * Insights' SQL: the rows of unlocked insight types (one per chat and type, the unique constraint the
 * arbiter), idempotency keys of unlock requests, the generation job's view of its rows, and the reads
 * of statistics and messages a report is built from. Chats are read through `active_chats`.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import { wallClockSql } from "../Database.js"
import { Insight, InsightStatus, StoredContent } from "../Domain/Insights.js"
import { JobStatus } from "../Worker/Jobs.js"
import { CitedMessage } from "../Domain/Rag.js"

/** The job kind of insight generation; jobs are read back by it. */
export const generateKind = "insights.generate"

/** An insight row as the unlock and the job see it. */
export const InsightRow = Schema.Struct({
  id: Schema.String,
  insight_type_id: Schema.String,
  status: InsightStatus,
  job_id: Schema.NullOr(Schema.String),
  charge_reference: Schema.NullOr(Schema.String),
  credit_cost: Schema.Int,
  purchases: Schema.Int,
  refunded: Schema.Boolean,
  error: Schema.NullOr(Schema.String)
})
export type InsightRow = typeof InsightRow.Type

const rowColumns = "i.id::text AS id, i.insight_type_id, i.status, i.job_id::text AS job_id, i.charge_reference, " +
  "i.credit_cost, i.purchases, i.refunded_at IS NOT NULL AS refunded, i.error"

/** A row to generate, with what its type asks for. */
export const WorkRow = Schema.Struct({
  ...InsightRow.fields,
  name: Schema.String,
  description: Schema.String,
  prompt: Schema.String
})
export type WorkRow = typeof WorkRow.Type

/** A row as the chat's insights list shows it. */
export const ListedRow = Schema.Struct({
  ...Insight.fields,
  content: Schema.NullOr(StoredContent),
  updated_at: Schema.DateFromSelf
})

export const JobRecord = Schema.Struct({
  id: Schema.String,
  status: JobStatus.fields.status,
  chat_id: Schema.String,
  category_id: Schema.String,
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf,
  finished_at: Schema.NullOr(Schema.DateFromSelf)
})
export type JobRecord = typeof JobRecord.Type

export const StoredKey = Schema.Struct({
  request_hash: Schema.String,
  status_code: Schema.NullOr(Schema.Int),
  response: Schema.Unknown
})

export class InsightsRepo extends Effect.Service<InsightsRepo>()("chatsight/InsightsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = sql.literal(rowColumns)
    const sentAt = sql.literal(wallClockSql("m.sent_at_local"))

    /**
     * Waits for the user's row lock: unlocks of one user run one after the other, so each prices what
     * the one before left. A wait, not NOWAIT: many retries of the same unlock would otherwise exhaust
     * the lock retries; a waiter whose snapshot went stale gets a serialization failure and is re-run.
     */
    const lockUser = (userId: string) =>
      sql`SELECT 1 FROM active_users WHERE id = ${userId} FOR UPDATE`.pipe(Effect.map((found) => found.length === 1))

    const ofChat = SqlSchema.findAll({
      Request: Schema.Struct({ chatId: Schema.String, typeIds: Schema.Array(Schema.String) }),
      Result: InsightRow,
      execute: ({ chatId, typeIds }) =>
        sql`SELECT ${rows} FROM insights i
            WHERE i.chat_id = ${chatId}::uuid AND i.insight_type_id = ANY(${typeIds}::text[])`
    })

    /**
     * Makes the row of each bought type `pending` under its new purchase: inserted, or (bought again
     * after a refund) reset. A row that is unlocked and not refunded is left alone.
     */
    const upsertPending = (input: {
      readonly chatId: string
      readonly userId: string
      readonly jobId: string
      readonly bought: ReadonlyArray<{ readonly typeId: string; readonly reference: string; readonly cost: number; readonly purchase: number }>
    }) =>
      SqlSchema.findAll({
        Request: Schema.Void,
        Result: InsightRow,
        execute: () =>
          sql`INSERT INTO insights AS i (chat_id, insight_type_id, user_id, status, job_id, charge_reference, credit_cost, purchases)
              SELECT ${input.chatId}::uuid, b.type_id, ${input.userId}, 'pending', ${input.jobId}::uuid, b.reference, b.cost, b.purchase
              FROM unnest(${input.bought.map((b) => b.typeId)}::text[], ${input.bought.map((b) => b.reference)}::text[],
                          ${input.bought.map((b) => b.cost)}::int[], ${input.bought.map((b) => b.purchase)}::int[])
                AS b(type_id, reference, cost, purchase)
              ON CONFLICT (chat_id, insight_type_id) DO UPDATE
                SET status = 'pending', content = NULL, error = NULL, job_id = excluded.job_id,
                    charge_reference = excluded.charge_reference, credit_cost = excluded.credit_cost,
                    purchases = excluded.purchases, refunded_at = NULL, updated_at = now()
                WHERE i.refunded_at IS NOT NULL
              RETURNING ${rows}`
      })(undefined)

    // Idempotency keys -----------------------------------------------------------------------------

    const findKey = SqlSchema.findOne({
      Request: Schema.Struct({ userId: Schema.String, key: Schema.String }),
      Result: StoredKey,
      execute: ({ key, userId }) =>
        sql`SELECT request_hash, status_code, response FROM idempotency_keys WHERE user_id = ${userId} AND key = ${key}`
    })

    const storeKey = (input: {
      readonly userId: string
      readonly key: string
      readonly requestHash: string
      readonly status: number
      readonly response: unknown
    }) =>
      sql`INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response)
          VALUES (${input.userId}, ${input.key}, ${input.requestHash}, ${input.status}, ${JSON.stringify(input.response)}::jsonb)
          ON CONFLICT (user_id, key) DO NOTHING`

    // The generation job -----------------------------------------------------------------------------

    /** The job's rows, in catalogue order, with their types' prompts. */
    const ofJob = SqlSchema.findAll({
      Request: Schema.String,
      Result: WorkRow,
      execute: (jobId) =>
        sql`SELECT ${rows}, t.name, t.description, t.prompt FROM insights i
            JOIN insight_types t ON t.id = i.insight_type_id
            WHERE i.job_id = ${jobId}::uuid ORDER BY t.sort_order, t.id`
    })

    /** Moves a row of this job on; fenced on the job so a row bought again under another job is left alone. */
    const setStatus = (input: {
      readonly id: string
      readonly jobId: string
      readonly status: InsightStatus
      readonly content?: StoredContent | undefined
      readonly error?: string | undefined
    }) =>
      sql`UPDATE insights SET status = ${input.status},
            content = ${input.content === undefined ? null : JSON.stringify(input.content)}::jsonb,
            error = ${input.error ?? null}, updated_at = now()
          WHERE id = ${input.id}::uuid AND job_id = ${input.jobId}::uuid AND refunded_at IS NULL`

    const markRefunded = (id: string, jobId: string) =>
      sql`UPDATE insights SET refunded_at = now(), updated_at = now()
          WHERE id = ${id}::uuid AND job_id = ${jobId}::uuid AND refunded_at IS NULL`

    const statistics = (chatId: string) =>
      sql<{ stats: unknown }>`SELECT s.stats FROM chat_stats s JOIN active_chats c ON c.id = s.chat_id
                              WHERE s.chat_id = ${chatId}::uuid`.pipe(
        Effect.map((found) => Option.fromNullable(found[0]?.stats))
      )

    /** About `k` messages spread evenly over the whole chat, in file order: long chats are not judged by their last week. */
    const spread = SqlSchema.findAll({
      Request: Schema.Struct({ chatId: Schema.String, k: Schema.Int }),
      Result: CitedMessage,
      execute: ({ chatId, k }) =>
        sql`WITH numbered AS (
              SELECT m.id, m.author, m.sent_at_local, m.text, m.seq,
                     row_number() OVER (ORDER BY m.seq) AS rn, count(*) OVER () AS n
              FROM messages m WHERE m.chat_id = ${chatId}::uuid AND m.kind IN ('text', 'edited') AND m.text <> ''
            )
            SELECT m.id::text AS message_id, m.author, ${sentAt} AS sent_at, m.text
            FROM numbered m
            WHERE (m.rn - 1) % greatest(m.n / ${k}, 1) = 0
            ORDER BY m.seq LIMIT ${k}`
    })

    /** The chat's messages of these ids, in file order: citations expanded from the messages table. */
    const messages = SqlSchema.findAll({
      Request: Schema.Struct({ chatId: Schema.String, ids: Schema.Array(Schema.String) }),
      Result: CitedMessage,
      execute: ({ chatId, ids }) =>
        sql`SELECT m.id::text AS message_id, m.author, ${sentAt} AS sent_at, m.text FROM messages m
            WHERE m.chat_id = ${chatId}::uuid AND m.id = ANY(${ids}::bigint[]) ORDER BY m.seq`
    })

    // Reads ------------------------------------------------------------------------------------------

    /** A generation job of the user's, on a chat that is not deleted. */
    const job = SqlSchema.findOne({
      Request: Schema.Struct({ jobId: Schema.String, userId: Schema.String }),
      Result: JobRecord,
      execute: ({ jobId, userId }) =>
        sql`SELECT j.id::text AS id, j.status, j.payload->>'chat_id' AS chat_id, j.payload->>'category_id' AS category_id,
                   j.created_at, j.updated_at, j.finished_at
            FROM jobs j JOIN active_chats c ON c.id::text = j.payload->>'chat_id' AND c.user_id = ${userId}
            WHERE j.id = ${jobId}::uuid AND j.kind = ${generateKind} AND j.user_id = ${userId}`
    })

    const jobStatusOf = (jobId: string) =>
      sql<{ status: string }>`SELECT status FROM jobs WHERE id = ${jobId}::uuid`.pipe(
        Effect.map((found) => Option.fromNullable(found[0]?.status))
      )

    const listed = SqlSchema.findAll({
      Request: Schema.Struct({ chatId: Schema.String, categoryId: Schema.NullOr(Schema.String) }),
      Result: ListedRow,
      execute: ({ categoryId, chatId }) =>
        sql`SELECT i.id::text AS id, i.insight_type_id, t.name, t.category_id, i.credit_cost, i.status, i.content,
                   i.error, i.job_id::text AS job_id, i.updated_at
            FROM insights i JOIN insight_types t ON t.id = i.insight_type_id
            JOIN categories c ON c.id = t.category_id
            WHERE i.chat_id = ${chatId}::uuid ${categoryId === null ? sql`` : sql`AND t.category_id = ${categoryId}`}
            ORDER BY c.sort_order, t.sort_order, t.id`
    })

    /** Active types of active categories not unlocked for the chat (never bought, or refunded). */
    const locked = SqlSchema.findAll({
      Request: Schema.Struct({ chatId: Schema.String, categoryId: Schema.NullOr(Schema.String) }),
      Result: Schema.Struct({ insight_type_id: Schema.String, name: Schema.String, category_id: Schema.String, credit_cost: Schema.Int }),
      execute: ({ categoryId, chatId }) =>
        sql`SELECT t.id AS insight_type_id, t.name, t.category_id, t.credit_cost
            FROM insight_types t JOIN categories c ON c.id = t.category_id
            WHERE t.is_active AND c.is_active ${categoryId === null ? sql`` : sql`AND t.category_id = ${categoryId}`}
              AND NOT EXISTS (SELECT 1 FROM insights i WHERE i.chat_id = ${chatId}::uuid AND i.insight_type_id = t.id
                              AND i.refunded_at IS NULL)
            ORDER BY c.sort_order, t.sort_order, t.id`
    })

    /** One active insight type with its category. */
    const insightType = SqlSchema.findOne({
      Request: Schema.String,
      Result: Schema.Struct({ id: Schema.String, category_id: Schema.String }),
      execute: (typeId) =>
        sql`SELECT t.id, t.category_id FROM insight_types t JOIN categories c ON c.id = t.category_id
            WHERE t.id = ${typeId} AND t.is_active AND c.is_active`
    })

    return {
      lockUser,
      ofChat,
      upsertPending,
      findKey,
      storeKey,
      ofJob,
      setStatus,
      markRefunded,
      statistics,
      spread,
      messages,
      job,
      jobStatusOf,
      listed,
      locked,
      insightType
    } as const
  })
}) {}
