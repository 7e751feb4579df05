/**
 * The job worker on a fresh database: jobs run to completion once across instances, a dead instance's
 * job is taken over when its lease expires, failures are retried with backoff and then left failed,
 * enqueueing is idempotent per dedupe key, an instance claims only the kinds it has handlers for, and
 * stopping returns unfinished jobs.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Cause, Context, Data, Deferred, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Schema, Scope } from "effect"
import { DatabaseConfig } from "../src/Config.js"
import { SqlLive } from "../src/Database.js"
import * as Pool from "../src/Database/Pool.js"
import { Worker } from "../src/Worker.js"
import { type JobHandler, jobHandler, JobHandlers, PermanentJobError } from "../src/Worker/Handler.js"
import { Jobs } from "../src/Worker/Jobs.js"
import { JobsRepo, type JobState } from "../src/Worker/Repo.js"
import { makeRun } from "../src/Worker/Run.js"
import { withDatabase } from "./support/backend.js"
import { backend, needsPostgres, onPostgres, TestConfig, TestDatabase, waitFor } from "./support/TestApp.js"

/** Handler side effects: the primary key makes a second run of the same job fail loudly. */
const Scratch = Layer.effectDiscard(
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all([
      sql`CREATE TABLE job_effects (
            job_id uuid PRIMARY KEY, instance text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
      sql`CREATE TABLE job_attempts (
            job_id uuid NOT NULL, attempt integer NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (job_id, attempt))`
    ])).pipe(Effect.orDie)
)

const TestJobs = Layer.mergeAll(Jobs.Default, JobsRepo.Default, Scratch).pipe(Layer.provideMerge(TestDatabase()))

/** Short intervals so the tests move; real time passes (the worker sleeps on the live clock). */
const fast = {
  WORKER_CONCURRENCY: "2",
  WORKER_POLL_INTERVAL: "50 millis",
  WORKER_LEASE: "3 seconds",
  WORKER_SHUTDOWN_GRACE: "5 seconds",
  WORKER_BACKOFF_BASE: "200 millis",
  WORKER_BACKOFF_MAX: "2 seconds"
}

/**
 * Starts a worker instance in the current scope with `handlers`, on the SQL client in context unless
 * the handlers' layer provides its own.
 */
const startWorker = <E, R>(handlers: Layer.Layer<JobHandlers, E, R>, config: Record<string, string>) =>
  Layer.build(Worker.Default.pipe(Layer.provide(handlers), Layer.provide(TestConfig({ ...fast, ...config })))).pipe(
    Effect.map(Context.get(Worker)),
    Effect.orDie
  )

/** Records that the job ran, by which instance; a second run of a job violates the primary key. */
const recordHandler = (kind: string) =>
  jobHandler({
    kind,
    payload: Schema.Struct({ n: Schema.Int }),
    run: (_payload, job) =>
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql`INSERT INTO job_effects (job_id, instance) VALUES (${job.id}, ${job.instanceId})`)
  })

/** Never finishes; says when it started, and when it was interrupted. */
const hangingHandler = (kind: string, started: Deferred.Deferred<string>, interrupted?: Deferred.Deferred<void>) =>
  jobHandler({
    kind,
    payload: Schema.Unknown,
    run: (_payload, job) =>
      Deferred.succeed(started, job.id).pipe(
        Effect.zipRight(Effect.never),
        Effect.onInterrupt(() => interrupted === undefined ? Effect.void : Deferred.succeed(interrupted, undefined))
      )
  })

class Boom extends Data.TaggedError("Boom")<{ readonly message: string }> {}

/** The job's row as stored; it must exist. */
const statusOf = (id: string) =>
  Effect.flatMap(JobsRepo, (repo) => repo.findById(id)).pipe(Effect.flatten, Effect.orDie)

/** Waits until the job is `status` or finished otherwise, and checks it is `status`. */
const waitForStatus = (id: string, status: JobState) =>
  waitFor(
    `job ${id} to be ${status}`,
    statusOf(id),
    (job) => job.status === status || ["succeeded", "failed", "cancelled"].includes(job.status)
  ).pipe(Effect.tap((job) => expect(job, `job ${id}`).toMatchObject({ status })))

/** Each test starts from an empty queue, so no job of an earlier test is claimed by a later worker. */
const emptyQueue = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`DELETE FROM jobs`)

const pgOnly = (name: string) => onPostgres ? name : `${name} (${needsPostgres})`

// The live clock: the worker polls, backs off and renews leases with real sleeps.
layer(TestJobs, { excludeTestServices: true })("Worker", (it) => {
  it.effect.skipIf(!onPostgres)(
    pgOnly("two instances, each with its own pool, run 200 jobs to completion exactly once between them"),
    () =>
      Effect.gen(function*() {
        if (backend.kind !== "postgres") return
        yield* emptyQueue
        const sql = yield* SqlClient.SqlClient
        const jobs = yield* Jobs
        const [current] = yield* sql<{ readonly name: string }>`SELECT current_database() AS name`
        const url = withDatabase(backend.adminUrl, current?.name ?? "")
        const secondPool = Layer.scoped(
          Pool.PgPool,
          Effect.flatMap(DatabaseConfig, (settings) => Pool.postgres(Redacted.make(url), settings))
        )
        const handlers = JobHandlers.layer(recordHandler("record"))
        const concurrency = { WORKER_CONCURRENCY: "4" }

        yield* startWorker(handlers, { ...concurrency, WORKER_INSTANCE_ID: "instance-a" })
        yield* startWorker(
          handlers.pipe(Layer.provideMerge(SqlLive), Layer.provide(secondPool)),
          { ...concurrency, WORKER_INSTANCE_ID: "instance-b" }
        )

        const ids = yield* Effect.forEach(
          Array.from({ length: 200 }, (_, n) => n),
          (n) => Effect.map(jobs.enqueue({ kind: "record", payload: { n } }), (job) => job.id),
          { concurrency: 10 }
        )
        expect(new Set(ids).size).toBe(200)

        const count = sql<{ readonly n: number }>`SELECT count(*)::int AS n FROM jobs WHERE status = 'succeeded'`
        yield* waitFor("200 succeeded jobs", count, (rows) => rows[0]?.n === 200)

        const perJob = yield* sql<{ readonly job_id: string; readonly runs: number }>`
          SELECT j.id::text AS job_id, count(e.job_id)::int AS runs
          FROM jobs j LEFT JOIN job_effects e ON e.job_id = j.id GROUP BY j.id`
        expect(perJob).toHaveLength(200)
        expect(perJob.every((row) => row.runs === 1)).toBe(true)
        const states = yield* sql<{ readonly status: string; readonly attempts: number; readonly n: number }>`
          SELECT status, attempts, count(*)::int AS n FROM jobs GROUP BY status, attempts`
        expect(states).toEqual([{ status: "succeeded", attempts: 1, n: 200 }])
        const byInstance = yield* sql<{ readonly instance: string; readonly n: number }>`
          SELECT instance, count(*)::int AS n FROM job_effects GROUP BY instance ORDER BY instance`
        expect(byInstance.map((row) => row.instance)).toEqual(["instance-a", "instance-b"])
        expect(byInstance.reduce((sum, row) => sum + row.n, 0)).toBe(200)
        // The instance that finished a job is the one that recorded its effect.
        const mismatched = yield* sql<{ readonly n: number }>`
          SELECT count(*)::int AS n FROM jobs j JOIN job_effects e ON e.job_id = j.id WHERE j.locked_by <> e.instance`
        expect(mismatched[0]?.n).toBe(0)
      }).pipe(Effect.scoped)
  )

  it.effect.skipIf(!onPostgres)(
    pgOnly("a job whose instance died mid-run is finished by another instance once its lease expires"),
    () =>
      Effect.gen(function*() {
        yield* emptyQueue
        const sql = yield* SqlClient.SqlClient
        const jobs = yield* Jobs
        const started = yield* Deferred.make<string>()
        const interrupted = yield* Deferred.make<void>()

        // Instance A claims the job; its handler never finishes.
        const scopeA = yield* Scope.make()
        yield* startWorker(JobHandlers.layer(hangingHandler("import", started, interrupted)), {
          WORKER_INSTANCE_ID: "instance-a",
          WORKER_LEASE: "2 seconds"
        }).pipe(Scope.extend(scopeA))
        const { id } = yield* jobs.enqueue({ kind: "import", payload: { n: 1 } })
        expect(yield* Deferred.await(started)).toBe(id)
        expect(yield* statusOf(id)).toMatchObject({ status: "running", locked_by: "instance-a", attempts: 1 })

        // A dies: the row is left as a dead instance leaves it, running under a lease nobody renews.
        const [dead] = yield* sql<{ readonly lease_expires_at: Date }>`
          UPDATE jobs SET locked_by = 'dead-instance', lease_expires_at = now() + interval '1 second'
          WHERE id = ${id} RETURNING lease_expires_at`
        // A itself lives on: its next heartbeat finds the job no longer its own and stops the handler.
        // Stopped, A returns nothing: its release is fenced on its own name.
        yield* Deferred.await(interrupted)
        yield* Scope.close(scopeA, Exit.void)
        expect(yield* statusOf(id)).toMatchObject({ status: "running", locked_by: "dead-instance", attempts: 1 })

        // Instance B, healthy, takes the job over once the lease has expired and finishes it.
        yield* startWorker(JobHandlers.layer(recordHandler("import")), { WORKER_INSTANCE_ID: "instance-b" })
        const done = yield* waitForStatus(id, "succeeded")
        expect(done).toMatchObject({ locked_by: "instance-b", attempts: 2, last_error: null })
        expect(done.finished_at).not.toBeNull()
        const effects = yield* sql<{ readonly instance: string; readonly at: Date }>`
          SELECT instance, at FROM job_effects WHERE job_id = ${id}`
        expect(effects.map((row) => row.instance)).toEqual(["instance-b"])
        // Measured on the database's clock: B ran it only after the dead lease ran out.
        expect(effects[0]!.at.getTime()).toBeGreaterThanOrEqual(dead!.lease_expires_at.getTime())
      }).pipe(Effect.scoped)
  )

  it.effect("a failing handler is retried with backoff up to max_attempts, then left failed with its last error", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const sql = yield* SqlClient.SqlClient
      const jobs = yield* Jobs
      const flaky = jobHandler({
        kind: "flaky",
        payload: Schema.Struct({}),
        run: (_payload, job) =>
          Effect.flatMap(SqlClient.SqlClient, (sql) =>
            sql`INSERT INTO job_attempts (job_id, attempt) VALUES (${job.id}, ${job.attempt})`).pipe(
              Effect.zipRight(job.setProgress({ tried: job.attempt })),
              Effect.zipRight(new Boom({ message: `boom on attempt ${job.attempt}` }))
            )
      })
      yield* startWorker(JobHandlers.layer(flaky), {})
      const { id } = yield* jobs.enqueue({ kind: "flaky", payload: {}, maxAttempts: 3 })

      const failed = yield* waitForStatus(id, "failed")
      expect(failed).toMatchObject({
        attempts: 3,
        max_attempts: 3,
        last_error: "Boom: boom on attempt 3",
        progress: { tried: 3 }
      })
      expect(failed.finished_at).not.toBeNull()

      // Each retry waited at least its backoff (base 200 ms, doubling, jittered by at most -20%),
      // measured on the database's clock between the starts of consecutive attempts.
      const gaps = yield* sql<{ readonly attempt: number; readonly gap_ms: number }>`
        SELECT attempt, (extract(epoch FROM at - lag(at) OVER (ORDER BY attempt)) * 1000)::float8 AS gap_ms
        FROM job_attempts WHERE job_id = ${id} ORDER BY attempt`
      expect(gaps.map((row) => row.attempt)).toEqual([1, 2, 3])
      expect(gaps[1]!.gap_ms).toBeGreaterThanOrEqual(160)
      expect(gaps[2]!.gap_ms).toBeGreaterThanOrEqual(320)
    }).pipe(Effect.scoped))

  it.effect("a PermanentJobError or a payload that does not decode fails the job at once, without retries", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const jobs = yield* Jobs
      const refusing = jobHandler({
        kind: "refusing",
        payload: Schema.Struct({ chatId: Schema.String }),
        run: ({ chatId }) => new PermanentJobError({ message: `chat ${chatId} was deleted` })
      })
      yield* startWorker(JobHandlers.layer(refusing), {})
      const permanent = yield* jobs.enqueue({ kind: "refusing", payload: { chatId: "c1" } })
      const malformed = yield* jobs.enqueue({ kind: "refusing", payload: { chatId: 42 } })

      expect(yield* waitForStatus(permanent.id, "failed")).toMatchObject({
        attempts: 1,
        last_error: "PermanentJobError: chat c1 was deleted"
      })
      const undecodable = yield* waitForStatus(malformed.id, "failed")
      expect(undecodable.attempts).toBe(1)
      expect(undecodable.last_error).toContain(`The payload does not match the schema of job kind "refusing"`)
      expect(undecodable.last_error).toContain("chatId")
    }).pipe(Effect.scoped))

  it.effect("enqueueing with the same dedupe key yields one job, also when the enqueues race", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const sql = yield* SqlClient.SqlClient
      const jobs = yield* Jobs
      const first = yield* jobs.enqueue({ kind: "report", payload: { chat: "a" }, dedupeKey: "report:a" })
      const second = yield* jobs.enqueue({ kind: "report", payload: { chat: "a", other: true }, dedupeKey: "report:a" })
      expect(first.created).toBe(true)
      expect(second).toEqual({ id: first.id, created: false })
      // The first enqueue's payload is kept.
      const stored = yield* sql<{ readonly payload: unknown }>`SELECT payload FROM jobs WHERE id = ${first.id}`
      expect(stored).toEqual([{ payload: { chat: "a" } }])

      const racing = yield* Effect.all(
        Array.from({ length: 8 }, () => jobs.enqueue({ kind: "report", payload: { chat: "b" }, dedupeKey: "report:b" })),
        { concurrency: "unbounded" }
      )
      expect(new Set(racing.map((job) => job.id)).size).toBe(1)
      expect(racing.filter((job) => job.created)).toHaveLength(1)
      const rows = yield* sql<{ readonly key: string; readonly n: number }>`
        SELECT dedupe_key AS key, count(*)::int AS n FROM jobs GROUP BY dedupe_key ORDER BY dedupe_key`
      expect(rows).toEqual([{ key: "report:a", n: 1 }, { key: "report:b", n: 1 }])
      expect((yield* statusOf(first.id)).status).toBe("queued")
    }))

  it.effect("during a rolling deploy an instance claims only the kinds it has handlers for", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const sql = yield* SqlClient.SqlClient
      const jobs = yield* Jobs
      // Enqueued first: claims go oldest first, so an instance claiming every kind would take it first.
      const added = yield* jobs.enqueue({ kind: "added-later", payload: { n: 1 } })
      yield* startWorker(JobHandlers.layer(recordHandler("known")), { WORKER_INSTANCE_ID: "instance-old" })
      const known = yield* jobs.enqueue({ kind: "known", payload: { n: 2 } })
      expect(yield* waitForStatus(known.id, "succeeded")).toMatchObject({ locked_by: "instance-old" })
      expect(yield* statusOf(added.id)).toMatchObject({ status: "queued", attempts: 0, locked_by: null, last_error: null })

      // The newer instance knows the kind and runs it; the old one, still polling, leaves it alone.
      yield* startWorker(
        JobHandlers.layer(recordHandler("known"), recordHandler("added-later")),
        { WORKER_INSTANCE_ID: "instance-new" }
      )
      expect(yield* waitForStatus(added.id, "succeeded")).toMatchObject({ attempts: 1, locked_by: "instance-new" })
      const effects = yield* sql<{ readonly instance: string }>`SELECT instance FROM job_effects WHERE job_id = ${added.id}`
      expect(effects.map((row) => row.instance)).toEqual(["instance-new"])
    }).pipe(Effect.scoped))

  it.effect("giveUp runs once when a job fails for good: after its last failing attempt, and when its last attempt's instance died", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const sql = yield* SqlClient.SqlClient
      const jobs = yield* Jobs
      const repo = yield* JobsRepo
      const givingUp = jobHandler({
        kind: "giving-up",
        payload: Schema.Struct({ fail: Schema.Boolean }),
        run: ({ fail }) => fail ? new Boom({ message: "boom" }) : Effect.void,
        giveUp: (_payload, job) =>
          Effect.flatMap(SqlClient.SqlClient, (sql) =>
            sql`INSERT INTO job_effects (job_id, instance) VALUES (${job.id}, ${"gave up"})`)
      })

      // The instance running the last attempt dies: nothing renews its lease, nothing records an end.
      const orphan = yield* jobs.enqueue({ kind: "giving-up", payload: { fail: false }, maxAttempts: 1 })
      const claimed = yield* repo.claim({ instance: "died", lease: Duration.millis(200), kinds: ["giving-up"] })
        .pipe(Effect.flatten, Effect.orDie)
      expect(claimed.id).toBe(orphan.id)
      yield* Effect.sleep("300 millis")

      yield* startWorker(JobHandlers.layer(givingUp), {})
      const failing = yield* jobs.enqueue({ kind: "giving-up", payload: { fail: true }, maxAttempts: 2 })
      expect((yield* waitForStatus(orphan.id, "failed")).last_error).toContain("its lease expired")
      expect(yield* waitForStatus(failing.id, "failed")).toMatchObject({ attempts: 2, last_error: "Boom: boom" })

      const gaveUp = yield* sql<{ readonly job_id: string }>`
        SELECT job_id FROM job_effects WHERE instance = 'gave up' ORDER BY job_id`
      expect(gaveUp.map((row) => row.job_id).sort()).toEqual([orphan.id, failing.id].sort())
    }).pipe(Effect.scoped))

  it.effect("a claimed job of a kind no handler is registered for fails with a clear last_error", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const jobs = yield* Jobs
      const repo = yield* JobsRepo
      const { id } = yield* jobs.enqueue({ kind: "no-such-kind", payload: {}, dedupeKey: "unknown:1" })
      // Workers claim only kinds they know; a claim made without the registry (here by hand) still
      // ends in a clear, permanent failure rather than a retry.
      const claimed = yield* repo.claim({ instance: "instance-u", lease: Duration.seconds(3), kinds: ["no-such-kind"] })
        .pipe(Effect.flatten, Effect.orDie)
      expect(claimed.id).toBe(id)
      const run = yield* makeRun({ instanceId: "instance-u", lease: Duration.seconds(3), retry: { base: "200 millis" } })
        .pipe(Effect.provide(JobHandlers.layer(recordHandler("record"))))
      yield* run(claimed)

      const failed = yield* statusOf(id)
      expect(failed).toMatchObject({ status: "failed", attempts: 1 })
      expect(failed.last_error).toBe(
        `PermanentJobError: No handler is registered for job kind "no-such-kind" (instance instance-u)`
      )
      // Read back by its dedupe key as the service shows it, without the payload.
      const shown = yield* jobs.statusByKey("unknown:1")
      expect(Option.map(shown, (job) => ({ id: job.id, status: job.status, hasPayload: "payload" in job })))
        .toEqual(Option.some({ id, status: "failed", hasPayload: false }))
      expect(Option.isNone(yield* jobs.statusByKey("no-such-key"))).toBe(true)
    }))

  it.effect("enqueueing a bad kind, attempt count or payload is a defect: only a bug makes one", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const sql = yield* SqlClient.SqlClient
      const jobs = yield* Jobs
      const isDefect = <A, E>(exit: Exit.Exit<A, E>) => Exit.isFailure(exit) && Cause.isDie(exit.cause)
      expect(isDefect(yield* Effect.exit(jobs.enqueue({ kind: "report", payload: {}, maxAttempts: 0 })))).toBe(true)
      expect(isDefect(yield* Effect.exit(jobs.enqueue({ kind: "report", payload: {}, maxAttempts: 1.5 })))).toBe(true)
      expect(isDefect(yield* Effect.exit(jobs.enqueue({ kind: "", payload: {} })))).toBe(true)
      expect(isDefect(yield* Effect.exit(jobs.send(recordHandler("typed"), { n: 1.5 })))).toBe(true)
      expect(yield* sql`SELECT id FROM jobs`).toEqual([])
    }))

  it.effect("stopping lets a running job finish within the grace period and claims nothing new", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const jobs = yield* Jobs
      const started = yield* Deferred.make<string>()
      const gate = yield* Deferred.make<void>()
      const gated = jobHandler({
        kind: "gated",
        payload: Schema.Unknown,
        run: (_payload, job) => Deferred.succeed(started, job.id).pipe(Effect.zipRight(Deferred.await(gate)))
      })
      const scope = yield* Scope.make()
      const worker = yield* startWorker(JobHandlers.layer(gated), { WORKER_SHUTDOWN_GRACE: "30 seconds" })
        .pipe(Scope.extend(scope))
      const { id } = yield* jobs.enqueue({ kind: "gated", payload: {} })
      yield* Deferred.await(started)

      const stopping = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* waitFor("the worker to drain", worker.draining, (draining) => draining)
      expect(yield* worker.inFlight).toEqual([id])
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(stopping)
      expect(yield* statusOf(id)).toMatchObject({ status: "succeeded", attempts: 1 })
    }))

  it.effect("stopping returns a job still running after the grace period to the queue, its attempt not counted", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const jobs = yield* Jobs
      const started = yield* Deferred.make<string>()
      const scope = yield* Scope.make()
      yield* startWorker(JobHandlers.layer(hangingHandler("long", started)), {
        WORKER_INSTANCE_ID: "instance-s",
        WORKER_SHUTDOWN_GRACE: "300 millis"
      }).pipe(Scope.extend(scope))
      const { id } = yield* jobs.enqueue({ kind: "long", payload: { n: 1 }, maxAttempts: 1 })
      yield* Deferred.await(started)
      expect(yield* statusOf(id)).toMatchObject({ status: "running", attempts: 1, locked_by: "instance-s" })

      yield* Scope.close(scope, Exit.void)
      expect(yield* statusOf(id)).toMatchObject({
        status: "queued",
        attempts: 0,
        locked_by: null,
        last_error: null,
        finished_at: null
      })

      // With its one attempt intact, the next instance runs it.
      yield* startWorker(JobHandlers.layer(recordHandler("long")), { WORKER_INSTANCE_ID: "instance-t" })
      expect(yield* waitForStatus(id, "succeeded")).toMatchObject({ attempts: 1, locked_by: "instance-t" })
    }).pipe(Effect.scoped))

  it.effect("a job running longer than its lease keeps it by heartbeats: a second instance does not take it over", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const sql = yield* SqlClient.SqlClient
      const jobs = yield* Jobs
      const slow = jobHandler({
        kind: "slow",
        payload: Schema.Unknown,
        run: (_payload, job) =>
          Effect.sleep("3 seconds").pipe(
            Effect.zipRight(Effect.flatMap(SqlClient.SqlClient, (sql) =>
              sql`INSERT INTO job_effects (job_id, instance) VALUES (${job.id}, ${job.instanceId})`))
          )
      })
      const lease = { WORKER_LEASE: "900 millis" }
      yield* startWorker(JobHandlers.layer(slow), { ...lease, WORKER_INSTANCE_ID: "instance-h1" })
      yield* startWorker(JobHandlers.layer(slow), { ...lease, WORKER_INSTANCE_ID: "instance-h2" })
      const { id } = yield* jobs.enqueue({ kind: "slow", payload: {} })

      const done = yield* waitForStatus(id, "succeeded")
      expect(done.attempts).toBe(1)
      const effects = yield* sql<{ readonly instance: string }>`SELECT instance FROM job_effects WHERE job_id = ${id}`
      expect(effects.map((row) => row.instance)).toEqual([done.locked_by])
    }).pipe(Effect.scoped))

  it.effect("a job's run is a Worker.run span in the trace that enqueued it, with its kind, id and attempt", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const jobs = yield* Jobs
      const seen = yield* Deferred.make<{ readonly name: string; readonly traceId: string; readonly attributes: unknown }>()
      const traced = jobHandler({
        kind: "traced",
        payload: Schema.Unknown,
        run: () =>
          Effect.flatMap(Effect.currentSpan, (span) =>
            Deferred.succeed(seen, {
              name: span.name,
              traceId: span.traceId,
              attributes: Object.fromEntries(span.attributes)
            })).pipe(Effect.orDie)
      })
      yield* startWorker(JobHandlers.layer(traced), {})
      const { enqueued, traceId } = yield* Effect.gen(function*() {
        const span = yield* Effect.currentSpan
        return { enqueued: yield* jobs.enqueue({ kind: "traced", payload: {} }), traceId: span.traceId }
      }).pipe(Effect.withSpan("request"))

      const span = yield* Deferred.await(seen)
      expect(span.name).toBe("Worker.run")
      expect(span.traceId).toBe(traceId)
      expect(span.attributes).toMatchObject({ "job.kind": "traced", "job.id": enqueued.id, "job.attempt": 1 })
      yield* waitForStatus(enqueued.id, "succeeded")
    }).pipe(Effect.scoped))

  it.effect("send type-checks and encodes the payload with the handler's schema", () =>
    Effect.gen(function*() {
      yield* emptyQueue
      const sql = yield* SqlClient.SqlClient
      const jobs = yield* Jobs
      const handler: JobHandler<{ readonly n: number }, SqlClient.SqlClient> = recordHandler("typed")
      // One registry for handlers of different payloads and requirements.
      const registry: Layer.Layer<JobHandlers, never, SqlClient.SqlClient> = JobHandlers.layer(
        handler,
        jobHandler({ kind: "noop", payload: Schema.Unknown, run: () => Effect.void })
      )
      const { id } = yield* jobs.send(handler, { n: 7 }, { dedupeKey: "typed:7" })
      expect(yield* sql`SELECT kind, payload, dedupe_key FROM jobs WHERE id = ${id}`).toEqual([
        { kind: "typed", payload: { n: 7 }, dedupe_key: "typed:7" }
      ])
      // A payload its schema refuses is a caller's bug: a defect, and nothing is enqueued.
      const invalid = yield* Effect.exit(jobs.send(handler, { n: 1.5 }))
      expect(Exit.isFailure(invalid) && Cause.isDie(invalid.cause)).toBe(true)
      expect(yield* sql`SELECT count(*)::int AS n FROM jobs`).toEqual([{ n: 1 }])
      yield* startWorker(registry, {})
      yield* waitForStatus(id, "succeeded")
    }).pipe(Effect.scoped))
})
