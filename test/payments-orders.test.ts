/**
 * Orders: priced from the catalogue, made at the provider (Stripe's and Razorpay's doubles, through the
 * real SDKs), idempotent, failed cleanly when the provider is down, readable only by their owner, and
 * paid end to end through the webhooks.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Order } from "../src/Domain/Payments.js"
import {
  balanceOf,
  buyer,
  createOrder,
  deliverRazorpay,
  deliverStripe,
  Doubles,
  ledgerAudit,
  orderOf,
  PaymentsApp
} from "./support/payments.js"
import { call, refused, send, TestApp, tokenFor } from "./support/TestApp.js"

layer(TestApp(), { excludeTestServices: true })("payments without keys", (it) => {
  it.effect("orders and webhooks answer 503 payments_unavailable naming the missing settings; the rest runs", () =>
    Effect.gen(function*() {
      const token = yield* buyer("no-keys")
      const stripe = yield* call("POST", "/api/payments/orders", { token, json: { package_id: "starter", provider: "stripe" } })
      refused(stripe, 503, "payments_unavailable", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
      expect(stripe.headers["retry-after"]).toBeDefined()
      const razorpay = yield* call("POST", "/api/payments/orders", { token, json: { package_id: "starter", provider: "razorpay" } })
      refused(razorpay, 503, "payments_unavailable", "RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET")
      const hook = yield* send("POST", "/api/payments/webhooks/stripe", { body: "{}", contentType: "application/json" })
      refused(hook, 503, "payments_unavailable", "STRIPE_SECRET_KEY")
      expect((yield* call("GET", "/api/credits/balance", { token })).status).toBe(200)
      expect((yield* call("GET", "/api/payments/orders", { token })).body).toMatchObject({ data: [], has_more: false })
    }))
})

layer(PaymentsApp(), { excludeTestServices: true })("payment orders", (it) => {
  it.effect("a Stripe order is priced from the catalogue in USD and made as a Checkout Session naming our order", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("orders-stripe")
      const order = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
      expect(order).toMatchObject({ status: "created", provider: "stripe", amount: 499, currency: "USD", credits: 10, razorpay: null })
      const session = stripe.sessions.get(order.provider_order_id ?? "")
      expect(session).toMatchObject({
        object: "checkout.session",
        client_reference_id: order.id,
        metadata: { order_id: order.id, package_id: "starter" },
        amount_total: 499,
        currency: "usd",
        url: order.checkout_url
      })
      expect(stripe.requests.find((request) => request.path === "/v1/checkout/sessions")?.idempotencyKey)
        .toBe(`chatsight-order-${order.id}`)
      yield* ledgerAudit
    }))

  it.effect("a Razorpay order is priced in INR by default; the answer carries what its Checkout needs", () =>
    Effect.gen(function*() {
      const { razorpay } = yield* Doubles
      const token = yield* buyer("orders-razorpay")
      const order = yield* createOrder(token, { package_id: "popular", provider: "razorpay" })
      expect(order).toMatchObject({ provider: "razorpay", amount: 99900, currency: "INR", credits: 30, checkout_url: null })
      expect(order.razorpay).toEqual({ key_id: "rzp_test_chatsight", order_id: order.provider_order_id })
      expect(razorpay.orders.get(order.provider_order_id ?? "")).toMatchObject({
        amount: 99900,
        currency: "INR",
        receipt: order.id,
        notes: { order_id: order.id, package_id: "popular" }
      })
      // Stripe may sell in INR too, and Razorpay in USD: the currency is the client's choice among the prices.
      const usd = yield* createOrder(token, { package_id: "popular", provider: "razorpay", currency: "usd" })
      expect(usd).toMatchObject({ amount: 1199, currency: "USD" })
    }))

  it.effect("the price is the catalogue's: a currency without a price and an unknown package are 400s; a client's amount is ignored", () =>
    Effect.gen(function*() {
      const token = yield* buyer("orders-prices")
      const eur = yield* call("POST", "/api/payments/orders", { token, json: { package_id: "starter", provider: "stripe", currency: "EUR" } })
      refused(eur, 400, "validation_error", "currency", "EUR", "INR, USD")
      const unknown = yield* call("POST", "/api/payments/orders", { token, json: { package_id: "gold", provider: "stripe" } })
      refused(unknown, 400, "validation_error", "package_id", "gold")
      const provider = yield* call("POST", "/api/payments/orders", { token, json: { package_id: "starter", provider: "paypal" } })
      refused(provider, 400, "validation_error", "provider")
      const priced = yield* call("POST", "/api/payments/orders", {
        token,
        json: { package_id: "starter", provider: "stripe", amount: 1, credits: 1000 }
      })
      expect(priced.status).toBe(201)
      expect(priced.body).toMatchObject({ amount: 499, credits: 10 })
      const stranger = yield* call("POST", "/api/payments/orders", {
        token: yield* tokenFor("orders-no-account"),
        json: { package_id: "starter", provider: "stripe" }
      })
      refused(stranger, 404, "not_found", "POST /api/users/store")
    }))

  it.effect("an Idempotency-Key gives the same order back, with one checkout at the provider; reused for another order it is a 409", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("orders-idempotent")
      const before = stripe.requests.filter((request) => request.method === "POST").length
      const first = yield* createOrder(token, { package_id: "starter", provider: "stripe" }, "key-1")
      const again = yield* createOrder(token, { package_id: "starter", provider: "stripe" }, "key-1")
      expect(again).toEqual(first)
      expect(stripe.requests.filter((request) => request.method === "POST").length - before).toBe(1)
      const other = yield* call("POST", "/api/payments/orders", {
        token,
        json: { package_id: "power", provider: "stripe" },
        headers: { "idempotency-key": "key-1" }
      })
      refused(other, 409, "conflict", "Idempotency-Key")
      // Concurrent requests with one key make one order.
      const key = "key-concurrent"
      const replies = yield* Effect.all(
        Array.from({ length: 8 }, () =>
          call("POST", "/api/payments/orders", { token, json: { package_id: "starter", provider: "stripe" }, headers: { "idempotency-key": key } })),
        { concurrency: "unbounded" }
      )
      const ids = new Set(replies.filter((reply) => reply.status === 201).map((reply) => Schema.decodeUnknownSync(Order)(reply.body).id))
      expect(ids.size).toBe(1)
      for (const reply of replies) expect([201, 409]).toContain(reply.status)
    }))

  it.effect("when the provider fails the order is marked failed, the answer is 503 with Retry-After, and nothing is charged; the same key retries", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("orders-outage")
      const balance = yield* balanceOf(token)
      stripe.failNext(5, 500)
      const down = yield* call("POST", "/api/payments/orders", {
        token,
        json: { package_id: "starter", provider: "stripe" },
        headers: { "idempotency-key": "outage" }
      })
      refused(down, 503, "upstream_unavailable", "Stripe")
      expect(down.headers["retry-after"]).toBeDefined()
      const listed = yield* call("GET", "/api/payments/orders", { token })
      expect(listed.body).toMatchObject({ data: [{ status: "failed", provider_order_id: null, credits_granted: 0 }] })
      expect(yield* balanceOf(token)).toBe(balance)
      stripe.failNext(0, 500)
      const retried = yield* createOrder(token, { package_id: "starter", provider: "stripe" }, "outage")
      expect(retried).toMatchObject({ status: "created", failure_reason: null })
      expect(retried.provider_order_id).not.toBeNull()
      yield* ledgerAudit
    }))

  it.effect("an order is its owner's alone (404 for anyone else), and the list pages newest first", () =>
    Effect.gen(function*() {
      const owner = yield* buyer("orders-owner")
      const other = yield* buyer("orders-other")
      const made = []
      for (const packageId of ["starter", "popular", "best-value"]) {
        made.push(yield* createOrder(owner, { package_id: packageId, provider: "stripe" }))
      }
      refused(yield* call("GET", `/api/payments/orders/${made[0]?.id}`, { token: other }), 404, "not_found")
      refused(yield* call("GET", "/api/payments/orders/not-a-uuid", { token: owner }), 400, "validation_error", "order_id")
      expect((yield* call("GET", "/api/payments/orders", { token: other })).body).toMatchObject({ data: [] })
      const Page = Schema.Struct({ data: Schema.Array(Order), has_more: Schema.Boolean, next_cursor: Schema.NullOr(Schema.String) })
      const first = Schema.decodeUnknownSync(Page)((yield* call("GET", "/api/payments/orders?limit=2", { token: owner })).body)
      expect(first.data.map((order) => order.package_id)).toEqual(["best-value", "popular"])
      expect(first.has_more).toBe(true)
      const second = Schema.decodeUnknownSync(Page)(
        (yield* call("GET", `/api/payments/orders?limit=2&starting_after=${first.next_cursor}`, { token: owner })).body
      )
      expect(second.data.map((order) => order.package_id)).toEqual(["starter"])
      expect(second.has_more).toBe(false)
      refused(yield* call("GET", "/api/payments/orders?starting_after=bogus", { token: owner }), 400, "validation_error", "starting_after")
    }))

  it.effect("a Stripe purchase end to end: paid at the double, the webhook credits the package, the order shows it", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("orders-e2e-stripe")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "popular", provider: "stripe" })
      const reply = yield* deliverStripe(stripe.pay(order.provider_order_id ?? ""))
      expect(reply.status).toBe(200)
      expect(reply.body).toEqual({ received: true, first_delivery: true })
      expect(yield* balanceOf(token)).toBe(before + 30)
      const paid = yield* orderOf(token, order.id)
      expect(paid).toMatchObject({ status: "paid", credits_granted: 30, events: [{ event_type: "checkout.session.completed", outcome: "credited" }] })
      expect(paid.paid_at).not.toBeNull()
      const ledger = yield* call("GET", "/api/credits/transactions?limit=1", { token })
      expect(ledger.body).toMatchObject({ data: [{ kind: "purchase", amount: 30, reference: `payment:${order.id}` }] })
      yield* ledgerAudit
    }))

  it.effect("a Razorpay purchase end to end: payment.captured credits, order.paid for the same payment changes nothing", () =>
    Effect.gen(function*() {
      const { razorpay } = yield* Doubles
      const token = yield* buyer("orders-e2e-razorpay")
      const before = yield* balanceOf(token)
      const order = yield* createOrder(token, { package_id: "starter", provider: "razorpay" })
      const [captured, orderPaid] = razorpay.capture(order.provider_order_id ?? "")
      expect((yield* deliverRazorpay(captured)).status).toBe(200)
      expect((yield* deliverRazorpay(orderPaid)).status).toBe(200)
      expect(yield* balanceOf(token)).toBe(before + 10)
      expect((yield* orderOf(token, order.id)).events.map((event) => event.outcome)).toEqual(["credited", "no_change"])
      yield* ledgerAudit
    }))
})
