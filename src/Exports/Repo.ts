/**
 * The SQL of exports: their rows (one queued or building per user, the partial unique index deciding
 * races), the parts an archive is stored in, and expiry. The job's writes are guarded on the row's
 * status, so an export that expired, failed or was discarded meanwhile is left as it is.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Duration, Effect, Schema } from "effect"
import { ExportProgress, ExportState } from "../Domain/Exports.js"

/** An export as stored; `past_expiry` is the database's clock compared with `expires_at`. */
export const ExportRow = Schema.Struct({
  id: Schema.String,
  user_id: Schema.String,
  status: ExportState,
  progress: Schema.NullOr(ExportProgress),
  error: Schema.NullOr(Schema.String),
  job_id: Schema.NullOr(Schema.String),
  size_bytes: Schema.NullOr(Schema.NonNegativeInt),
  parts: Schema.NullOr(Schema.NonNegativeInt),
  created_at: Schema.DateFromSelf,
  ready_at: Schema.NullOr(Schema.DateFromSelf),
  expires_at: Schema.NullOr(Schema.DateFromSelf),
  past_expiry: Schema.Boolean
})
export type ExportRow = typeof ExportRow.Type

// bigint arrives as text from `pg`; as float8 it is an exact JavaScript number up to 2^53 bytes.
const exportColumns = "id::text AS id, user_id, status, progress, error, job_id::text AS job_id, " +
  "size_bytes::float8 AS size_bytes, parts, created_at, ready_at, expires_at, " +
  "coalesce(expires_at <= now(), false) AS past_expiry"

const ExportKey = Schema.Struct({ userId: Schema.String, exportId: Schema.String })

export class ExportsRepo extends Effect.Service<ExportsRepo>()("chatsight/ExportsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal(exportColumns)
    const jsonb = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`

    /** The user's export; someone else's is as good as missing. */
    const find = SqlSchema.findOne({
      Request: ExportKey,
      Result: ExportRow,
      execute: ({ exportId, userId }) => sql`SELECT ${columns} FROM exports WHERE id = ${exportId}::uuid AND user_id = ${userId}`
    })

    /** The user's export that is queued or building, if any (at most one, by the unique index). */
    const pending = SqlSchema.findOne({
      Request: Schema.String,
      Result: ExportRow,
      execute: (userId) =>
        sql`SELECT ${columns} FROM exports WHERE user_id = ${userId} AND status IN ('queued', 'building')`
    })

    /** A new queued export; none when the user already has one pending (the unique index decides). */
    const insert = SqlSchema.findOne({
      Request: Schema.String,
      Result: ExportRow,
      execute: (userId) =>
        sql`INSERT INTO exports (user_id) VALUES (${userId})
            ON CONFLICT (user_id) WHERE status IN ('queued', 'building') DO NOTHING
            RETURNING ${columns}`
    })

    const setJob = (exportId: string, jobId: string) =>
      sql`UPDATE exports SET job_id = ${jobId}::uuid, updated_at = now() WHERE id = ${exportId}::uuid`

    /** Starts (or restarts, after a crash) the writing of a pending export; none when it is no longer pending. */
    const begin = SqlSchema.findOne({
      Request: Schema.Struct({ exportId: Schema.String, progress: ExportProgress }),
      Result: ExportRow,
      execute: ({ exportId, progress }) =>
        sql`UPDATE exports SET status = 'building', progress = ${jsonb(progress)}, error = NULL, updated_at = now()
            WHERE id = ${exportId}::uuid AND status IN ('queued', 'building')
            RETURNING ${columns}`
    })

    const setProgress = (exportId: string, progress: ExportProgress) =>
      sql`UPDATE exports SET progress = ${jsonb(progress)}, updated_at = now()
          WHERE id = ${exportId}::uuid AND status = 'building'`

    /** Ready to download until `retention` from now; false when the export stopped being built meanwhile. */
    const markReady = (input: {
      readonly exportId: string
      readonly sizeBytes: number
      readonly parts: number
      readonly progress: ExportProgress
      readonly retention: Duration.Duration
    }) =>
      sql`UPDATE exports SET status = 'ready', size_bytes = ${input.sizeBytes}, parts = ${input.parts},
            progress = ${jsonb(input.progress)}, ready_at = now(), updated_at = now(),
            expires_at = now() + ${Duration.toMillis(input.retention)}::float8 * interval '1 millisecond'
          WHERE id = ${input.exportId}::uuid AND status = 'building'
          RETURNING id`.pipe(Effect.map((rows) => rows.length === 1))

    const markFailed = (exportId: string, error: string) =>
      sql`UPDATE exports SET status = 'failed', error = ${error}, updated_at = now()
          WHERE id = ${exportId}::uuid AND status IN ('queued', 'building')`

    // Parts ------------------------------------------------------------------------------------------

    const insertPart = (exportId: string, seq: number, bytes: Uint8Array) =>
      sql`INSERT INTO export_parts (export_id, seq, bytes) VALUES (${exportId}::uuid, ${seq}, ${Buffer.from(bytes)})`

    const deleteParts = (exportId: string) =>
      sql`DELETE FROM export_parts WHERE export_id = ${exportId}::uuid RETURNING seq`.pipe(
        Effect.map((rows) => rows.length)
      )

    const part = SqlSchema.findOne({
      Request: Schema.Struct({ exportId: Schema.String, seq: Schema.Int }),
      Result: Schema.Struct({ bytes: Schema.Uint8ArrayFromSelf }),
      execute: ({ exportId, seq }) =>
        sql`SELECT bytes FROM export_parts WHERE export_id = ${exportId}::uuid AND seq = ${seq}`
    })

    // Expiry and discarding ------------------------------------------------------------------------

    /**
     * Marks the ready exports past their expiry as expired, then deletes the parts of every export that
     * is no longer served (expired now or before, or failed), so a sweep that died midway is finished by
     * the next one. Returns how many exports expired and how many parts went.
     */
    const expire = Effect.gen(function*() {
      const expired = yield* sql`UPDATE exports SET status = 'expired', updated_at = now()
                                 WHERE status = 'ready' AND expires_at <= now() RETURNING id`
      const parts = yield* sql`DELETE FROM export_parts p USING exports e
                               WHERE e.id = p.export_id AND e.status IN ('expired', 'failed') RETURNING p.seq`
      return { exports: expired.length, parts: parts.length }
    })

    return {
      find,
      pending,
      insert,
      setJob,
      begin,
      setProgress,
      markReady,
      markFailed,
      insertPart,
      deleteParts,
      part,
      expire
    } as const
  })
}) {}

/** The dedupe key of an export's job: one job per export. */
export const exportJobKey = (exportId: string) => `user.export:${exportId}`
