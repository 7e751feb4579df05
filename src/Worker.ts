/**
 * Durable background jobs run in-process: `Jobs` enqueues into the `jobs` table, `Worker` runs them on
 * N fibers per instance, claiming with SKIP LOCKED under a renewed lease, retrying with backoff.
 *
 * Delivery is at least once: a job whose instance dies (or stalls past its lease) is run again by
 * another instance, so every handler must be idempotent: re-running it must not repeat its effects
 * (key its writes on the job id or a business reference, upsert rather than insert, and so on).
 */
import {
  Cause,
  Chunk,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  MutableHashSet,
  Option,
  ParseResult,
  Schedule,
  Schema,
  Tracer
} from "effect"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import { WorkerConfig } from "./Config.js"
import { orDatabaseError } from "./Database.js"
import { type DatabaseError, NotFound, ValidationError } from "./Domain/Errors.js"
import { type JobRow, JobsRepo, JobState, TraceContext } from "./Worker/Repo.js"

export { JobState, TraceContext } from "./Worker/Repo.js"


// ---------------------------------------------------------------------------------------------------
// Handlers

/** A failure that retrying cannot fix: the job is failed at once, whatever attempts remain. */
export class PermanentJobError extends Schema.TaggedError<PermanentJobError>()("PermanentJobError", {
  message: Schema.String
}) {}

/** What a handler is told about the job it runs. */
export interface RunningJob {
  readonly id: string
  readonly kind: string
  /** 1 for the first run; counts runs started, including ones whose instance died. */
  readonly attempt: number
  readonly maxAttempts: number
  readonly userId: string | null
  readonly instanceId: string
  /** Stores a progress report (any JSON) readable through `Jobs.status`. */
  readonly setProgress: (progress: unknown) => Effect.Effect<void, NotFound | DatabaseError>
}

/**
 * A handler for one kind of job, its payload schema closed over so handlers of different payloads
 * fit in one registry. Make one with `jobHandler`.
 */
export interface JobHandler<in A, out R> {
  readonly kind: string
  /** Decodes the stored payload and runs the handler; a payload that does not decode is a `PermanentJobError`. */
  readonly execute: (payload: unknown, job: RunningJob) => Effect.Effect<void, unknown, R>
  /** Encodes a payload for `Jobs.send`. */
  readonly encodePayload: (payload: A) => Effect.Effect<unknown, ParseResult.ParseError>
}

/**
 * Defines the handler of `kind`. `run` must be idempotent (see the module comment). It may fail with
 * `PermanentJobError` to fail the job without further attempts; any other failure or defect is retried.
 */
export const jobHandler = <A, I, E, R>(definition: {
  readonly kind: string
  readonly payload: Schema.Schema<A, I, never>
  readonly run: (payload: A, job: RunningJob) => Effect.Effect<void, E, R>
}): JobHandler<A, R> => {
  const decode = Schema.decodeUnknown(definition.payload)
  return {
    kind: definition.kind,
    execute: (payload, job) =>
      decode(payload).pipe(
        Effect.mapError((error) =>
          new PermanentJobError({
            message: `The payload does not match the schema of job kind "${definition.kind}": ${
              ParseResult.TreeFormatter.formatErrorSync(error)
            }`
          })
        ),
        Effect.flatMap((decoded) => definition.run(decoded, job))
      ),
    encodePayload: Schema.encode(definition.payload)
  }
}

type Execute = (payload: unknown, job: RunningJob) => Effect.Effect<void, unknown>

/** The handlers this instance runs, by kind. */
export class JobHandlers extends Context.Tag("chatsight/JobHandlers")<JobHandlers, ReadonlyMap<string, Execute>>() {
  /**
   * The registry of `handlers`, running each in the context the layer was built in (so the layer
   * requires what the handlers require). A kind registered twice is a bug: the layer dies.
   */
  static layer<R>(...handlers: ReadonlyArray<JobHandler<never, R>>): Layer.Layer<JobHandlers, never, R> {
    return Layer.effect(
      JobHandlers,
      Effect.gen(function*() {
        const context = yield* Effect.context<R>()
        const registry = new Map<string, Execute>()
        for (const handler of handlers) {
          if (registry.has(handler.kind)) {
            return yield* Effect.dieMessage(`Job kind "${handler.kind}" has two handlers`)
          }
          registry.set(handler.kind, (payload, job) => Effect.provide(handler.execute(payload, job), context))
        }
        return registry
      })
    )
  }
}

// ---------------------------------------------------------------------------------------------------
// Enqueueing

