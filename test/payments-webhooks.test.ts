/**
 * The webhooks under attack: concurrent redeliveries, forged and stale signatures, tampered amounts,
 * unknown orders, events out of order, refunds and disputes of credits already spent. Real PostgreSQL
 * decides the races; the providers are their doubles. Every test ends with the ledger audit.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { randomUUID } from "node:crypto"
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
  PaymentsApp,
  secrets
} from "./support/payments.js"
import { call, refused } from "./support/TestApp.js"

const storedEvents = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ n: number }>`SELECT count(*)::int AS n FROM payment_events`).pipe(Effect.map((rows) => rows[0]?.n ?? 0), Effect.orDie)

const paymentIdOf = (body: unknown) =>
  Schema.decodeUnknownSync(Schema.Struct({
    payload: Schema.Struct({ payment: Schema.Struct({ entity: Schema.Struct({ id: Schema.String }) }) })
  }))(body).payload.payment.entity.id

/** Spends `amount` credits as an insight unlock would: a charge in the ledger. */
const spend = (userId: string, amount: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`WITH u AS (UPDATE users SET credit_balance = credit_balance - ${amount} WHERE id = ${userId} RETURNING credit_balance)
        INSERT INTO credit_transactions (user_id, kind, amount, balance_after, reference, description)
        SELECT ${userId}, 'charge', ${-amount}, credit_balance, ${`test-spend:${randomUUID()}`}, 'spent in a test' FROM u`).pipe(Effect.orDie)

