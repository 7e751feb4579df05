/**
 * Periodic jobs: every instance offers to enqueue one run per interval under a dedupe key naming the
 * interval, so a cluster runs one per interval whatever its size, and the run is retried like any job.
 */
import { Duration, Effect, Layer, Schedule } from "effect"
import type { JobHandler } from "./Handler.js"
import { Jobs } from "./Jobs.js"

/** Enqueues a run of `handler` with `payload` every `interval` while the instance runs. */
export const periodic = <A>(handler: JobHandler<A, unknown>, payload: A, interval: Duration.Duration) =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      const jobs = yield* Jobs
      const every = Duration.toMillis(interval)
      const enqueue = Effect.suspend(() =>
        jobs.send(handler, payload, { dedupeKey: `${handler.kind}:${Math.floor(Date.now() / every)}`, maxAttempts: 3 })
      ).pipe(
        Effect.catchAll((error) =>
          Effect.logWarning("Could not enqueue a periodic job", error).pipe(Effect.annotateLogs({ jobKind: handler.kind }))
        )
      )
      yield* Effect.forkScoped(Effect.repeat(enqueue, Schedule.spaced(interval)))
    })
  )
