/** Reconciliation as a periodic worker job (one pass per PAYMENTS_RECONCILE_INTERVAL across instances). */
import { Effect, Layer, Schema } from "effect"
import { PaymentsConfig } from "../Config.js"
import { Payments } from "../Payments.js"
import { jobHandler } from "../Worker/Handler.js"
import { periodic } from "../Worker/Periodic.js"

export const ReconcilePayments = jobHandler({
  kind: "payments.reconcile",
  payload: Schema.Struct({}),
  run: () => Effect.flatMap(Payments, (payments) => payments.reconcile)
})

/** Enqueues a reconciliation pass at every interval while the instance runs. */
export const ReconcileScheduleLive = Layer.unwrapEffect(
  Effect.map(PaymentsConfig, ({ reconcileInterval }) => periodic(ReconcilePayments, {}, reconcileInterval))
)
