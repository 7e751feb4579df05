/**
 * The `jobs` table's SQL. Every write a runner makes after claiming is fenced on `locked_by` and
 * `status = 'running'`, so an instance whose lease was taken over cannot complete, retry or release a job.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Duration, Effect, Option, Schema } from "effect"

export const JobState = Schema.Literal("queued", "running", "succeeded", "failed", "cancelled")
export type JobState = typeof JobState.Type

/** The enqueuing span, stored so that a job's run joins the trace that asked for it. */
export const TraceContext = Schema.Struct({
  traceId: Schema.String,
  spanId: Schema.String,
  sampled: Schema.Boolean
})
export type TraceContext = typeof TraceContext.Type

/** A job as stored. jsonb columns arrive parsed; timestamps arrive as `Date`s. */
export const JobRow = Schema.Struct({
  id: Schema.String,
  kind: Schema.String,
  payload: Schema.Unknown,
  status: JobState,
  attempts: Schema.Int,
  max_attempts: Schema.Int,
  run_at: Schema.DateFromSelf,
  /** The instance running the job, or (once finished) the one that finished it. */
  locked_by: Schema.NullOr(Schema.String),
  lease_expires_at: Schema.NullOr(Schema.DateFromSelf),
  last_error: Schema.NullOr(Schema.String),
  progress: Schema.Unknown,
  // A trace context we cannot read (written by something else) is dropped rather than failing the job.
  trace_context: Schema.NullOr(Schema.Unknown),
  dedupe_key: Schema.NullOr(Schema.String),
  user_id: Schema.NullOr(Schema.String),
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf,
  finished_at: Schema.NullOr(Schema.DateFromSelf)
})
export type JobRow = typeof JobRow.Type

const jobColumns = "id::text AS id, kind, payload, status, attempts, max_attempts, run_at, locked_by, " +
  "lease_expires_at, last_error, progress, trace_context, dedupe_key, user_id, created_at, updated_at, finished_at"

const Fence = Schema.Struct({ id: Schema.String, instance: Schema.String })
const Touched = Schema.Struct({ id: Schema.String })