layer(PaymentsApp(), { excludeTestServices: true })("payment webhooks", (it) => {
  it.effect("30 concurrent deliveries of the same paid event credit once", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("hooks-30")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
      const event = stripe.pay(order.provider_order_id ?? "")
      const replies = yield* Effect.all(Array.from({ length: 30 }, () => deliverStripe(event)), { concurrency: "unbounded" })
      expect(replies.map((reply) => reply.status)).toEqual(Array.from({ length: 30 }, () => 200))
      expect(replies.filter((reply) => JSON.stringify(reply.body).includes("\"first_delivery\":true"))).toHaveLength(1)
      expect(yield* balanceOf(token)).toBe(before + 10)
      expect(yield* ledgerCount("hooks-30", "purchase")).toBe(1)
      yield* ledgerAudit
    }))

  it.effect("Razorpay's payment.captured and order.paid for one payment, 15 of each interleaved at once, credit once", () =>
    Effect.gen(function*() {
      const { razorpay } = yield* Doubles
      const token = yield* buyer("hooks-razorpay-30")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "power", provider: "razorpay" })
      const [captured, paid] = razorpay.capture(order.provider_order_id ?? "")
      const deliveries = Array.from({ length: 30 }, (_, i) => deliverRazorpay(i % 2 === 0 ? captured : paid))
      const replies = yield* Effect.all(deliveries, { concurrency: "unbounded" })
      expect(new Set(replies.map((reply) => reply.status))).toEqual(new Set([200]))
      expect(yield* balanceOf(token)).toBe(before + 200)
      expect(yield* ledgerCount("hooks-razorpay-30", "purchase")).toBe(1)
      yield* ledgerAudit
    }))

  it.effect("a bad, missing, stale, foreign or over-another-body signature is a 400 that stores nothing; the genuine one then credits", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("hooks-forged")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
      const event = stripe.pay(order.provider_order_id ?? "")
      const stored = yield* storedEvents
      const body = JSON.stringify(event)
      const tampered = JSON.stringify({ ...event, type: "checkout.session.completed", id: "evt_other" })
      const attempts = [
        yield* deliverStripe(event, { header: null }),
        yield* deliverStripe(event, { header: "garbage" }),
        yield* deliverStripe(event, { header: stripe.sign(body, { secret: "whsec_someone_else" }) }),
        yield* deliverStripe(event, { timestamp: Math.floor(Date.now() / 1000) - 10 * 60 }),
        yield* deliverStripe(event, { header: stripe.sign(body), body: tampered })
      ]
      for (const reply of attempts) refused(reply, 400, "invalid_signature", "Stripe")
      expect(yield* storedEvents).toBe(stored)
      expect(yield* balanceOf(token)).toBe(before)
      expect((yield* deliverStripe(event)).status).toBe(200)
      expect(yield* balanceOf(token)).toBe(before + 10)
      yield* ledgerAudit
    }))

  it.effect("Razorpay: a missing, foreign or over-another-body signature is a 400 that stores nothing", () =>
    Effect.gen(function*() {
      const { razorpay } = yield* Doubles
      const token = yield* buyer("hooks-forged-razorpay")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "starter", provider: "razorpay" })
      const [captured] = razorpay.capture(order.provider_order_id ?? "")
      const stored = yield* storedEvents
      const body = JSON.stringify(captured.payload)
      const attempts = [
        yield* deliverRazorpay(captured, { signature: null }),
        yield* deliverRazorpay(captured, { secret: "not-our-secret" }),
        yield* deliverRazorpay(captured, { signature: razorpay.sign(body, secrets.razorpayWebhook), body: body.replace("captured", "authorized") })
      ]
      for (const reply of attempts) refused(reply, 400, "invalid_signature", "Razorpay")
      expect(yield* storedEvents).toBe(stored)
      expect(yield* balanceOf(token)).toBe(before)
      yield* ledgerAudit
    }))

  it.effect("a validly signed event with another amount or currency, or for an order that is not ours, credits nothing", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("hooks-tampered")
      const before = yield* balanceOf(token)
      const cheap = yield* createOrder(token, { package_id: "power", provider: "stripe" })
      expect((yield* deliverStripe(stripe.pay(cheap.provider_order_id ?? "", { amount: 1 }))).status).toBe(200)
      const foreign = yield* createOrder(token, { package_id: "power", provider: "stripe" })
      expect((yield* deliverStripe(stripe.pay(foreign.provider_order_id ?? "", { currency: "inr" }))).status).toBe(200)
      // A session we never made, naming an order id that does not exist.
      const stranger = stripe.event("checkout.session.completed", {
        id: "cs_test_not_ours",
        object: "checkout.session",
        payment_status: "paid",
        status: "complete",
        amount_total: 5999,
        currency: "usd",
        client_reference_id: randomUUID(),
        metadata: {},
        payment_intent: "pi_not_ours"
      })
      const unknown = yield* deliverStripe(stranger)
      expect(unknown.status).toBe(200)
      expect(yield* balanceOf(token)).toBe(before)
      expect((yield* orderOf(token, cheap.id))).toMatchObject({ status: "created", credits_granted: 0, events: [{ outcome: "mismatch" }] })
      expect((yield* orderOf(token, foreign.id)).events).toMatchObject([{ outcome: "mismatch" }])
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ outcome: string; processed: boolean }>`
        SELECT outcome, processed_at IS NOT NULL AS processed FROM payment_events WHERE provider_event_id = ${stranger.id}`
      expect(row).toEqual({ outcome: "unknown_order", processed: true })
      yield* ledgerAudit
    }))

  it.effect("a second, different payment for an order already paid credits nothing and is recorded for a refund", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("hooks-paid-twice")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
      const paid = stripe.pay(order.provider_order_id ?? "")
      yield* deliverStripe(paid)
      yield* deliverStripe(stripe.event("checkout.session.completed", { ...paid.data.object, payment_intent: "pi_second_payment" }))
      expect(yield* balanceOf(token)).toBe(before + 10)
      expect((yield* orderOf(token, order.id)).events.map((event) => event.outcome)).toEqual(["credited", "duplicate_payment"])
      yield* ledgerAudit
    }))

  it.effect("a full refund takes the credits back once; a redelivery or a second event for the same refund changes nothing", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("hooks-refund")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "popular", provider: "stripe" })
      yield* deliverStripe(stripe.pay(order.provider_order_id ?? ""))
      expect(yield* balanceOf(token)).toBe(before + 30)
      const refunded = stripe.refund(order.provider_order_id ?? "")
      expect((yield* deliverStripe(refunded)).status).toBe(200)
      expect((yield* deliverStripe(refunded)).body).toEqual({ received: true, first_delivery: false })
      // Stripe may describe the same refund again in a new event (say, after a metadata update).
      yield* deliverStripe(stripe.event("charge.refunded", refunded.data.object))
      expect(yield* balanceOf(token)).toBe(before)
      expect(yield* ledgerCount("hooks-refund", "reversal")).toBe(1)
      expect(yield* orderOf(token, order.id)).toMatchObject({
        status: "paid",
        refunded_amount: 1199,
        credits_reversed: 30,
        credits_owed: 0
      })
      yield* ledgerAudit
    }))

  it.effect("a partial refund takes back its share of the credits, rounded up; the rest of the refund takes the rest", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("hooks-partial")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "best-value", provider: "stripe" })
      yield* deliverStripe(stripe.pay(order.provider_order_id ?? ""))
      yield* deliverStripe(stripe.refund(order.provider_order_id ?? "", 1000))
      // 75 credits for 2499 cents: 1000 cents are 30.01 credits, so 31 are taken.
      expect(yield* balanceOf(token)).toBe(before + 75 - 31)
      yield* deliverStripe(stripe.refund(order.provider_order_id ?? "", 1499))
      expect(yield* balanceOf(token)).toBe(before)
      expect(yield* orderOf(token, order.id)).toMatchObject({ refunded_amount: 2499, credits_reversed: 75 })
      yield* ledgerAudit
    }))

  it.effect("credits spent before a refund are recorded as owed (the balance stays at zero) and taken from the next purchase", () =>
    Effect.gen(function*() {
      const { razorpay } = yield* Doubles
      const token = yield* buyer("hooks-owed")
      const order = yield* createOrder(token, { package_id: "popular", provider: "razorpay" })
      const [captured] = razorpay.capture(order.provider_order_id ?? "")
      yield* deliverRazorpay(captured)
      const balance = yield* balanceOf(token)
      yield* spend("hooks-owed", balance - 5)
      const paymentId = paymentIdOf(captured.payload)
      yield* deliverRazorpay(razorpay.refund(paymentId))
      expect(yield* balanceOf(token)).toBe(0)
      expect(yield* orderOf(token, order.id)).toMatchObject({ credits_reversed: 5, credits_owed: 25 })
      const next = yield* createOrder(token, { package_id: "power", provider: "razorpay" })
      const [nextCaptured] = razorpay.capture(next.provider_order_id ?? "")
      yield* deliverRazorpay(nextCaptured)
      expect(yield* balanceOf(token)).toBe(200 - 25)
      expect(yield* orderOf(token, order.id)).toMatchObject({ credits_reversed: 30, credits_owed: 0 })
      yield* ledgerAudit
    }))

  it.effect("out of order: a late expiry or failure never un-pays; a refund before its payment is held, then applied", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("hooks-order")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
      const session = order.provider_order_id ?? ""
      const paid = stripe.pay(session)
      const refunded = stripe.refund(session)
      // The refund arrives first: held until the payment is known.
      expect((yield* deliverStripe(refunded)).status).toBe(200)
      expect(yield* balanceOf(token)).toBe(before)
      yield* deliverStripe(paid)
      expect(yield* balanceOf(token)).toBe(before)
      expect(yield* orderOf(token, order.id)).toMatchObject({ status: "paid", credits_granted: 10, credits_reversed: 10 })
      // Late and stale news about the session, as a delayed or replayed delivery would bring it.
      yield* deliverStripe(stripe.event("checkout.session.expired", { ...paid.data.object, status: "expired" }))
      yield* deliverStripe(stripe.event("checkout.session.async_payment_failed", paid.data.object))
      expect((yield* orderOf(token, order.id)).status).toBe("paid")

      const second = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
      yield* deliverStripe(stripe.expire(second.provider_order_id ?? ""))
      expect((yield* orderOf(token, second.id)).status).toBe("expired")
      yield* ledgerAudit
    }))

  it.effect("a dispute takes the credits back; delayed payment methods credit only when the payment succeeds", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("hooks-dispute")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
      const session = order.provider_order_id ?? ""
      yield* deliverStripe(stripe.payAsync(session))
      expect(yield* balanceOf(token)).toBe(before)
      yield* deliverStripe(stripe.asyncSucceeded(session))
      expect(yield* balanceOf(token)).toBe(before + 10)
      yield* deliverStripe(stripe.dispute(session))
      expect(yield* balanceOf(token)).toBe(before)
      expect(yield* orderOf(token, order.id)).toMatchObject({ disputed_amount: 499, credits_reversed: 10 })

      const failing = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
      yield* deliverStripe(stripe.payAsync(failing.provider_order_id ?? ""))
      yield* deliverStripe(stripe.asyncFailed(failing.provider_order_id ?? ""))
      expect(yield* orderOf(token, failing.id)).toMatchObject({ status: "failed", credits_granted: 0 })
      expect(yield* balanceOf(token)).toBe(before)
      refused(yield* call("GET", `/api/payments/orders/${failing.id}`, { token: yield* buyer("hooks-dispute-other") }), 404, "not_found")
      yield* ledgerAudit
    }))
})