export interface EnqueueOptions {
  readonly kind: string
  /** Any JSON value; the handler decodes it with its schema. */
  readonly payload: unknown
  /** Enqueueing twice with the same key yields the one job (the first one's). */
  readonly dedupeKey?: string | undefined
  /** Not before this time; now by default. */
  readonly runAt?: Date | undefined
  /** Runs in all, retries included; 5 by default. */
  readonly maxAttempts?: number | undefined
  readonly userId?: string | undefined
}

export interface Enqueued {
  readonly id: string
  /** False when the dedupe key already named a job: that job is returned and nothing was added. */
  readonly created: boolean
}

/** A job as `Jobs.status` shows it. */
export const JobStatus = Schema.Struct({
  id: Schema.String,
  kind: Schema.String,
  status: JobState,
  attempts: Schema.Int,
  max_attempts: Schema.Int,
  last_error: Schema.NullOr(Schema.String),
  progress: Schema.Unknown,
  dedupe_key: Schema.NullOr(Schema.String),
  user_id: Schema.NullOr(Schema.String),
  /** The instance running the job, or the one that finished it. */
  locked_by: Schema.NullOr(Schema.String),
  run_at: Schema.Date,
  created_at: Schema.Date,
  updated_at: Schema.Date,
  finished_at: Schema.NullOr(Schema.Date)
}).annotations({ identifier: "JobStatus" })
export type JobStatus = typeof JobStatus.Type

const toStatus = (row: JobRow): JobStatus => ({
  id: row.id,
  kind: row.kind,
  status: row.status,
  attempts: row.attempts,
  max_attempts: row.max_attempts,
  last_error: row.last_error,
  progress: row.progress,
  dedupe_key: row.dedupe_key,
  user_id: row.user_id,
  locked_by: row.locked_by,
  run_at: row.run_at,
  created_at: row.created_at,
  updated_at: row.updated_at,
  finished_at: row.finished_at
})

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const noJob = (id: string) => new NotFound({ message: `No job ${id}` })

/** The current span, as a job stores it to join the enqueuer's trace when it runs. */
const currentTraceContext = Effect.map(
  Effect.option(Effect.currentParentSpan),
  Option.match({
    onNone: () => null,
    onSome: (span): TraceContext => ({ traceId: span.traceId, spanId: span.spanId, sampled: span.sampled })
  })
)

