/**
 * Running one claimed job: its handler under a lease renewed by heartbeats, what came of it written
 * back (succeeded, retried after a backoff, or failed for good), and the job returned to the queue when
 * the instance stops first. Every write is fenced on this instance's name (see `Repo.ts`).
 */
import { Cause, Chunk, Duration, Effect, Exit, Option, Schedule, Schema, Tracer } from "effect"
import { backoff, type BackoffOptions } from "../Backoff.js"
import { orDatabaseError } from "../Database.js"
import { describeFailure, HandlerInterrupted, isPermanent, LeaseLost } from "./Failure.js"
import { JobCancelled, JobHandlers, PermanentJobError, type RunningJob } from "./Handler.js"
import { type JobRow, JobsRepo, TraceContext } from "./Repo.js"

/** The instance a job runs on, as running it needs to know it. */
export interface RunSettings {
  readonly instanceId: string
  readonly lease: Duration.Duration
  /** The delays between attempts of a failing job. */
  readonly retry: BackoffOptions
}

/**
 * Makes `run(job)`, which runs a job this instance has just claimed and records the outcome. It fails
 * only by interruption, after returning the job to the queue.
 */
export const makeRun = (settings: RunSettings) =>
  Effect.gen(function*() {
    const repo = yield* JobsRepo
    const handlers = yield* JobHandlers
    const { instanceId, lease } = settings
    const heartbeatEvery = Duration.divide(lease, 3).pipe(Option.getOrElse(() => lease))
    const retrySchedule = backoff(settings.retry)
    const fence = (job: JobRow) => ({ id: job.id, instance: instanceId })

    /** The delay after the `attempt`-th failure: the retry schedule's `attempt`-th step. */
    const retryDelay = (attempt: number) =>
      Effect.map(
        Schedule.run(retrySchedule, Date.now(), Array.from({ length: Math.max(attempt, 1) }, () => undefined)),
        (delays) => Option.getOrElse(Chunk.last(delays), () => Duration.decode(settings.retry.base))
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
          Effect.flatMap((running) => running ? Effect.void : new JobCancelled({ message: `Job ${job.id} was cancelled` })),
          orDatabaseError
        )
    })

    /** What running the job means: its handler, unless the job cannot be run. */
    const handle = (job: JobRow): Effect.Effect<void, unknown> => {
      if (job.attempts > job.max_attempts) {
        // Our claim took over an expired lease on what was already the last attempt.
        return new PermanentJobError({
          message: `Attempt ${job.max_attempts} of ${job.max_attempts} did not finish: its lease expired ` +
            "(the instance running it stopped or stalled)"
        })
      }
      const handler = handlers.get(job.kind)
      // Claims are limited to registered kinds; this guards against the claim and the registry disagreeing.
      if (handler === undefined) {
        return new PermanentJobError({ message: `No handler is registered for job kind "${job.kind}" (instance ${instanceId})` })
      }
      return Effect.suspend(() => handler.execute(job.payload, runningJob(job)))
    }

    /** True (and the lease let go, the stop logged) when the job was cancelled while it ran. */
    const stopIfCancelled = (job: JobRow) =>
      repo.stopCancelled(fence(job)).pipe(
        orDatabaseError,
        Effect.catchTag("DatabaseError", () => Effect.succeed(false)),
        Effect.tap((cancelled) => cancelled ? Effect.logInfo("Job cancelled; stopped") : Effect.void)
      )

    /** Renews the lease every third of it; fails only when the job turns out to be someone else's. */
    const holdLease = (job: JobRow) =>
      Effect.gen(function*() {
        while (true) {
          yield* Effect.sleep(heartbeatEvery)
          // A failed renewal (the database briefly away) is retried at the next beat; the lease has slack.
          const owned = yield* repo.heartbeat({ ...fence(job), lease }).pipe(
            orDatabaseError,
            Effect.catchTag("DatabaseError", () => Effect.succeed(true))
          )
          if (!owned) {
            if (yield* stopIfCancelled(job)) return yield* new JobCancelled({ message: `Job ${job.id} was cancelled` })
            yield* Effect.logWarning("Job lease taken over by another instance; stopped running it here")
            return yield* new LeaseLost({ jobId: job.id })
          }
        }
      })

    const succeeded = (job: JobRow) =>
      Effect.flatMap(repo.complete(fence(job)), (done) =>
        Option.isSome(done)
          ? Effect.logInfo("Job succeeded")
          : Effect.logWarning("Job finished after its lease was taken over; its result was not recorded"))

    /** What the kind does once a job of it fails for good (refunds, say): its failure is logged, not retried. */
    const giveUp = (job: JobRow) => {
      const handler = handlers.get(job.kind)
      return handler === undefined ? Effect.void : handler.giveUp(job.payload, runningJob(job)).pipe(
        Effect.catchAllCause((cause) => Effect.logError("Giving up on the job failed", cause)),
        Effect.withSpan("Worker.giveUp", { attributes: { "job.id": job.id, "job.kind": job.kind } })
      )
    }

    const failedForGood = (job: JobRow, cause: Cause.Cause<unknown>, error: string) =>
      Effect.flatMap(repo.fail({ ...fence(job), error }), (failed) =>
        Effect.logError(Option.isSome(failed) ? "Job failed for good" : "Job failed after losing its lease", cause).pipe(
          Effect.annotateLogs({ lastError: error }),
          Effect.zipRight(Option.isSome(failed) ? giveUp(job) : Effect.void)
        ))

    const retryLater = (job: JobRow, cause: Cause.Cause<unknown>, error: string) =>
      Effect.gen(function*() {
        const delay = yield* retryDelay(job.attempts)
        const queued = yield* repo.retryLater({ ...fence(job), delay, error })
        yield* Effect.logWarning(
          Option.isSome(queued) ? "Job failed; retrying later" : "Job failed after losing its lease",
          cause
        ).pipe(Effect.annotateLogs({ lastError: error, retryInMs: Math.round(Duration.toMillis(delay)) }))
      })

    /** Writes what came of a run. Fenced: if the job is no longer ours, nothing is written. */
    const record = (job: JobRow, exit: Exit.Exit<void, unknown>) =>
      Effect.flatMap(stopIfCancelled(job), (cancelled) =>
        cancelled ? Effect.void : Exit.match(exit, {
          onSuccess: () => succeeded(job),
          onFailure: (cause) =>
            isPermanent(cause) || job.attempts >= job.max_attempts
              ? failedForGood(job, cause, describeFailure(cause))
              : retryLater(job, cause, describeFailure(cause))
        })).pipe(
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

    /**
     * The run as a span in the trace that enqueued the job. The span fails when the handler failed, so
     * traces show it; a handler that interrupted itself must not pass for this fiber being interrupted
     * (shutdown), so it fails with `HandlerInterrupted` instead.
     */
    const traced = (job: JobRow) =>
      Effect.gen(function*() {
        yield* Effect.logDebug("Job claimed")
        const exit = yield* Effect.raceFirst(Effect.exit(handle(job)), holdLease(job))
        yield* Effect.uninterruptible(record(job, exit))
        if (Exit.isFailure(exit)) {
          return yield* Cause.isInterruptedOnly(exit.cause)
            ? new HandlerInterrupted({ jobId: job.id })
            : Effect.failCause(exit.cause)
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
          ...Option.match(Schema.decodeUnknownOption(TraceContext)(job.trace_context), {
            onNone: () => ({ root: true }),
            onSome: (parent) => ({ parent: Tracer.externalSpan(parent) })
          })
        })
      )

    return (job: JobRow): Effect.Effect<void> =>
      traced(job).pipe(
        // What reaches here is the handler's failure (already recorded), a lost lease (already logged),
        // or this fiber's interruption, which goes on to release the job.
        Effect.catchAllCause((cause) => Cause.isInterruptedOnly(cause) ? Effect.interrupt : Effect.void),
        Effect.onInterrupt(() => release(job)),
        Effect.annotateLogs({ jobId: job.id, jobKind: job.kind, attempt: job.attempts }),
        Effect.withLogSpan("job")
      )
  })
