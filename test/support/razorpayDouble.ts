/**
 * A Razorpay stand-in for tests and local runs: an in-memory HTTP server answering the Orders and Payments
 * API calls Chatsight makes, a click-through checkout page, and the webhooks Razorpay would send, signed
 * the way Razorpay signs them (HMAC-SHA256, hex, of the raw body). Entities follow Razorpay's API reference.
 */
import { createHmac } from "node:crypto"
import { isObject, type JsonObject } from "./qdrantContract.js"
import {
  type DeliveryOutcome, escapeHtml, fail as misuse, formatAmount, type Incoming, now, numberField, page, post, randomId,
  redirect, type Reply, serve, stringField
} from "./paymentDoubleHttp.js"

/** One webhook as Razorpay would send it: the event name, the whole body, and its X-Razorpay-Event-Id. */
export interface RazorpayDelivery {
  readonly event: string
  readonly payload: JsonObject
  readonly eventId: string
}
export interface RazorpayRequest {
  readonly method: string
  readonly path: string
  readonly body: string
  readonly status: number
}

export interface RazorpayDoubleOptions {
  readonly keyId: string
  readonly keySecret: string
  readonly webhookSecret: string
  readonly webhookUrl?: string
  readonly port?: number
  readonly host?: string
  /** Told of every webhook delivery, the checkout page's included (the runner prints them). */
  readonly onDelivery?: (delivery: RazorpayDelivery, outcome: DeliveryOutcome) => void
}

export interface RazorpayDouble {
  readonly url: string
  readonly port: number
  readonly orders: ReadonlyMap<string, JsonObject>
  readonly payments: ReadonlyMap<string, JsonObject>
  readonly requests: ReadonlyArray<RazorpayRequest>
  /**
   * A captured payment for the order (its amount due, unless overridden to tamper), and the order paid:
   * the `payment.captured` and `order.paid` deliveries, in the order Razorpay sends them.
   */
  readonly capture: (orderId: string, overrides?: { readonly amount?: number; readonly currency?: string }) =>
    readonly [RazorpayDelivery, RazorpayDelivery]
  /** A failed payment attempt on the order: `payment.failed`. */
  readonly fail: (orderId: string) => RazorpayDelivery
  /** Refunds `amount` (default: what is left) of a captured payment: `refund.processed`. */
  readonly refund: (paymentId: string, amount?: number) => RazorpayDelivery
  readonly sign: (body: string, secret?: string) => string
  readonly deliver: (delivery: RazorpayDelivery, options?: {
    readonly url?: string; readonly secret?: string; readonly signature?: string | null
    readonly eventId?: string | null; readonly body?: string
  }) => Promise<{ readonly status: number; readonly body: string }>
  /** The next `count` API calls answer `status` with Razorpay's error shape (a provider outage). */
  readonly failNext: (count: number, status: number) => void
  readonly close: () => Promise<void>
}

const razorpayError = (status: number, description: string, field?: string): Reply => ({
  status,
  json: {
    error: {
      code: status >= 500 ? "SERVER_ERROR" : "BAD_REQUEST_ERROR", description,
      source: "NA", step: "NA", reason: "NA", metadata: {}, ...(field === undefined ? {} : { field })
    }
  }
})
const noSuchId = razorpayError(400, "The id provided does not exist")

/** Razorpay answers empty notes as a JSON array, not an object; the double does the same. */
const notesOut = (notes: JsonObject) => (Object.keys(notes).length === 0 ? [] : notes)

/** Razorpay's standard fee on domestic cards: 2% plus 18% GST on it; `fee` includes `tax`. */
const fees = (amount: number) => ({ fee: Math.round(amount * 0.02 * 1.18), tax: Math.round(amount * 0.02 * 0.18) })

