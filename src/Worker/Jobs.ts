/**
 * Enqueueing background jobs and reading them back: what domains use to hand work to the worker
 * (`Worker.ts` runs it), and what health and progress reports read.
 */
import { Effect, Option, ParseResult, Schema } from "effect"
import { orDatabaseError } from "../Database.js"
import type { JobHandler } from "./Handler.js"
import { JobRow, JobsRepo, type TraceContext } from "./Repo.js"

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

/** A job as `Jobs.statusByKey` shows it: its row without the payload and the runner's bookkeeping. */
export const JobStatus = JobRow.omit("payload", "lease_expires_at", "trace_context").annotations({
  identifier: "JobStatus"
})
export type JobStatus = typeof JobStatus.Type

const toStatus = Schema.validate(JobStatus)

/** The current span, as a job stores it to join the enqueuer's trace when it runs. */
const currentTraceContext = Effect.map(
  Effect.option(Effect.currentParentSpan),
  Option.match({
    onNone: () => null,
    onSome: (span): TraceContext => ({ traceId: span.traceId, spanId: span.spanId, sampled: span.sampled })
  })
)

/** Options that only a bug can produce: they come from code, never from a request. */
const checkOptions = (options: EnqueueOptions, maxAttempts: number) =>
  !Number.isSafeInteger(maxAttempts) || maxAttempts < 1
    ? Effect.dieMessage(`maxAttempts must be a whole number of at least 1, got ${maxAttempts}`)
    : options.kind.length === 0
    ? Effect.dieMessage("A job kind must not be empty")
    : Effect.void

export class Jobs extends Effect.Service<Jobs>()("chatsight/Jobs", {
  effect: Effect.gen(function*() {
    const repo = yield* JobsRepo

    /** The job that holds a dedupe key our insert found taken. */
    const holderOf = (key: string) =>
      // ON CONFLICT DO NOTHING waited for the other insert to commit, so its row is visible.
      repo.findByDedupeKey(key).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.dieMessage(`Job dedupe key "${key}" conflicted but no job holds it`),
          onSome: Effect.succeed
        }))
      )

    /** Adds a job, or with a dedupe key already used returns that job. */
    const enqueue = (options: EnqueueOptions) =>
      Effect.gen(function*() {
        const maxAttempts = options.maxAttempts ?? 5
        yield* checkOptions(options, maxAttempts)
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
        const key = row.dedupe_key ?? ""
        const existing = yield* holderOf(key)
        yield* Effect.logInfo("Job already enqueued under this dedupe key").pipe(
          Effect.annotateLogs({ jobId: existing.id, jobKind: existing.kind, dedupeKey: key })
        )
        return { id: existing.id, created: false } satisfies Enqueued
      }).pipe(
        orDatabaseError,
        Effect.withSpan("Jobs.enqueue", { attributes: { "job.kind": options.kind } })
      )

    /**
     * Enqueues a job for `handler`, its payload type-checked and encoded with the handler's schema. A
     * payload that does not encode was built wrong by the caller: a defect.
     */
    const send = <A>(handler: JobHandler<A, unknown>, payload: A, options: Omit<EnqueueOptions, "kind" | "payload"> = {}) =>
      handler.encodePayload(payload).pipe(
        Effect.catchAll((error) =>
          Effect.dieMessage(`Invalid ${handler.kind} payload: ${ParseResult.TreeFormatter.formatErrorSync(error)}`)
        ),
        Effect.flatMap((encoded) => enqueue({ ...options, kind: handler.kind, payload: encoded }))
      )

    /** The job enqueued under a dedupe key, if any. */
    const statusByKey = (dedupeKey: string) =>
      repo.findByDedupeKey(dedupeKey).pipe(
        Effect.flatMap(Effect.transposeMapOption(toStatus)),
        orDatabaseError,
        Effect.withSpan("Jobs.statusByKey")
      )

    /** The newest of the job under `dedupeKey` and its follow-ups (keys `dedupeKey:...`), as `statusByKey` shows it. */
    const latestStatusByKey = (dedupeKey: string) =>
      repo.findLatestOfKey(dedupeKey).pipe(
        Effect.flatMap(Effect.transposeMapOption(toStatus)),
        orDatabaseError,
        Effect.withSpan("Jobs.latestStatusByKey")
      )

    /** Jobs due now, running, and failed for good, across all instances. */
    const backlog = repo.backlog.pipe(orDatabaseError, Effect.withSpan("Jobs.backlog"))

    return { enqueue, send, statusByKey, latestStatusByKey, backlog } as const
  }),
  dependencies: [JobsRepo.Default]
}) {}
