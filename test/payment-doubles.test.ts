/**
 * The payment doubles keep Stripe's and Razorpay's contracts: driven through the real SDKs, they answer with
 * the providers' shapes and errors, and their webhooks pass the SDKs' own signature checks.
 */
import { readFileSync } from "node:fs"
import type * as Http from "node:http"
import Razorpay from "razorpay"
import { validatePaymentVerification } from "razorpay/dist/utils/razorpay-utils.js"
import Stripe from "stripe"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isObject, type JsonObject } from "./support/qdrantContract.js"
import { type RazorpayDouble, startRazorpayDouble } from "./support/razorpayDouble.js"
import { serve } from "./support/paymentDoubleHttp.js"
import { type StripeDouble, stripeFixturesPath, startStripeDouble } from "./support/stripeDouble.js"

interface Received { readonly headers: Http.IncomingHttpHeaders; readonly body: string }

/** A webhook endpoint that keeps what it is sent. */
const startReceiver = async () => {
  const received: Array<Received> = []
  const server = await serve("127.0.0.1", 0, async ({ headers, body }) => {
    received.push({ headers, body })
    return { status: 200, json: { received: true } }
  })
  return { ...server, received, last: () => received.at(-1) ?? expect.fail("the receiver got nothing") }
}

const example = (name: string): JsonObject => {
  const parsed: unknown = JSON.parse(readFileSync(stripeFixturesPath, "utf8"))
  const found = isObject(parsed) && isObject(parsed["resources"]) ? parsed["resources"][name] : undefined
  return isObject(found) ? found : expect.fail(`no ${name} example`)
}
const keys = (o: object) => Object.keys(o).sort()
const header = (r: Received, name: string) => r.headers[name]
const eventName = (r: Received) => {
  const body: unknown = JSON.parse(r.body)
  return isObject(body) ? body["event"] : undefined
}

/** The Razorpay SDK has no base-URL option; its axios instance (a function object, untyped) takes one. */
const pointAt = (client: Razorpay, url: string) => {
  const http: unknown = Reflect.get(client.api, "rq")
  const defaults: unknown = typeof http === "function" ? Reflect.get(http, "defaults") : undefined
  if (typeof defaults !== "object" || defaults === null) return expect.fail("the SDK no longer exposes api.rq.defaults")
  Reflect.set(defaults, "baseURL", url)
  return client
}

const stripeWebhookSecret = "whsec_test_double"
const rzp = { keyId: "rzp_test_double", keySecret: "rzp_test_secret", webhookSecret: "rzp_webhook_secret" }

let receiver: Awaited<ReturnType<typeof startReceiver>>
let stripeDouble: StripeDouble
let razorpayDouble: RazorpayDouble
let stripe: Stripe
let razorpay: Razorpay

beforeAll(async () => {
  receiver = await startReceiver()
  stripeDouble = await startStripeDouble({ webhookSecret: stripeWebhookSecret, webhookUrl: `${receiver.url}/stripe` })
  razorpayDouble = await startRazorpayDouble({ ...rzp, webhookUrl: `${receiver.url}/razorpay` })
  stripe = new Stripe("sk_test_double", { host: "127.0.0.1", port: stripeDouble.port, protocol: "http", maxNetworkRetries: 0 })
  razorpay = pointAt(new Razorpay({ key_id: rzp.keyId, key_secret: rzp.keySecret }), razorpayDouble.url)
})
afterAll(async () => {
  await Promise.all([receiver.close(), stripeDouble.close(), razorpayDouble.close()])
})

const createSession = (idempotencyKey: string, clientReference = "user-1") =>
  stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [
      { price_data: { currency: "USD", unit_amount: 499, product_data: { name: "Starter pack" } }, quantity: 1 },
      { price_data: { currency: "USD", unit_amount: 100, product_data: { name: "Extra credit" } }, quantity: 2 }
    ],
    metadata: { order_id: `order-${idempotencyKey}` },
    client_reference_id: clientReference,
    success_url: "https://chatsight.test/paid?session={CHECKOUT_SESSION_ID}",
    cancel_url: "https://chatsight.test/cancelled"
  }, { idempotencyKey })