/** Razorpay's checks on a new order, as the 400 it answers; undefined when the order is acceptable. */
const refuseOrder = (body: JsonObject): Reply | undefined => {
  const { amount, currency, receipt, notes } = body
  if (typeof amount !== "number" || !Number.isInteger(amount)) return razorpayError(400, "The amount must be an integer.", "amount")
  if (amount < 100) return razorpayError(400, "The amount must be atleast INR 1.00", "amount")
  if (typeof currency !== "string" || !/^[A-Z]{3}$/.test(currency)) {
    return razorpayError(400, "The currency field is required.", "currency")
  }
  if (receipt !== undefined && (typeof receipt !== "string" || receipt.length > 40)) {
    return razorpayError(400, "The receipt may not be greater than 40 characters.", "receipt")
  }
  if (notes !== undefined && (!isObject(notes) || Object.keys(notes).length > 15)) {
    return razorpayError(400, "The notes should be an object with at most 15 keys.", "notes")
  }
  return undefined
}

export const startRazorpayDouble = async (options: RazorpayDoubleOptions): Promise<RazorpayDouble> => {
  const orders = new Map<string, JsonObject>()
  const payments = new Map<string, JsonObject>()
  const requests: Array<RazorpayRequest> = []
  const failures = { count: 0, status: 500 }
  const accountId = `acc_${randomId(14)}`
  const expectedAuth = `Basic ${Buffer.from(`${options.keyId}:${options.keySecret}`).toString("base64")}`

  const api = ({ method, path, headers, body }: Incoming): Reply => {
    if (failures.count > 0) {
      failures.count--
      return razorpayError(failures.status, failures.status === 429 ? "Too many requests" :
        "The server encountered an error. The incident has been reported to admins.")
    }
    if (headers["authorization"] !== expectedAuth) return razorpayError(401, "Authentication failed")
    if (method === "POST" && path === "/v1/orders") {
      let parsed: unknown
      try {
        parsed = JSON.parse(body)
      } catch {
        return razorpayError(400, "The request body is not valid JSON.")
      }
      if (!isObject(parsed)) return razorpayError(400, "The request body must be a JSON object.")
      const refusal = refuseOrder(parsed)
      if (refusal !== undefined) return refusal
      const amount = numberField(parsed, "amount")
      const order: JsonObject = {
        id: `order_${randomId(14)}`, entity: "order", amount, amount_paid: 0, amount_due: amount,
        currency: stringField(parsed, "currency"), receipt: typeof parsed["receipt"] === "string" ? parsed["receipt"] : null,
        offer_id: null, status: "created", attempts: 0,
        notes: notesOut(isObject(parsed["notes"]) ? parsed["notes"] : {}), created_at: now()
      }
      orders.set(stringField(order, "id"), order)
      return { status: 200, json: order }
    }
    const [, kind, id, sub] = /^\/v1\/(orders|payments)\/([^/]+)(\/payments)?$/.exec(path) ?? []
    if (method === "GET" && kind === "orders" && id !== undefined) {
      if (!orders.has(id)) return noSuchId
      if (sub === undefined) return { status: 200, json: orders.get(id) ?? null }
      const items = [...payments.values()].filter((p) => p["order_id"] === id).reverse() // newest first
      return { status: 200, json: { entity: "collection", count: items.length, items } }
    }
    if (method === "GET" && kind === "payments" && id !== undefined && sub === undefined) {
      const payment = payments.get(id)
      return payment === undefined ? noSuchId : { status: 200, json: payment }
    }
    return razorpayError(404, "The requested URL was not found on the server.")
  }

  // ---- What happens at Razorpay after the order is created; each returns the webhooks, undelivered. ----

  const orderOf = (id: string) => orders.get(id) ?? misuse(`the Razorpay double has no order ${id}`)
  const delivery = (event: string, entities: JsonObject): RazorpayDelivery => ({
    event,
    eventId: `evt_${randomId(14)}`,
    payload: {
      entity: "event", account_id: accountId, event, contains: Object.keys(entities),
      payload: Object.fromEntries(Object.entries(entities).map(([name, entity]) => [name, { entity }])),
      created_at: now()
    }
  })
  const attempt = (order: JsonObject, status: "captured" | "failed", amount: number, currency: string): JsonObject => {
    const captured = status === "captured"
    const payment: JsonObject = {
      id: `pay_${randomId(14)}`, entity: "payment", amount, currency, status, order_id: stringField(order, "id"),
      invoice_id: null, international: false, method: "card", amount_refunded: 0, refund_status: null, captured,
      description: null, card_id: null, bank: null, wallet: null, vpa: null,
      email: "gaurav.kumar@example.com", contact: "+919000090000", notes: order["notes"] ?? [],
      ...(captured ? fees(amount) : { fee: null, tax: null }),
      error_code: captured ? null : "BAD_REQUEST_ERROR",
      error_description: captured ? null
        : "Your payment didn't go through as it was declined by the bank. Try another payment method or contact your bank.",
      error_source: captured ? null : "bank",
      error_step: captured ? null : "payment_authorization",
      error_reason: captured ? null : "payment_failed",
      created_at: now()
    }
    payments.set(stringField(payment, "id"), payment)
    return payment
  }

  const capture: RazorpayDouble["capture"] = (orderId, overrides = {}) => {
    const order = orderOf(orderId)
    if (order["status"] === "paid") return misuse(`order ${orderId} is already paid`)
    const payment = attempt(order, "captured", overrides.amount ?? numberField(order, "amount_due"),
      overrides.currency ?? stringField(order, "currency"))
    const paid = numberField(order, "amount_paid") + numberField(payment, "amount")
    const next: JsonObject = {
      ...order, status: "paid", amount_paid: paid, amount_due: Math.max(0, numberField(order, "amount") - paid),
      attempts: numberField(order, "attempts") + 1
    }
    orders.set(orderId, next)
    return [delivery("payment.captured", { payment }), delivery("order.paid", { payment, order: next })]
  }
  const failPayment: RazorpayDouble["fail"] = (orderId) => {
    const order = orderOf(orderId)
    if (order["status"] === "paid") return misuse(`order ${orderId} is already paid`)
    const payment = attempt(order, "failed", numberField(order, "amount_due"), stringField(order, "currency"))
    orders.set(orderId, { ...order, status: "attempted", attempts: numberField(order, "attempts") + 1 })
    return delivery("payment.failed", { payment })
  }
  const refund: RazorpayDouble["refund"] = (paymentId, amount) => {
    const payment = payments.get(paymentId) ?? misuse(`the Razorpay double has no payment ${paymentId}`)
    const [total, refunded] = [numberField(payment, "amount"), numberField(payment, "amount_refunded")]
    const value = amount ?? total - refunded
    if (payment["captured"] !== true || value <= 0 || refunded + value > total) {
      return misuse(`cannot refund ${value} of payment ${paymentId} (${String(payment["status"])}, ${refunded} of ${total} refunded)`)
    }
    const full = refunded + value === total
    const next: JsonObject = {
      ...payment, amount_refunded: refunded + value, refund_status: full ? "full" : "partial",
      status: full ? "refunded" : "captured"
    }
    payments.set(paymentId, next)
    const refundEntity: JsonObject = {
      id: `rfnd_${randomId(14)}`, entity: "refund", amount: value, currency: stringField(payment, "currency"),
      payment_id: paymentId, notes: [], receipt: null, status: "processed", speed_processed: "normal", created_at: now()
    }
    return delivery("refund.processed", { refund: refundEntity, payment: next })
  }

  const sign: RazorpayDouble["sign"] = (body, secret = options.webhookSecret) =>
    createHmac("sha256", secret).update(body).digest("hex")

  const deliver: RazorpayDouble["deliver"] = async (d, how = {}) => {
    const url = how.url ?? options.webhookUrl
    if (url === undefined) return misuse("no webhook URL: pass options.url or start the double with webhookUrl")
    const body = how.body ?? JSON.stringify(d.payload)
    const signature = how.signature === undefined ? sign(body, how.secret) : how.signature
    const eventId = how.eventId === undefined ? d.eventId : how.eventId
    const headers = {
      "content-type": "application/json",
      "user-agent": "Razorpay-Webhook/v1",
      ...(signature === null ? {} : { "x-razorpay-signature": signature }),
      ...(eventId === null ? {} : { "x-razorpay-event-id": eventId })
    }
    return post(url, headers, body, (outcome) => options.onDelivery?.(d, outcome))
  }

  const paymentOf = (d: RazorpayDelivery): string => {
    const inner = d.payload["payload"]
    const payment = isObject(inner) ? inner["payment"] : undefined
    const entity = isObject(payment) ? payment["entity"] : undefined
    return isObject(entity) ? stringField(entity, "id") : misuse("a delivery without a payment")
  }

  /** The checkout page, so a person can click through a purchase; `callback_url` works as in Razorpay's redirect mode. */
  const checkout = async ({ method, query, body }: Incoming, orderId: string, action: string | undefined): Promise<Reply> => {
    const order = orders.get(orderId)
    if (order === undefined) return page("Not found", "<p>No such order.</p>", 404)
    const price = escapeHtml(formatAmount(numberField(order, "amount_due"), stringField(order, "currency")))
    if (method === "GET" && action === undefined) {
      if (order["status"] === "paid") return page("Checkout", "<p>This order is paid.</p>", 410)
      const callback = query.get("callback_url")
      return page("Razorpay double checkout", `<h1>Order ${escapeHtml(orderId)}</h1><p>${price}</p>` +
        `<form method="post" action="/checkout/${orderId}/pay">` +
        (callback === null ? "" : `<input type="hidden" name="callback_url" value="${escapeHtml(callback)}">`) +
        `<button>Pay ${price}</button></form>`)
    }
    if (method !== "POST" || action !== "/pay") return page("Not found", "<p>Not found.</p>", 404)
    if (order["status"] === "paid") return page("Checkout", "<p>This order is paid.</p>", 410)
    const deliveries = capture(orderId)
    // Delivered before the redirect, so the return page already sees the purchase; failures go to onDelivery.
    if (options.webhookUrl !== undefined) {
      for (const d of deliveries) await deliver(d).catch(() => undefined)
    }
    const paymentId = paymentOf(deliveries[0])
    const callback = new URLSearchParams(body).get("callback_url")
    const target = callback === null ? null : new URL(callback)
    target?.searchParams.set("razorpay_payment_id", paymentId)
    target?.searchParams.set("razorpay_order_id", orderId)
    // What Razorpay's checkout hands back, for the SDK's validatePaymentVerification.
    target?.searchParams.set("razorpay_signature", sign(`${orderId}|${paymentId}`, options.keySecret))
    return redirect(target?.toString(), page("Paid", `<p>Paid: ${escapeHtml(paymentId)}</p>`))
  }

  const server = await serve(options.host ?? "127.0.0.1", options.port ?? 0, async (incoming) => {
    const { method, path, body } = incoming
    const pageMatch = /^\/checkout\/([^/]+)(\/pay)?$/.exec(path)
    const reply = path.startsWith("/v1/") ? api(incoming)
      : pageMatch !== null ? await checkout(incoming, decodeURIComponent(pageMatch[1] ?? ""), pageMatch[2])
      : page("Not found", "<p>Not found.</p>", 404)
    requests.push({ method, path, body, status: reply.status })
    return reply
  })

  return {
    url: server.url, port: server.port, orders, payments, requests,
    capture, fail: failPayment, refund, sign, deliver,
    failNext: (count, status) => void Object.assign(failures, { count, status }),
    close: server.close
  }
}