export class Jobs extends Effect.Service<Jobs>()("chatsight/Jobs", {
  effect: Effect.gen(function*() {
    const repo = yield* JobsRepo

    /** Adds a job, or with a dedupe key already used returns that job. */
    const enqueue = (options: EnqueueOptions) =>
      Effect.gen(function*() {
        const maxAttempts = options.maxAttempts ?? 5
        if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
          return yield* new ValidationError({ message: `maxAttempts must be a whole number of at least 1, got ${maxAttempts}` })
        }
        if (options.kind.length === 0) {
          return yield* new ValidationError({ message: "kind must not be empty" })
        }
        const row = {
          kind: options.kind,
          payload: options.payload ?? {},
          dedupe_key: options.dedupeKey ?? null,
          run_at: options.runAt ?? null,
          max_attempts: maxAttempts,
          user_id: options.userId ?? null,
          trace_context: yield* currentTraceContext
        }
        const inserted = yield* repo.insert(row)
        if (Option.isSome(inserted)) {
          yield* Effect.logInfo("Job enqueued").pipe(Effect.annotateLogs({ jobId: inserted.value.id, jobKind: row.kind }))
          return { id: inserted.value.id, created: true } satisfies Enqueued
        }
        // The key is taken: ON CONFLICT DO NOTHING waited for the other insert to commit, so its row is visible.
        const key = row.dedupe_key ?? ""
        const existing = yield* repo.findByDedupeKey(key).pipe(
          Effect.flatMap(Option.match({
            onNone: () => Effect.dieMessage(`Job dedupe key "${key}" conflicted but no job holds it`),
            onSome: Effect.succeed
          }))
        )
        yield* Effect.logInfo("Job already enqueued under this dedupe key").pipe(
          Effect.annotateLogs({ jobId: existing.id, jobKind: existing.kind, dedupeKey: key })
        )
        return { id: existing.id, created: false } satisfies Enqueued
      }).pipe(
        orDatabaseError,
        Effect.withSpan("Jobs.enqueue", { attributes: { "job.kind": options.kind } })
      )

    /** Enqueues a job for `handler`, its payload type-checked and encoded with the handler's schema. */
    const send = <A>(handler: JobHandler<A, unknown>, payload: A, options: Omit<EnqueueOptions, "kind" | "payload"> = {}) =>
      handler.encodePayload(payload).pipe(
        Effect.mapError((error) =>
          new ValidationError({ message: `Invalid ${handler.kind} payload: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })
        ),
        Effect.flatMap((encoded) => enqueue({ ...options, kind: handler.kind, payload: encoded }))
      )

    /** The job enqueued under a dedupe key, if any. */
    const statusByKey = (dedupeKey: string) =>
      repo.findByDedupeKey(dedupeKey).pipe(
        Effect.map(Option.map(toStatus)),
        orDatabaseError,
        Effect.withSpan("Jobs.statusByKey")
      )

    /** Jobs due now, running, and failed for good, across all instances. */
    const backlog = repo.backlog.pipe(orDatabaseError, Effect.withSpan("Jobs.backlog"))

    const status = (jobId: string) =>
      (uuidPattern.test(jobId) ? repo.findById(jobId) : Effect.succeed(Option.none())).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(noJob(jobId)), onSome: (row) => Effect.succeed(toStatus(row)) })),
        orDatabaseError,
        Effect.withSpan("Jobs.status", { attributes: { "job.id": jobId } })
      )

    /** Stores a progress report on a job (for handlers; any JSON). */
    const setProgress = (jobId: string, progress: unknown) =>
      (uuidPattern.test(jobId) ? repo.setProgress({ id: jobId, progress }) : Effect.succeed(false)).pipe(
        Effect.flatMap((found) => found ? Effect.void : Effect.fail(noJob(jobId))),
        orDatabaseError,
        Effect.withSpan("Jobs.setProgress", { attributes: { "job.id": jobId } })
      )

    return { enqueue, send, status, statusByKey, setProgress, backlog } as const
  }),
  dependencies: [JobsRepo.Default]
}) {}

// ---------------------------------------------------------------------------------------------------
// Running

const maxErrorLength = 4000

/** A failure as `last_error` shows it: the error's tag or name and message, without stack traces. */
const describeFailure = (cause: Cause.Cause<unknown>): string => {
  const describe = (u: unknown): string => {
    if (typeof u === "object" && u !== null) {
      const tag = "_tag" in u && typeof u._tag === "string" ? u._tag : u instanceof Error ? u.name : undefined
      const message = "message" in u && typeof u.message === "string" ? u.message : undefined
      if (message !== undefined) return tag === undefined ? message : `${tag}: ${message}`
      try {
        return JSON.stringify(u)
      } catch {
        return String(u)
      }
    }
    return String(u)
  }
  const text = Option.match(Cause.failureOption(cause), {
    onSome: describe,
    onNone: () =>
      Option.match(Cause.dieOption(cause), {
        onSome: (defect) => `Defect: ${describe(defect)}`,
        onNone: () => Cause.isInterruptedOnly(cause) ? "The handler was interrupted" : Cause.pretty(cause)
      })
  })
  return text.length > maxErrorLength ? `${text.slice(0, maxErrorLength)}…` : text
}

const isPermanent = (cause: Cause.Cause<unknown>) =>
  Option.exists(Cause.failureOption(cause), (error) => error instanceof PermanentJobError)

type Outcome =
  | { readonly _tag: "Finished"; readonly exit: Exit.Exit<void, unknown> }
  | { readonly _tag: "LeaseLost" }

export class Worker extends Effect.Service<Worker>()("chatsight/Worker", {
  scoped: Effect.gen(function*() {
    const settings = yield* WorkerConfig
    const repo = yield* JobsRepo
    const handlers = yield* JobHandlers
    const instanceId = Option.getOrElse(
      settings.instanceId,
      () => `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`
    )
    const lease = settings.lease
    const heartbeatEvery = Duration.divide(lease, 3).pipe(Option.getOrElse(() => lease))
    const stopping = yield* Deferred.make<void>()
    const inFlight = MutableHashSet.empty<string>()

    /** Exponential from the base, jittered, capped; its output is the delay about to be slept. */
    const backoffSchedule = Schedule.exponential(settings.backoffBase).pipe(
      Schedule.jittered,
      Schedule.modifyDelay((_, delay) => Duration.min(delay, settings.backoffMax)),
      Schedule.delays
    )
    /** The delay after the `attempt`-th failure: the schedule's `attempt`-th step. */
    const backoff = (attempt: number) =>
      Effect.map(
        Schedule.run(backoffSchedule, Date.now(), Array.from({ length: Math.max(attempt, 1) }, () => undefined)),
        (delays) => Option.getOrElse(Chunk.last(delays), () => settings.backoffBase)
      )

    const fence = (job: JobRow) => ({ id: job.id, instance: instanceId })

    /** Renews the lease every third of it; returns only when the job turns out to be someone else's. */
    const heartbeat = (job: JobRow) =>
      Effect.gen(function*() {
        while (true) {
          yield* Effect.sleep(heartbeatEvery)
          // A failed renewal (the database briefly away) is retried at the next beat; the lease has slack.
          const owned = yield* repo.heartbeat({ ...fence(job), lease }).pipe(
            orDatabaseError,
            Effect.catchTag("DatabaseError", () => Effect.succeed(true))
          )
          if (!owned) return { _tag: "LeaseLost" } satisfies Outcome
        }
      })

    /** Writes what came of a run. Fenced: if the job is no longer ours, nothing is written. */
    const record = (job: JobRow, exit: Exit.Exit<void, unknown>) =>
      Effect.gen(function*() {
        if (Exit.isSuccess(exit)) {
          const done = yield* repo.complete(fence(job))
          if (Option.isSome(done)) yield* Effect.logInfo("Job succeeded")
          else yield* Effect.logWarning("Job finished after its lease was taken over; its result was not recorded")
          return
        }
        const error = describeFailure(exit.cause)
        if (isPermanent(exit.cause) || job.attempts >= job.max_attempts) {
          const failed = yield* repo.fail({ ...fence(job), error })
          yield* Effect.logError(
            Option.isSome(failed) ? "Job failed for good" : "Job failed after losing its lease",
            exit.cause
          ).pipe(Effect.annotateLogs({ lastError: error }))
          return
        }
        const delay = yield* backoff(job.attempts)
        const queued = yield* repo.retryLater({ ...fence(job), delay, error })
        yield* Effect.logWarning(
          Option.isSome(queued) ? "Job failed; retrying later" : "Job failed after losing its lease",
          exit.cause
        ).pipe(Effect.annotateLogs({ lastError: error, retryInMs: Math.round(Duration.toMillis(delay)) }))
      }).pipe(
        orDatabaseError,
        // Unrecorded, the job stays running under our lapsing lease and is run again once it expires.
        Effect.catchAllCause((cause) => Effect.logError("Could not record the outcome of a job run", cause))
      )

    /** Returns the job to the queue when this instance stops before it finished. */
    const release = (job: JobRow) =>
      repo.release(fence(job)).pipe(
        orDatabaseError,
        Effect.flatMap((released) =>
          Effect.logWarning(
            Option.isSome(released) ? "Worker stopping: job returned to the queue" : "Worker stopping: job was no longer ours"
          )
        ),
        // At shutdown there is nobody to report to; the lease expiring is the fallback.
        Effect.catchAll(() => Effect.void)
      )

    const runningJob = (job: JobRow): RunningJob => ({
      id: job.id,
      kind: job.kind,
      attempt: job.attempts,
      maxAttempts: job.max_attempts,
      userId: job.user_id,
      instanceId,
      setProgress: (progress) =>
        repo.setProgress({ id: job.id, progress }).pipe(
          Effect.flatMap((found) => found ? Effect.void : Effect.fail(noJob(job.id))),
          orDatabaseError
        )
    })

    /** Runs a claimed job under its renewed lease and records the outcome. */
    const runJob = (job: JobRow) => {
      const handler = handlers.get(job.kind)
      const execute: Effect.Effect<void, unknown> = job.attempts > job.max_attempts
        // Our claim took over an expired lease on what was already the last attempt.
        ? new PermanentJobError({
          message: `Attempt ${job.max_attempts} of ${job.max_attempts} did not finish: its lease expired ` +
            "(the instance running it stopped or stalled)"
        })
        : handler === undefined
        ? new PermanentJobError({ message: `No handler is registered for job kind "${job.kind}" (instance ${instanceId})` })
        : Effect.suspend(() => handler(job.payload, runningJob(job)))
      const traceParent = Schema.decodeUnknownOption(TraceContext)(job.trace_context)

      return Effect.gen(function*() {
        yield* Effect.logDebug("Job claimed")
        const outcome = yield* Effect.raceFirst(
          Effect.map(Effect.exit(execute), (exit): Outcome => ({ _tag: "Finished", exit })),
          heartbeat(job)
        )
        if (outcome._tag === "LeaseLost") {
          yield* Effect.logWarning("Job lease taken over by another instance; stopped running it here")
          return yield* Effect.fail("lease lost")
        }
        yield* Effect.uninterruptible(record(job, outcome.exit))
        // Fails the span (not the runner) when the handler failed, so traces show it. A handler that
        // interrupted itself must not pass for this fiber being interrupted (shutdown).
        if (Exit.isFailure(outcome.exit)) {
          return yield* Cause.isInterruptedOnly(outcome.exit.cause)
            ? Effect.fail("The handler was interrupted")
            : Effect.failCause(outcome.exit.cause)
        }
      }).pipe(
        Effect.withSpan("Worker.run", {
          attributes: {
            "job.id": job.id,
            "job.kind": job.kind,
            "job.attempt": job.attempts,
            "job.max_attempts": job.max_attempts,
            "worker.instance": instanceId
          },
          ...Option.match(traceParent, {
            onNone: () => ({ root: true }),
            onSome: (parent) => ({ parent: Tracer.externalSpan(parent) })
          })
        }),
        // What reaches here is the handler's failure (already recorded) or a lost lease (already logged).
        Effect.catchAllCause((cause) => Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : Effect.void),
        Effect.onInterrupt(() => release(job)),
        Effect.ensuring(Effect.sync(() => MutableHashSet.remove(inFlight, job.id))),
        Effect.annotateLogs({ jobId: job.id, jobKind: job.kind, attempt: job.attempts }),
        Effect.withLogSpan("job")
      )
    }

    /** Claims and runs one job; false when none was due. A claimed job is always run or released. */
    const claimAndRun = Effect.uninterruptibleMask((restore) =>
      repo.claim({ instance: instanceId, lease }).pipe(
        orDatabaseError,
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeed(false),
          onSome: (job) =>
            Effect.sync(() => MutableHashSet.add(inFlight, job.id)).pipe(
              Effect.zipRight(restore(runJob(job))),
              Effect.as(true)
            )
        }))
      )
    )

    const idle = Effect.raceFirst(Effect.sleep(settings.pollInterval), Deferred.await(stopping))

    const runner = Effect.gen(function*() {
      while (!(yield* Deferred.isDone(stopping))) {
        const worked = yield* claimAndRun.pipe(
          // A failed claim was logged where it failed; keep polling. Defects are logged and survived too.
          Effect.catchAllCause((cause) =>
            Cause.isInterruptedOnly(cause)
              ? Effect.failCause(cause)
              : Effect.as(Cause.isFailType(cause) ? Effect.void : Effect.logError("Worker loop defect", cause), false)
          )
        )
        if (!worked) yield* idle
      }
    })

    const fibers = yield* Effect.forEach(
      Array.from({ length: settings.concurrency }, (_, slot) => slot),
      (slot) => Effect.forkDaemon(runner.pipe(Effect.annotateLogs({ workerInstance: instanceId, workerSlot: slot })))
    )
    yield* Effect.logInfo("Worker started").pipe(
      Effect.annotateLogs({
        workerInstance: instanceId,
        concurrency: settings.concurrency,
        leaseMs: Duration.toMillis(lease),
        pollIntervalMs: Duration.toMillis(settings.pollInterval)
      })
    )

    // Stop claiming, give running jobs the grace period, then interrupt them: each returns its job to
    // the queue on interruption (see `runJob`).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* Deferred.succeed(stopping, undefined)
        yield* Effect.logInfo("Worker stopping: no new claims; waiting for running jobs").pipe(
          Effect.annotateLogs({ running: MutableHashSet.size(inFlight), graceMs: Duration.toMillis(settings.shutdownGrace) })
        )
        // Finalizers are uninterruptible; the wait must not be, or the timeout could not cut it short.
        const drained = yield* Effect.interruptible(Fiber.awaitAll(fibers)).pipe(Effect.timeoutOption(settings.shutdownGrace))
        if (Option.isNone(drained)) {
          yield* Effect.logWarning("Grace period over: returning running jobs to the queue").pipe(
            Effect.annotateLogs({ running: MutableHashSet.size(inFlight) })
          )
          yield* Fiber.interruptAll(fibers)
        }
        yield* Effect.logInfo("Worker stopped")
      }).pipe(Effect.annotateLogs({ workerInstance: instanceId }))
    )

    return {
      instanceId,
      /** True once shutdown began: no new claims; running jobs are finishing. */
      draining: Deferred.isDone(stopping),
      /** Ids of the jobs this instance is running now. */
      inFlight: Effect.sync((): ReadonlyArray<string> => Array.from(inFlight))
    } as const
  }),
  dependencies: [JobsRepo.Default]
}) {}