describe("the Stripe double", () => {
  it("creates a checkout session shaped like Stripe's example, through the SDK", async () => {
    const session = await createSession("key-shape")
    expect(keys(session)).toEqual(keys(example("checkout.session")))
    expect(session).toMatchObject({
      object: "checkout.session", mode: "payment", status: "open", payment_status: "unpaid", amount_total: 699,
      currency: "usd", client_reference_id: "user-1", metadata: { order_id: "order-key-shape" },
      success_url: "https://chatsight.test/paid?session={CHECKOUT_SESSION_ID}", cancel_url: "https://chatsight.test/cancelled",
      url: `${stripeDouble.url}/checkout/${session.id}`, payment_intent: null
    })
    expect(session.id).toMatch(/^cs_test_\w+$/)
    expect(session.expires_at - session.created).toBe(24 * 60 * 60)
    expect(stripeDouble.requests).toContainEqual(expect.objectContaining({
      method: "POST", path: "/v1/checkout/sessions", idempotencyKey: "key-shape", status: 200
    }))
    expect(await stripe.checkout.sessions.retrieve(session.id)).toMatchObject({ id: session.id, amount_total: 699 })
  })

  it("answers a repeated idempotency key with the same session, and refuses it for other parameters", async () => {
    const first = await createSession("key-repeat")
    const count = stripeDouble.sessions.size
    const again = await createSession("key-repeat")
    expect(again.id).toBe(first.id)
    expect(stripeDouble.sessions.size).toBe(count)
    await expect(createSession("key-repeat", "someone-else")).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError)
  })

  it("answers errors in Stripe's shape: unknown session, bad key, outage", async () => {
    await expect(stripe.checkout.sessions.retrieve("cs_test_nope")).rejects.toMatchObject({
      type: "StripeInvalidRequestError", statusCode: 404, code: "resource_missing"
    })
    const wrongKey = new Stripe("pk_test_public", { host: "127.0.0.1", port: stripeDouble.port, protocol: "http", maxNetworkRetries: 0 })
    await expect(wrongKey.checkout.sessions.retrieve("cs_test_x")).rejects.toMatchObject({ type: "StripeAuthenticationError", statusCode: 401 })
    stripeDouble.failNext(1, 503)
    await expect(createSession("key-outage")).rejects.toMatchObject({ type: "StripeAPIError", statusCode: 503 })
    expect((await createSession("key-outage")).object).toBe("checkout.session")
  })

  it("delivers signed events that constructEvent accepts, and rejects another secret or a stale timestamp", async () => {
    const session = await createSession("key-webhook")
    const event = stripeDouble.pay(session.id)
    expect(keys(event)).toEqual(keys(example("event")))
    expect(await stripeDouble.deliver(event)).toMatchObject({ status: 200 })
    const delivered = receiver.last()
    expect(header(delivered, "content-type")).toMatch(/^application\/json/)
    const signature = String(header(delivered, "stripe-signature"))
    const verified = stripe.webhooks.constructEvent(delivered.body, signature, stripeWebhookSecret, 300)
    expect(verified).toMatchObject({ id: event.id, type: "checkout.session.completed", api_version: Stripe.API_VERSION })
    expect(verified.data.object).toMatchObject({ id: session.id, status: "complete", payment_status: "paid" })
    expect((await stripe.checkout.sessions.retrieve(session.id)).payment_intent).toMatch(/^pi_/)

    const body = JSON.stringify(event)
    expect(stripe.webhooks.constructEvent(body, stripeDouble.sign(body), stripeWebhookSecret, 300).id).toBe(event.id)
    const verify = (h: string) => () => stripe.webhooks.constructEvent(body, h, stripeWebhookSecret, 300)
    expect(verify(stripeDouble.sign(body, { secret: "whsec_other" }))).toThrow(Stripe.errors.StripeSignatureVerificationError)
    const stale = Math.floor(Date.now() / 1000) - 3600
    expect(verify(stripeDouble.sign(body, { timestamp: stale }))).toThrow(/tolerance/i)

    await stripeDouble.deliver(event, { header: null })
    expect(header(receiver.last(), "stripe-signature")).toBeUndefined()
    await stripeDouble.deliver(event, { header: "t=1,v1=forged", body: "{}" })
    expect(receiver.last()).toMatchObject({ body: "{}", headers: { "stripe-signature": "t=1,v1=forged" } })
  })

  it("follows a session through refunds, a dispute, async payment and expiry", async () => {
    const paid = await createSession("key-refund")
    const completed = stripeDouble.pay(paid.id)
    const intent = completed.data.object["payment_intent"]
    const partial = stripeDouble.refund(paid.id, 200).data.object
    expect(keys(partial)).toEqual(keys(example("charge")))
    expect(partial).toMatchObject({ amount: 699, amount_refunded: 200, refunded: false, currency: "usd", payment_intent: intent })
    const full = stripeDouble.refund(paid.id)
    expect(full.type).toBe("charge.refunded")
    expect(full.data.object).toMatchObject({ amount_refunded: 699, refunded: true })
    const dispute = stripeDouble.dispute(paid.id)
    expect(keys(dispute.data.object)).toEqual(keys(example("dispute")))
    expect(dispute).toMatchObject({ type: "charge.dispute.created", data: { object: {
      amount: 699, currency: "usd", payment_intent: intent, status: "needs_response", charge: partial["id"]
    } } })

    const slow = await createSession("key-async")
    expect(stripeDouble.payAsync(slow.id).data.object).toMatchObject({ status: "complete", payment_status: "unpaid" })
    expect(stripeDouble.asyncSucceeded(slow.id)).toMatchObject({
      type: "checkout.session.async_payment_succeeded", data: { object: { payment_status: "paid" } }
    })
    const failing = await createSession("key-async-fail")
    stripeDouble.payAsync(failing.id)
    expect(stripeDouble.asyncFailed(failing.id).type).toBe("checkout.session.async_payment_failed")
    const lapsed = await createSession("key-expire")
    expect(stripeDouble.expire(lapsed.id).data.object).toMatchObject({ status: "expired" })
    expect(() => stripeDouble.pay(lapsed.id)).toThrow(/expired/)
  })

  it("lets a person click through the checkout page, delivering the webhook before the redirect", async () => {
    const session = await createSession("key-page")
    const pageHtml = await (await fetch(`${stripeDouble.url}/checkout/${session.id}`)).text()
    expect(pageHtml).toContain("Starter pack")
    expect(pageHtml).toContain("$6.99")
    const paid = await fetch(`${stripeDouble.url}/checkout/${session.id}/pay`, { method: "POST", redirect: "manual" })
    expect(paid.status).toBe(303)
    expect(paid.headers.get("location")).toBe(`https://chatsight.test/paid?session=${session.id}`)
    const delivered = receiver.last()
    const event = stripe.webhooks.constructEvent(delivered.body, String(header(delivered, "stripe-signature")), stripeWebhookSecret)
    expect(event).toMatchObject({ type: "checkout.session.completed", data: { object: { id: session.id } } })
    const other = await createSession("key-page-cancel")
    const cancelled = await fetch(`${stripeDouble.url}/checkout/${other.id}/cancel`, { method: "POST", redirect: "manual" })
    expect([cancelled.status, cancelled.headers.get("location")]).toEqual([303, "https://chatsight.test/cancelled"])
  })
})

