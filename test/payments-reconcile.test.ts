/**
 * Reconciliation: orders whose webhook never came are asked about at their provider (the doubles) and
 * completed through the webhook's own path, once; unpaid ones expire; and the pass runs by itself.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { PaymentsReconcileLive } from "../src/Background.js"
import { ReconcilePayments } from "../src/Payments/Reconcile.js"
import {
  balanceOf,
  buyer,
  createOrder,
  deliverRazorpay,
  deliverStripe,
  Doubles,
  ledgerAudit,
  ledgerCount,
  orderOf,
  PaymentsApp
} from "./support/payments.js"
import { runOnce } from "./support/jobs.js"
import { call, TestConfig, waitFor } from "./support/TestApp.js"

/** Runs one reconciliation pass as the worker runs it, and waits for it to finish. */
const reconcileOnce = runOnce(ReconcilePayments, {})

/** Makes an order look `minutes` old. */
const age = (orderId: string, minutes: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`UPDATE payment_orders SET created_at = now() - make_interval(mins => ${minutes}) WHERE id = ${orderId}`).pipe(Effect.orDie)

layer(PaymentsApp({ PAYMENTS_RECONCILE_AFTER: "10 minutes", PAYMENTS_EXPIRE_AFTER: "25 hours" }), { excludeTestServices: true })(
  "payment reconciliation",
  (it) => {
    it.effect("a paid order whose webhook never arrives is credited once by reconciliation; the webhook arriving afterwards changes nothing", () =>
      Effect.gen(function*() {
        const { stripe } = yield* Doubles
        const token = yield* buyer("reconcile-stripe")
        const before = yield* balanceOf(token)
        const order = yield* createOrder(token, { package_id: "popular", provider: "stripe" })
        const missed = stripe.pay(order.provider_order_id ?? "")
        // Too young to be asked about: nothing happens yet.
        yield* reconcileOnce
        expect(yield* balanceOf(token)).toBe(before)
        yield* age(order.id, 11)
        yield* reconcileOnce
        yield* reconcileOnce
        expect(yield* balanceOf(token)).toBe(before + 30)
        expect(yield* orderOf(token, order.id)).toMatchObject({ status: "paid", events: [{ event_type: "reconcile.paid", outcome: "credited" }] })
        expect((yield* deliverStripe(missed)).status).toBe(200)
        expect(yield* balanceOf(token)).toBe(before + 30)
        expect(yield* ledgerCount("reconcile-stripe", "purchase")).toBe(1)
        expect((yield* orderOf(token, order.id)).events.map((event) => event.outcome)).toEqual(["credited", "no_change"])
        yield* ledgerAudit
      }))

    it.effect("Razorpay: a captured payment found among the order's payments credits once", () =>
      Effect.gen(function*() {
        const { razorpay } = yield* Doubles
        const token = yield* buyer("reconcile-razorpay")
        const before = yield* balanceOf(token)
        const order = yield* createOrder(token, { package_id: "starter", provider: "razorpay" })
        const [captured, paid] = razorpay.capture(order.provider_order_id ?? "")
        yield* age(order.id, 30)
        yield* reconcileOnce
        expect(yield* balanceOf(token)).toBe(before + 10)
        yield* deliverRazorpay(captured)
        yield* deliverRazorpay(paid)
        expect(yield* ledgerCount("reconcile-razorpay", "purchase")).toBe(1)
        expect(yield* balanceOf(token)).toBe(before + 10)
        yield* ledgerAudit
      }))

    it.effect("an order nobody paid expires after PAYMENTS_EXPIRE_AFTER; a payment that still arrives credits it", () =>
      Effect.gen(function*() {
        const { razorpay } = yield* Doubles
        const token = yield* buyer("reconcile-expire")
        const before = yield* balanceOf(token)
        const order = yield* createOrder(token, { package_id: "starter", provider: "razorpay" })
        yield* age(order.id, 60)
        yield* reconcileOnce
        expect((yield* orderOf(token, order.id)).status).toBe("created")
        // A declined attempt, whose webhook was missed: the order is failed, and may still be paid.
        razorpay.fail(order.provider_order_id ?? "")
        yield* reconcileOnce
        expect(yield* orderOf(token, order.id)).toMatchObject({ status: "failed", failure_reason: expect.stringContaining("declined") })
        yield* age(order.id, 26 * 60)
        yield* reconcileOnce
        expect((yield* orderOf(token, order.id)).status).toBe("expired")
        const [captured] = razorpay.capture(order.provider_order_id ?? "")
        yield* deliverRazorpay(captured)
        expect(yield* orderOf(token, order.id)).toMatchObject({ status: "paid", credits_granted: 10 })
        expect(yield* balanceOf(token)).toBe(before + 10)
        yield* ledgerAudit
      }))

    it.effect("a provider that does not answer leaves the order waiting for the next pass", () =>
      Effect.gen(function*() {
        const { stripe } = yield* Doubles
        const token = yield* buyer("reconcile-outage")
        const before = yield* balanceOf(token)
        const order = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
        stripe.pay(order.provider_order_id ?? "")
        yield* age(order.id, 11)
        stripe.failNext(50, 503)
        yield* reconcileOnce
        expect((yield* orderOf(token, order.id)).status).toBe("created")
        stripe.failNext(0, 503)
        yield* reconcileOnce
        expect(yield* balanceOf(token)).toBe(before + 10)
        yield* ledgerAudit
      }))
  }
)

const everySecond = { PAYMENTS_RECONCILE_INTERVAL: "300 millis", PAYMENTS_RECONCILE_AFTER: "0 seconds" }

layer(
  PaymentsReconcileLive.pipe(Layer.provide(TestConfig(everySecond)), Layer.provideMerge(PaymentsApp(everySecond))),
  { excludeTestServices: true }
)("payment reconciliation on its timer", (it) => {
  it.effect("the pass is enqueued every PAYMENTS_RECONCILE_INTERVAL and credits a missed payment by itself", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("reconcile-timer")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
      stripe.pay(order.provider_order_id ?? "")
      const balance = call("GET", "/api/credits/balance", { token }).pipe(
        Effect.map((reply) => Schema.decodeUnknownSync(Schema.Struct({ balance: Schema.Number }))(reply.body).balance)
      )
      expect(yield* waitFor("the missed payment to be credited", balance, (b) => b === before + 10)).toBe(before + 10)
      yield* ledgerAudit
    }))
})
