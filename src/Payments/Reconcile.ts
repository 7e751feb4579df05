/**
 * Reconciliation as a periodic worker job. Every instance offers to enqueue one run per interval, under
 * a dedupe key naming the interval, so a cluster runs one pass per interval whatever its size; the job
 * is retried like any other when a pass fails.
 */
import { Duration, Effect, Layer, Schedule, Schema } from "effect"
import { PaymentsConfig } from "../Config.js"
import { Payments } from "../Payments.js"
import { jobHandler } from "../Worker/Handler.js"
import { Jobs } from "../Worker/Jobs.js"

export const ReconcilePayments = jobHandler({
  kind: "payments.reconcile",
  payload: Schema.Struct({}),
  run: () => Effect.flatMap(Payments, (payments) => payments.reconcile)
})

/** Enqueues a reconciliation pass at every interval while the instance runs. */
export const ReconcileScheduleLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { reconcileInterval } = yield* PaymentsConfig
    const jobs = yield* Jobs
    const every = Duration.toMillis(reconcileInterval)
    const enqueue = Effect.suspend(() =>
      jobs.send(ReconcilePayments, {}, { dedupeKey: `payments.reconcile:${Math.floor(Date.now() / every)}`, maxAttempts: 3 })
    ).pipe(
      Effect.catchAll((error) => Effect.logWarning("Could not enqueue payment reconciliation", error))
    )
    yield* Effect.forkScoped(Effect.repeat(enqueue, Schedule.spaced(reconcileInterval)))
  })
)
