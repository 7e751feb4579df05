/**
 * The application with both payment providers pointed at their local doubles, and what payment tests
 * share: a buyer, orders, signed deliveries to the webhooks, and the ledger audit every test ends with.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Schema } from "effect"
import { expect } from "vitest"
import { Order } from "../../src/Domain/Payments.js"
import { type RazorpayDelivery, type RazorpayDouble, startRazorpayDouble } from "./razorpayDouble.js"
import { type StripeDouble, type StripeEvent, startStripeDouble } from "./stripeDouble.js"
import { call, send, TestAppWithWorker, tokenFor } from "./TestApp.js"

export const secrets = {
  stripeKey: "sk_test_chatsight",
  stripeWebhook: "whsec_chatsight_test",
  razorpayKeyId: "rzp_test_chatsight",
  razorpayKeySecret: "razorpay-key-secret",
  razorpayWebhook: "razorpay-webhook-secret"
}

export class Doubles extends Context.Tag("test/PaymentDoubles")<Doubles, {
  readonly stripe: StripeDouble
  readonly razorpay: RazorpayDouble
}>() {}

/** The environment that points the server's SDKs at the doubles. */
export const paymentsEnv = (doubles: { readonly stripe: StripeDouble; readonly razorpay: RazorpayDouble }) => ({
  STRIPE_SECRET_KEY: secrets.stripeKey,
  STRIPE_WEBHOOK_SECRET: secrets.stripeWebhook,
  STRIPE_API_URL: doubles.stripe.url,
  RAZORPAY_KEY_ID: secrets.razorpayKeyId,
  RAZORPAY_KEY_SECRET: secrets.razorpayKeySecret,
  RAZORPAY_WEBHOOK_SECRET: secrets.razorpayWebhook,
  RAZORPAY_API_URL: doubles.razorpay.url,
  PAYMENTS_PROVIDER_TIMEOUT: "5 seconds"
})

/** Both doubles, closed with the scope. */
export const startDoubles = Effect.gen(function*() {
  const stripe = yield* Effect.acquireRelease(
    Effect.promise(() => startStripeDouble({ webhookSecret: secrets.stripeWebhook })),
    (double) => Effect.promise(() => double.close())
  )
  const razorpay = yield* Effect.acquireRelease(
    Effect.promise(() =>
      startRazorpayDouble({
        keyId: secrets.razorpayKeyId,
        keySecret: secrets.razorpayKeySecret,
        webhookSecret: secrets.razorpayWebhook
      })
    ),
    (double) => Effect.promise(() => double.close())
  )
  return { stripe, razorpay }
})

/** `TestAppWithWorker` with payments on, against the doubles (given in context as `Doubles`). */
export const PaymentsApp = (config: Record<string, string> = {}) =>
  Layer.unwrapScoped(Effect.map(startDoubles, (doubles) =>
    TestAppWithWorker({ RATE_LIMITS: "false", ...paymentsEnv(doubles), ...config }).pipe(
      Layer.merge(Layer.succeed(Doubles, doubles))
    )))

/** A user with an account (and its welcome credits). */
export const buyer = (sub: string) =>
  Effect.gen(function*() {
    const token = yield* tokenFor(sub)
    expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
    return token
  })

const decodeOrder = Schema.decodeUnknownSync(Order)

/** Creates an order and checks it was created (201). */
export const createOrder = (
  token: string,
  body: { readonly package_id: string; readonly provider: "stripe" | "razorpay"; readonly currency?: string },
  idempotencyKey?: string
) =>
  Effect.gen(function*() {
    const reply = yield* call("POST", "/api/payments/orders", {
      token,
      json: body,
      ...(idempotencyKey === undefined ? {} : { headers: { "idempotency-key": idempotencyKey } })
    })
    expect(reply.status, JSON.stringify(reply.body)).toBe(201)
    return decodeOrder(reply.body)
  })

/** Posts a Stripe event to our webhook, signed as Stripe signs (or as `options` spoil it). */
export const deliverStripe = (
  event: StripeEvent,
  options: { readonly secret?: string; readonly timestamp?: number; readonly header?: string | null; readonly body?: string } = {}
) =>
  Effect.gen(function*() {
    const { stripe } = yield* Doubles
    const body = JSON.stringify(event)
    const header = options.header === undefined
      ? stripe.sign(body, { secret: options.secret ?? secrets.stripeWebhook, ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }) })
      : options.header
    return yield* send("POST", "/api/payments/webhooks/stripe", {
      body: options.body ?? body,
      contentType: "application/json",
      headers: header === null ? {} : { "stripe-signature": header }
    })
  })

/** Posts a Razorpay delivery to our webhook, signed as Razorpay signs (or as `options` spoil it). */
export const deliverRazorpay = (
  delivery: RazorpayDelivery,
  options: { readonly secret?: string; readonly signature?: string | null; readonly body?: string } = {}
) =>
  Effect.gen(function*() {
    const { razorpay } = yield* Doubles
    const body = JSON.stringify(delivery.payload)
    const signature = options.signature === undefined ? razorpay.sign(body, options.secret ?? secrets.razorpayWebhook) : options.signature
    return yield* send("POST", "/api/payments/webhooks/razorpay", {
      body: options.body ?? body,
      contentType: "application/json",
      headers: {
        "x-razorpay-event-id": delivery.eventId,
        ...(signature === null ? {} : { "x-razorpay-signature": signature })
      }
    })
  })

/** The caller's balance. */
export const balanceOf = (token: string) =>
  Effect.map(call("GET", "/api/credits/balance", { token }), (reply) =>
    Schema.decodeUnknownSync(Schema.Struct({ balance: Schema.Number }))(reply.body).balance)

/** One order as its owner reads it. */
export const orderOf = (token: string, orderId: string) =>
  Effect.map(call("GET", `/api/payments/orders/${orderId}`, { token }), (reply) => {
    expect(reply.status).toBe(200)
    return Schema.decodeUnknownSync(Schema.Struct({
      ...Order.fields,
      events: Schema.Array(Schema.Struct({ event_type: Schema.String, outcome: Schema.NullOr(Schema.String) }))
    }))(reply.body)
  })

/** Every user's stored balance equals their ledger's sum, and none is negative. */
export const ledgerAudit = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const off = yield* sql<{ id: string; balance: number; ledger: number }>`
    SELECT u.id, u.credit_balance AS balance, coalesce(sum(t.amount), 0)::int AS ledger
    FROM users u LEFT JOIN credit_transactions t ON t.user_id = u.id
    GROUP BY u.id HAVING u.credit_balance <> coalesce(sum(t.amount), 0) OR u.credit_balance < 0`
  expect(off).toEqual([])
}).pipe(Effect.orDie)

/** How many ledger entries of `kind` the user has. */
export const ledgerCount = (userId: string, kind: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM credit_transactions WHERE user_id = ${userId} AND kind = ${kind}`
    return rows[0]?.n ?? 0
  }).pipe(Effect.orDie)