export class JobsRepo extends Effect.Service<JobsRepo>()("chatsight/JobsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal(jobColumns)
    /** A JSON value as a jsonb parameter. */
    const jsonb = (value: unknown) => sql`${JSON.stringify(value) ?? "null"}::jsonb`
    /** `now() + d`, as SQL; milliseconds keep sub-second leases and backoffs exact. */
    const fromNow = (d: Duration.Duration) => sql`now() + ${Duration.toMillis(d)}::float8 * interval '1 millisecond'`

    /** Inserts a job; `None` when its dedupe key is already taken (the caller then reads that job). */
    const insert = SqlSchema.findOne({
      Request: Schema.Struct({
        kind: Schema.String,
        payload: Schema.Unknown,
        dedupe_key: Schema.NullOr(Schema.String),
        run_at: Schema.NullOr(Schema.DateFromSelf),
        max_attempts: Schema.Int,
        user_id: Schema.NullOr(Schema.String),
        trace_context: Schema.NullOr(TraceContext)
      }),
      Result: JobRow,
      execute: (job) =>
        sql`INSERT INTO jobs (kind, payload, dedupe_key, run_at, max_attempts, user_id, trace_context)
            VALUES (${job.kind}, ${jsonb(job.payload)}, ${job.dedupe_key},
                    coalesce(${job.run_at}::timestamptz, now()), ${job.max_attempts}, ${job.user_id},
                    ${job.trace_context === null ? null : jsonb(job.trace_context)})
            ON CONFLICT (dedupe_key) DO NOTHING
            RETURNING ${columns}`
    })

    const findById = SqlSchema.findOne({
      Request: Schema.String,
      Result: JobRow,
      execute: (id) => sql`SELECT ${columns} FROM jobs WHERE id = ${id}::uuid`
    })

    const findByDedupeKey = SqlSchema.findOne({
      Request: Schema.String,
      Result: JobRow,
      execute: (key) => sql`SELECT ${columns} FROM jobs WHERE dedupe_key = ${key}`
    })

    /** The newest job whose dedupe key is `key` or starts with `key` and a colon (its follow-ups). */
    const findLatestOfKey = SqlSchema.findOne({
      Request: Schema.String,
      Result: JobRow,
      execute: (key) =>
        sql`SELECT ${columns} FROM jobs
            WHERE dedupe_key = ${key} OR starts_with(dedupe_key, ${`${key}:`})
            ORDER BY created_at DESC, id DESC LIMIT 1`
    })

    /**
     * Claims the oldest due job of one of `kinds`, or one whose runner's lease expired (its instance
     * died), in one statement. SKIP LOCKED lets concurrent claimers pass over each other's candidate
     * rows, and the row lock re-checks the condition, so two claimers never get the same job. Only
     * `kinds` (those the instance has handlers for) are claimed, so during a rolling deploy an old
     * instance leaves a new kind to the instances that know it.
     */
    const claim = (input: {
      readonly instance: string
      readonly lease: Duration.Duration
      readonly kinds: ReadonlyArray<string>
    }) =>
      SqlSchema.findOne({
        Request: Schema.Void,
        Result: JobRow,
        execute: () =>
          sql`UPDATE jobs
              SET status = 'running', locked_by = ${input.instance}, lease_expires_at = ${fromNow(input.lease)},
                  attempts = attempts + 1, updated_at = now()
              WHERE id = (
                SELECT id FROM jobs
                WHERE kind = ANY(${input.kinds}::text[])
                  AND ((status = 'queued' AND run_at <= now()) OR (status = 'running' AND lease_expires_at < now()))
                ORDER BY run_at
                LIMIT 1
                FOR UPDATE SKIP LOCKED
              )
              RETURNING ${columns}`
      })(undefined)

    /** Renews the lease; `false` when the job is no longer ours (its lease was taken over). */
    const heartbeat = (input: { readonly id: string; readonly instance: string; readonly lease: Duration.Duration }) =>
      SqlSchema.findOne({
        Request: Fence,
        Result: Touched,
        execute: ({ id, instance }) =>
          sql`UPDATE jobs SET lease_expires_at = ${fromNow(input.lease)}, updated_at = now()
              WHERE id = ${id}::uuid AND locked_by = ${instance} AND status = 'running'
              RETURNING id::text AS id`
      })(input).pipe(Effect.map(Option.isSome))

    /** Marks our running job succeeded; `false` when it is no longer ours. */
    const complete = SqlSchema.findOne({
      Request: Fence,
      Result: Touched,
      execute: ({ id, instance }) =>
        sql`UPDATE jobs SET status = 'succeeded', lease_expires_at = NULL, finished_at = now(), updated_at = now()
            WHERE id = ${id}::uuid AND locked_by = ${instance} AND status = 'running'
            RETURNING id::text AS id`
    })

    /** Puts our running job back in the queue to run again after `delay`, recording why it failed. */
    const retryLater = (input: {
      readonly id: string
      readonly instance: string
      readonly delay: Duration.Duration
      readonly error: string
    }) =>
      SqlSchema.findOne({
        Request: Fence,
        Result: Touched,
        execute: ({ id, instance }) =>
          sql`UPDATE jobs
              SET status = 'queued', run_at = ${fromNow(input.delay)}, last_error = ${input.error},
                  locked_by = NULL, lease_expires_at = NULL, updated_at = now()
              WHERE id = ${id}::uuid AND locked_by = ${instance} AND status = 'running'
              RETURNING id::text AS id`
      })(input)

    /** Marks our running job failed for good. */
    const fail = (input: { readonly id: string; readonly instance: string; readonly error: string }) =>
      SqlSchema.findOne({
        Request: Fence,
        Result: Touched,
        execute: ({ id, instance }) =>
          sql`UPDATE jobs
              SET status = 'failed', last_error = ${input.error}, lease_expires_at = NULL,
                  finished_at = now(), updated_at = now()
              WHERE id = ${id}::uuid AND locked_by = ${instance} AND status = 'running'
              RETURNING id::text AS id`
      })(input)

    /**
     * Returns our running job to the queue, due now, when we stop before it finished. The attempt is
     * handed back: being stopped is not a failure of the job.
     */
    const release = SqlSchema.findOne({
      Request: Fence,
      Result: Touched,
      execute: ({ id, instance }) =>
        sql`UPDATE jobs
            SET status = 'queued', run_at = now(), attempts = greatest(attempts - 1, 0),
                locked_by = NULL, lease_expires_at = NULL, updated_at = now()
            WHERE id = ${id}::uuid AND locked_by = ${instance} AND status = 'running'
            RETURNING id::text AS id`
    })

    const setProgress = (input: { readonly id: string; readonly progress: unknown }) =>
      SqlSchema.findOne({
        Request: Schema.String,
        Result: Touched,
        execute: (id) =>
          sql`UPDATE jobs SET progress = ${jsonb(input.progress)}, updated_at = now()
              WHERE id = ${id}::uuid AND status = 'running' RETURNING id::text AS id`
      })(input.id).pipe(Effect.map(Option.isSome))

    /**
     * Lets go of a job of ours that was cancelled while it ran (its account erased): its lease is cleared,
     * so whoever waits for it to stop sees it stopped. `false` when it was not cancelled.
     */
    const stopCancelled = (input: { readonly id: string; readonly instance: string }) =>
      SqlSchema.findOne({
        Request: Fence,
        Result: Touched,
        execute: ({ id, instance }) =>
          sql`UPDATE jobs SET locked_by = NULL, lease_expires_at = NULL, updated_at = now()
              WHERE id = ${id}::uuid AND locked_by = ${instance} AND status = 'cancelled'
              RETURNING id::text AS id`
      })(input).pipe(Effect.map(Option.isSome))

    /** Jobs waiting to run now, running, and failed for good: what an operator looks at first. */
    const backlog = sql<{ due: number; running: number; failed: number }>`
      SELECT count(*) FILTER (WHERE status = 'queued' AND run_at <= now())::int AS due,
             count(*) FILTER (WHERE status = 'running')::int AS running,
             count(*) FILTER (WHERE status = 'failed')::int AS failed
      FROM jobs WHERE status IN ('queued', 'running', 'failed')`.pipe(
      Effect.map((rows) => rows[0] ?? { due: 0, running: 0, failed: 0 })
    )

    return {
      backlog,
      insert,
      findById,
      findByDedupeKey,
      findLatestOfKey,
      claim,
      heartbeat,
      complete,
      retryLater,
      fail,
      release,
      setProgress,
      stopCancelled
    } as const
  })
}) {}
