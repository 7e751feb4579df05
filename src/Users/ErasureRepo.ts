/**
 * The SQL of account erasure: closing an account at once (its chats and conversations soft-deleted, its
 * jobs cancelled, its unfinished orders cancelled, its profile blanked), the erasure's record, and the
 * purge's steps over every table that holds something of the user.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { ErasureRow } from "../Domain/Erasure.js"

const columns = "id, user_id, status, counts, requested_at, finished_at"

/** How many rows a statement touched. */
const touched = (rows: ReadonlyArray<unknown>) => rows.length

export class ErasureRepo extends Effect.Service<ErasureRepo>()("chatsight/ErasureRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const erasureColumns = sql.literal(columns)

    const create = SqlSchema.single({
      Request: Schema.Struct({ subject_hash: Schema.String, user_id: Schema.String }),
      Result: ErasureRow,
      execute: (row) => sql`INSERT INTO erasures ${sql.insert(row)} RETURNING ${erasureColumns}`
    })

    const find = SqlSchema.findOne({
      Request: Schema.UUID,
      Result: ErasureRow,
      execute: (id) => sql`SELECT ${erasureColumns} FROM erasures WHERE id = ${id}`
    })

    /**
     * Closes the account now: every read stops showing its chats and conversations, its jobs are
     * cancelled (running ones keep their lease until they notice, so the purge can wait for them), its
     * unfinished orders are cancelled, and its email and name are blanked.
     */
    const closeAccount = (userId: string) =>
      Effect.gen(function*() {
        const chats = yield* sql`UPDATE chats SET deleted_at = now(), is_shared = false, updated_at = now()
          WHERE user_id = ${userId} AND deleted_at IS NULL RETURNING id`
        yield* sql`UPDATE ai_conversations SET deleted_at = now() WHERE user_id = ${userId} AND deleted_at IS NULL`
        const jobs = yield* sql`UPDATE jobs SET status = 'cancelled', last_error = 'The account was erased',
            finished_at = now(), updated_at = now()
          WHERE user_id = ${userId} AND status IN ('queued', 'running') RETURNING id`
        const orders = yield* sql`UPDATE payment_orders SET status = 'cancelled',
            failure_reason = 'The account was erased', updated_at = now()
          WHERE user_id = ${userId} AND status IN ('created', 'failed') RETURNING id`
        yield* sql`UPDATE users SET deleted_at = now(), email = NULL, name = NULL, updated_at = now() WHERE id = ${userId}`
        return { chats: touched(chats), jobs: touched(jobs), orders: touched(orders) }
      })

    const setProgress = (id: string, status: "purging" | "done", counts: Readonly<Record<string, number>>) =>
      sql`UPDATE erasures SET status = ${status}, counts = ${JSON.stringify(counts)}::jsonb, updated_at = now(),
            finished_at = ${status === "done" ? sql`now()` : sql`NULL`}
          WHERE id = ${id}`

    // The purge's steps -----------------------------------------------------------------------------

    const chatsOf = (userId: string) =>
      sql<{ id: string }>`SELECT id::text AS id FROM chats WHERE user_id = ${userId}`.pipe(
        Effect.map((rows) => rows.map((row) => row.id))
      )

    /** Jobs of the user cancelled while running whose instance has not let go of them yet. */
    const stillRunning = (userId: string) =>
      sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs
        WHERE user_id = ${userId} AND status = 'cancelled' AND locked_by IS NOT NULL AND lease_expires_at > now()`.pipe(
        Effect.map((rows) => rows[0]?.n ?? 0)
      )

    /** What chats no longer hold but the user still does: deleted here, counted per table. */
    const deleteRest = (userId: string, jobId: string) =>
      Effect.gen(function*() {
        const conversations = yield* sql`DELETE FROM ai_conversations WHERE user_id = ${userId} RETURNING id`
        const insights = yield* sql`DELETE FROM insights WHERE user_id = ${userId} RETURNING id`
        const chunks = yield* sql`DELETE FROM chunks WHERE user_id = ${userId} RETURNING id`
        const idempotency = yield* sql`DELETE FROM idempotency_keys WHERE user_id = ${userId} RETURNING key`
        const limits = yield* sql`DELETE FROM rate_limits WHERE right(key, ${userId.length + 1}) = ${`:${userId}`} RETURNING key`
        const exports = yield* sql`DELETE FROM exports WHERE user_id = ${userId} RETURNING id`
        // Jobs stay as a record of work done; what they carried (ids of chats, progress, errors) goes.
        const jobs = yield* sql`UPDATE jobs SET payload = '{}', progress = NULL, last_error = NULL, dedupe_key = NULL
          WHERE user_id = ${userId} AND id <> ${jobId}::uuid RETURNING id`
        return {
          conversations: touched(conversations),
          insights: touched(insights),
          chunks: touched(chunks),
          idempotency_keys: touched(idempotency),
          rate_limits: touched(limits),
          exports: touched(exports),
          jobs_scrubbed: touched(jobs)
        }
      })

    /**
     * Keeps what accounting needs, pseudonymised: the provider payloads of the user's payment events (they
     * name the buyer) give way to what they meant, orders lose the client's key and checkout link, the
     * account's id becomes `pseudonym` in every table that still holds it (the ledger included), and
     * ledger descriptions lose the chat titles they named.
     */
    const pseudonymise = (userId: string, pseudonym: string) =>
      Effect.gen(function*() {
        const events = yield* sql`UPDATE payment_events e
            SET payload = jsonb_build_object('pseudonymised', true, 'change', e.change)
          FROM payment_orders o WHERE e.order_id = o.id AND o.user_id = ${userId} RETURNING e.id`
        const orders = yield* sql`UPDATE payment_orders SET idempotency_key = NULL, checkout_url = NULL
          WHERE user_id = ${userId} RETURNING id`
        yield* sql`UPDATE users SET id = ${pseudonym} WHERE id = ${userId}`
        // Insight references hold a chat's id: it becomes a digest that names no chat and keeps them unique.
        const ledger = yield* sql`UPDATE credit_transactions t
            SET description = regexp_replace(t.description, ' for chat ".*"$', ''),
                reference = CASE WHEN c.chat_id IS NULL THEN t.reference
                  ELSE replace(t.reference, c.chat_id, 'chat-' || left(md5(c.chat_id || ${pseudonym}), 16)) END
          FROM (SELECT id, (regexp_match(reference, '^(?:refund:)?insight:([0-9a-f-]{36}):'))[1] AS chat_id
                FROM credit_transactions WHERE user_id = ${pseudonym}) c
          WHERE t.id = c.id RETURNING t.id`
        return {
          payment_events_pseudonymised: touched(events),
          orders_pseudonymised: touched(orders),
          ledger_entries_pseudonymised: touched(ledger)
        }
      })

    /** Erasures still unfinished `seconds` after they were asked for, whose purge job is not queued or running. */
    const stalled = (seconds: number) =>
      sql<{ id: string; user_id: string }>`SELECT e.id::text AS id, e.user_id FROM erasures e
        WHERE e.status <> 'done' AND e.requested_at < now() - make_interval(secs => ${seconds})
          AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = 'user.erase' AND j.payload ->> 'erasure_id' = e.id::text
                          AND j.status IN ('queued', 'running'))
        ORDER BY e.requested_at LIMIT 100`

    /** The erasure now names the pseudonym, not the subject. */
    const renameErasure = (id: string, pseudonym: string) =>
      sql`UPDATE erasures SET user_id = ${pseudonym}, updated_at = now() WHERE id = ${id}`

    return {
      create,
      find,
      closeAccount,
      setProgress,
      chatsOf,
      stillRunning,
      deleteRest,
      pseudonymise,
      stalled,
      renameErasure
    } as const
  })
}) {}