describe("the Razorpay double", () => {
  const createOrder = (receipt: string, notes: Record<string, string> = { user_id: "u1" }) =>
    razorpay.orders.create({ amount: 49900, currency: "INR", receipt, notes })

  it("creates and fetches orders in Razorpay's entity shape, through the SDK", async () => {
    const order = await createOrder("rcpt-1")
    expect(keys(order)).toEqual(keys({
      id: 0, entity: 0, amount: 0, amount_paid: 0, amount_due: 0, currency: 0, receipt: 0, offer_id: 0, status: 0,
      attempts: 0, notes: 0, created_at: 0
    }))
    expect(order).toMatchObject({
      entity: "order", amount: 49900, amount_paid: 0, amount_due: 49900, currency: "INR", receipt: "rcpt-1",
      offer_id: null, status: "created", attempts: 0, notes: { user_id: "u1" }
    })
    expect(order.id).toMatch(/^order_[A-Za-z0-9]{14}$/)
    expect(await razorpay.orders.fetch(order.id)).toEqual(order)
    expect((await createOrder("rcpt-bare", {})).notes).toEqual([])
  })

  it("answers errors in Razorpay's shape: bad credentials, bad amount, unknown id, outage", async () => {
    const stranger = pointAt(new Razorpay({ key_id: rzp.keyId, key_secret: "wrong" }), razorpayDouble.url)
    await expect(stranger.orders.create({ amount: 49900, currency: "INR" }))
      .rejects.toMatchObject({ statusCode: 401, error: { code: "BAD_REQUEST_ERROR", description: "Authentication failed" } })
    await expect(razorpay.orders.create({ amount: 50, currency: "INR" }))
      .rejects.toMatchObject({ statusCode: 400, error: { code: "BAD_REQUEST_ERROR", field: "amount" } })
    await expect(razorpay.orders.fetch("order_missing00000"))
      .rejects.toMatchObject({ statusCode: 400, error: { description: "The id provided does not exist" } })
    razorpayDouble.failNext(1, 503)
    await expect(createOrder("rcpt-outage")).rejects.toMatchObject({ statusCode: 503, error: { code: "SERVER_ERROR" } })
    expect((await createOrder("rcpt-outage")).status).toBe("created")
  })

  it("captures a payment: payment.captured and order.paid, and the SDK sees the paid order", async () => {
    const order = await createOrder("rcpt-capture")
    const [captured, paid] = razorpayDouble.capture(order.id)
    expect([captured.event, paid.event]).toEqual(["payment.captured", "order.paid"])
    expect(captured.eventId).not.toBe(paid.eventId)
    expect(paid.payload).toMatchObject({
      entity: "event", event: "order.paid", contains: ["payment", "order"],
      payload: { payment: { entity: { order_id: order.id, status: "captured" } }, order: { entity: { status: "paid" } } }
    })
    const payments = await razorpay.orders.fetchPayments(order.id)
    expect(payments).toMatchObject({ entity: "collection", count: 1 })
    const payment = payments.items[0] ?? expect.fail("no payment")
    expect(keys(payment)).toEqual(keys({
      id: 0, entity: 0, amount: 0, currency: 0, status: 0, order_id: 0, invoice_id: 0, international: 0, method: 0,
      amount_refunded: 0, refund_status: 0, captured: 0, description: 0, card_id: 0, bank: 0, wallet: 0, vpa: 0,
      email: 0, contact: 0, notes: 0, fee: 0, tax: 0, error_code: 0, error_description: 0, error_source: 0,
      error_step: 0, error_reason: 0, created_at: 0
    }))
    expect(payment).toMatchObject({ amount: 49900, currency: "INR", status: "captured", captured: true, error_code: null })
    expect(await razorpay.payments.fetch(payment.id)).toEqual(payment)
    expect(await razorpay.orders.fetch(order.id)).toMatchObject({ status: "paid", amount_paid: 49900, amount_due: 0, attempts: 1 })
  })

  it("signs deliveries the way validateWebhookSignature checks, with Razorpay's headers", async () => {
    const order = await createOrder("rcpt-signature")
    const [captured] = razorpayDouble.capture(order.id)
    expect(await razorpayDouble.deliver(captured)).toMatchObject({ status: 200 })
    const delivered = receiver.last()
    expect(header(delivered, "content-type")).toBe("application/json")
    expect(header(delivered, "x-razorpay-event-id")).toBe(captured.eventId)
    const signature = String(header(delivered, "x-razorpay-signature"))
    expect(Razorpay.validateWebhookSignature(delivered.body, signature, rzp.webhookSecret)).toBe(true)
    expect(Razorpay.validateWebhookSignature(delivered.body, signature, "another-secret")).toBe(false)
    expect(JSON.parse(delivered.body)).toEqual(captured.payload)

    await razorpayDouble.deliver(captured, { signature: null, eventId: null })
    expect([header(receiver.last(), "x-razorpay-signature"), header(receiver.last(), "x-razorpay-event-id")]).toEqual([undefined, undefined])
    await razorpayDouble.deliver(captured, { secret: "another-secret" })
    const forged = receiver.last()
    expect(Razorpay.validateWebhookSignature(forged.body, String(header(forged, "x-razorpay-signature")), rzp.webhookSecret)).toBe(false)
  })

  it("fails and refunds payments with the entities Razorpay sends", async () => {
    const order = await createOrder("rcpt-refund")
    const failed = razorpayDouble.fail(order.id)
    expect(failed.payload).toMatchObject({ event: "payment.failed", payload: { payment: { entity: {
      status: "failed", captured: false, error_code: "BAD_REQUEST_ERROR", error_reason: "payment_failed"
    } } } })
    expect((await razorpay.orders.fetch(order.id)).status).toBe("attempted")
    const [captured] = razorpayDouble.capture(order.id)
    const payload = captured.payload["payload"]
    const paymentId = isObject(payload) && isObject(payload["payment"]) && isObject(payload["payment"]["entity"])
      ? String(payload["payment"]["entity"]["id"]) : expect.fail("no payment in the delivery")
    expect(razorpayDouble.refund(paymentId, 10000).payload).toMatchObject({
      event: "refund.processed", contains: ["refund", "payment"], payload: {
        refund: { entity: { entity: "refund", amount: 10000, currency: "INR", payment_id: paymentId, status: "processed" } },
        payment: { entity: { amount_refunded: 10000, refund_status: "partial", status: "captured" } }
      }
    })
    expect(razorpayDouble.refund(paymentId).payload).toMatchObject({ payload: {
      refund: { entity: { amount: 39900 } }, payment: { entity: { amount_refunded: 49900, refund_status: "full", status: "refunded" } }
    } })
    expect(() => razorpayDouble.refund(paymentId, 1)).toThrow(/cannot refund/)
  })

  it("lets a person pay on the checkout page, delivering both webhooks and returning a verifiable signature", async () => {
    const order = await createOrder("rcpt-page")
    const before = receiver.received.length
    const callback = "https://chatsight.test/razorpay/return"
    expect(await (await fetch(`${razorpayDouble.url}/checkout/${order.id}?callback_url=${encodeURIComponent(callback)}`)).text())
      .toContain("₹499.00")
    const paid = await fetch(`${razorpayDouble.url}/checkout/${order.id}/pay`, {
      method: "POST", redirect: "manual", body: new URLSearchParams({ callback_url: callback })
    })
    expect(paid.status).toBe(303)
    const back = new URL(paid.headers.get("location") ?? expect.fail("no redirect"))
    const paymentId = back.searchParams.get("razorpay_payment_id") ?? ""
    expect(back.searchParams.get("razorpay_order_id")).toBe(order.id)
    expect(validatePaymentVerification({ order_id: order.id, payment_id: paymentId },
      back.searchParams.get("razorpay_signature") ?? "", rzp.keySecret)).toBe(true)
    expect(receiver.received.slice(before).map(eventName)).toEqual(["payment.captured", "order.paid"])
  })
})
