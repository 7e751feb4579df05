/**
 * A Stripe stand-in for tests and local runs: an in-memory HTTP server answering the part of Stripe's API
 * Chatsight uses (Checkout Sessions), a click-through checkout page, and the webhooks Stripe would send.
 * Objects start from Stripe's own example objects (stripe-fixtures3.json); signatures use the SDK's scheme.
 */
import { readFileSync } from "node:fs"
import Stripe from "stripe"
import {
  type DeliveryOutcome, escapeHtml, fail, formatAmount, type Incoming, now, numberField, page, post, randomId, redirect,
  type Reply, serve, stringField
} from "./paymentDoubleHttp.js"
import { isObject, type Json, type JsonObject } from "./qdrantContract.js"

export const stripeFixturesPath = process.env.STRIPE_FIXTURES ?? "/work/shared/reference/stripe-fixtures3.json"

export type StripeEvent = JsonObject & {
  readonly id: string; readonly object: "event"; readonly type: string; readonly created: number
  readonly data: { readonly object: JsonObject }
}
export interface StripeRequest {
  readonly method: string; readonly path: string; readonly idempotencyKey: string | undefined
  readonly body: string; readonly status: number
}

export interface StripeDoubleOptions {
  readonly webhookSecret: string; readonly webhookUrl?: string; readonly port?: number; readonly host?: string
  /** Told of every webhook delivery, the checkout page's included (the runner prints them). */
  readonly onDelivery?: (event: StripeEvent, outcome: DeliveryOutcome) => void
}

export interface StripeDouble {
  readonly url: string; readonly port: number
  readonly sessions: ReadonlyMap<string, JsonObject>; readonly requests: ReadonlyArray<StripeRequest>
  /** Overrides change what was paid, the stored session included, so a re-fetch agrees with the event. */
  readonly pay: (sessionId: string, overrides?: { readonly amount?: number; readonly currency?: string }) => StripeEvent
  readonly payAsync: (sessionId: string) => StripeEvent
  readonly asyncSucceeded: (sessionId: string) => StripeEvent
  readonly asyncFailed: (sessionId: string) => StripeEvent
  readonly expire: (sessionId: string) => StripeEvent
  /** Refunds `amount` (default: what is left) of the session's charge. */
  readonly refund: (sessionId: string, amount?: number) => StripeEvent
  readonly dispute: (sessionId: string, amount?: number) => StripeEvent
  readonly event: (type: string, object: JsonObject) => StripeEvent
  readonly sign: (payload: string, options?: { readonly secret?: string; readonly timestamp?: number }) => string
  readonly deliver: (event: StripeEvent, options?: { readonly url?: string; readonly secret?: string; readonly timestamp?: number
    readonly header?: string | null; readonly body?: string }) => Promise<{ readonly status: number; readonly body: string }>
  /** The next `count` API calls answer `status` with Stripe's error shape (a provider outage). */
  readonly failNext: (count: number, status: number) => void
  readonly close: () => Promise<void>
}

// ---- Stripe's objects and form encoding. -----------------------------------------------------------

const loadFixtures = (): JsonObject => {
  const parsed: unknown = JSON.parse(readFileSync(stripeFixturesPath, "utf8"))
  const resources = isObject(parsed) ? parsed["resources"] : undefined
  return isObject(resources) ? resources : fail(`${stripeFixturesPath} has no "resources" object`)
}


/** Stripe's form encoding (`a[0][b]=1`) read back into nested objects; list indexes stay object keys. */
interface FormTree { [key: string]: string | FormTree }
const parseForm = (body: string): FormTree => {
  const root: FormTree = {}
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split(/[[\]]+/).filter((segment) => segment !== "")
    let node = root
    path.forEach((segment, i) => {
      const next = node[segment]
      if (i === path.length - 1) node[segment] = value
      else node = typeof next === "object" ? next : (node[segment] = {})
    })
  }
  return root
}
const listOf = (tree: string | FormTree | undefined): Array<string | FormTree> =>
  typeof tree === "object" ? Object.keys(tree).sort((a, b) => Number(a) - Number(b)).flatMap((k) => tree[k] ?? []) : []
const formInteger = (v: string | FormTree | undefined) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined)
const formText = (v: Json | FormTree | undefined) => (typeof v === "string" ? v : null)

const stripeError = (status: number, message: string, extra: JsonObject = {}): Reply =>
  ({ status, json: { error: { message, type: status >= 500 ? "api_error" : "invalid_request_error", ...extra } } })
const missing = (param: string) => stripeError(400, `Missing required param: ${param}.`, { code: "parameter_missing", param })

export const startStripeDouble = async (options: StripeDoubleOptions): Promise<StripeDouble> => {
  const examples = loadFixtures()
  const fixture = (name: string): JsonObject => {
    const found = examples[name]
    return structuredClone(isObject(found) ? found : fail(`${stripeFixturesPath} has no "${name}" resource`))
  }
  const sessions = new Map<string, JsonObject>()
  const packages = new Map<string, string>() // what the line items name, for the checkout page only
  const charges = new Map<string, JsonObject>() // by session id: a Checkout payment makes one charge
  const idempotent = new Map<string, { readonly body: string; readonly reply: Reply }>()
  const requests: Array<StripeRequest> = []
  const failures = { count: 0, status: 500 }
  let base = ""

  const createSession = (body: string): Reply => {
    const form = parseForm(body)
    if (form["mode"] !== "payment") return stripeError(400, "The Stripe double supports mode=payment only.", { param: "mode" })
    const items = listOf(form["line_items"])
    if (items.length === 0) return missing("line_items")
    let amountTotal = 0
    const [currencies, names] = [new Set<string>(), new Array<string>()]
    for (const [i, item] of items.entries()) {
      const priceData = typeof item === "object" ? item["price_data"] : undefined
      if (typeof item !== "object" || typeof priceData !== "object") return missing(`line_items[${i}][price_data]`)
      const unitAmount = formInteger(priceData["unit_amount"])
      const quantity = formInteger(item["quantity"])
      const currency = priceData["currency"]
      const name = typeof priceData["product_data"] === "object" ? priceData["product_data"]["name"] : undefined
      if (unitAmount === undefined) return missing(`line_items[${i}][price_data][unit_amount]`)
      if (quantity === undefined || quantity < 1) return missing(`line_items[${i}][quantity]`)
      if (typeof currency !== "string" || !/^[a-z]{3}$/i.test(currency)) return missing(`line_items[${i}][price_data][currency]`)
      if (typeof name !== "string") return missing(`line_items[${i}][price_data][product_data][name]`)
      amountTotal += unitAmount * quantity
      currencies.add(currency.toLowerCase())
      names.push(quantity > 1 ? `${quantity} × ${name}` : name)
    }
    if (currencies.size > 1) return stripeError(400, "All line items must use the same currency.", { param: "line_items" })
    const id = `cs_test_a1${randomId(56)}`
    const created = now()
    const session: JsonObject = {
      ...fixture("checkout.session"),
      id, object: "checkout.session", mode: "payment", status: "open", payment_status: "unpaid",
      amount_subtotal: amountTotal, amount_total: amountTotal, currency: [...currencies][0] ?? null,
      client_reference_id: formText(form["client_reference_id"]), metadata: typeof form["metadata"] === "object" ? form["metadata"] : {},
      success_url: formText(form["success_url"]), cancel_url: formText(form["cancel_url"]),
      created, expires_at: created + 24 * 60 * 60, url: `${base}/checkout/${id}`, payment_intent: null,
      // The example's shipping and discount figures would contradict amount_total.
      shipping_address_collection: null, shipping_cost: null,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 }
    }
    sessions.set(id, session)
    packages.set(id, names.join(", "))
    return { status: 200, json: session }
  }

  const api = ({ method, path, headers, body }: Incoming): Reply => {
    if (failures.count > 0) {
      failures.count--
      return stripeError(failures.status, "The Stripe double was told to fail this request.",
        failures.status === 429 ? { code: "rate_limit" } : {})
    }
    // The SDK sends `Bearer <key>`; curl's `-u <key>:` sends it as a Basic user name, which Stripe also takes.
    const [, scheme, credentials = ""] = /^(Bearer|Basic) (\S+)$/.exec(headers["authorization"] ?? "") ?? []
    const apiKey = scheme === "Basic" ? Buffer.from(credentials, "base64").toString("utf8").split(":")[0] : credentials
    if (!/^sk_\S+$/.test(apiKey ?? "")) return stripeError(401, "Invalid API Key provided. The Stripe double takes any sk_ key.")
    const key = headers["idempotency-key"]
    if (method === "POST" && path === "/v1/checkout/sessions") {
      const earlier = typeof key === "string" ? idempotent.get(key) : undefined
      if (earlier !== undefined) {
        return earlier.body === body ? earlier.reply : stripeError(400, "Keys for idempotent requests can only be used " +
          `with the same parameters they were first used with. Try using a key other than '${String(key)}' if you ` +
          "meant to execute a different request.", { type: "idempotency_error" })
      }
      const reply = createSession(body)
      if (reply.status === 200 && typeof key === "string") idempotent.set(key, { body, reply })
      return reply
    }
    const id = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(path)?.[1]
    if (method === "GET" && id !== undefined) {
      const session = sessions.get(decodeURIComponent(id))
      return session !== undefined ? { status: 200, json: session }
        : stripeError(404, `No such checkout.session: '${id}'`, { code: "resource_missing", param: "session" })
    }
    return stripeError(404, `Unrecognized request URL (${method}: ${path}).`)
  }

  // ---- What happens at Stripe after the session is created; each returns the event, undelivered. ----

  const session = (id: string, status?: string): JsonObject => {
    const s = sessions.get(id) ?? fail(`the Stripe double has no checkout session ${id}`)
    return status === undefined || s["status"] === status ? s : fail(`checkout session ${id} is ${String(s["status"])}, not ${status}`)
  }
  const update = (s: JsonObject, changes: JsonObject): JsonObject => {
    const next = { ...s, ...changes }
    sessions.set(stringField(s, "id"), next)
    return next
  }
  const event: StripeDouble["event"] = (type, object) => ({
    ...fixture("event"),
    id: `evt_${randomId(24)}`, object: "event", api_version: Stripe.API_VERSION, created: now(),
    data: { object: structuredClone(object) }, livemode: false, pending_webhooks: 1,
    request: { id: null, idempotency_key: null }, type
  })

  const succeed = (s: JsonObject): JsonObject => {
    const paid = update(s, { payment_status: "paid" })
    const [intent, amount, currency] = [stringField(s, "payment_intent"), numberField(s, "amount_total"), stringField(s, "currency")]
    const id = `ch_${randomId(24)}`
    charges.set(stringField(s, "id"), {
      ...fixture("charge"),
      id, amount, currency, created: now(), payment_intent: intent, status: "succeeded",
      amount_captured: amount, amount_refunded: 0, captured: true, paid: true, refunded: false, disputed: false,
      description: null, source: null, transfer_data: null, receipt_url: null, balance_transaction: `txn_${randomId(24)}`,
      refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${id}/refunds` }
    })
    return paid
  }
  const chargeOf = (id: string) => charges.get(id) ?? fail(`checkout session ${id} has no charge (is it paid?)`)
  const awaitingAsync = (id: string): JsonObject => {
    const s = session(id, "complete")
    return s["payment_status"] === "unpaid" ? s : fail(`checkout session ${id} is not awaiting an async payment`)
  }

  const pay: StripeDouble["pay"] = (id, overrides = {}) => {
    const s = session(id, "open")
    const amount = overrides.amount ?? numberField(s, "amount_total")
    const currency = (overrides.currency ?? stringField(s, "currency")).toLowerCase()
    const priced = update(s, { amount_subtotal: amount, amount_total: amount, currency })
    return event("checkout.session.completed",
      succeed(update(priced, { status: "complete", payment_intent: `pi_${randomId(24)}` })))
  }
  const payAsync: StripeDouble["payAsync"] = (id) => {
    const s = session(id, "open")
    return event("checkout.session.completed", update(s, { status: "complete", payment_intent: `pi_${randomId(24)}` }))
  }
  const asyncSucceeded: StripeDouble["asyncSucceeded"] = (id) =>
    event("checkout.session.async_payment_succeeded", succeed(awaitingAsync(id)))
  const asyncFailed: StripeDouble["asyncFailed"] = (id) =>
    event("checkout.session.async_payment_failed", awaitingAsync(id))
  const expire: StripeDouble["expire"] = (id) => {
    const s = session(id)
    // A session no longer open stays as it is: the event is a late, out-of-order one, for tests of that.
    return event("checkout.session.expired", s["status"] === "open" ? update(s, { status: "expired" }) : { ...s, status: "expired" })
  }

  const refund: StripeDouble["refund"] = (id, amount) => {
    const charge = chargeOf(id)
    const [total, refunded] = [numberField(charge, "amount"), numberField(charge, "amount_refunded")]
    const value = amount ?? total - refunded
    if (value <= 0 || refunded + value > total) fail(`cannot refund ${value} of ${total} (${refunded} refunded)`)
    const refundObject: JsonObject = {
      ...fixture("refund"),
      id: `re_${randomId(24)}`, amount: value, charge: stringField(charge, "id"), currency: stringField(charge, "currency"),
      payment_intent: charge["payment_intent"] ?? null, created: now(), status: "succeeded", metadata: {},
      balance_transaction: `txn_${randomId(24)}`
    }
    const list = isObject(charge["refunds"]) ? charge["refunds"] : {}
    const next: JsonObject = {
      ...charge, amount_refunded: refunded + value, refunded: refunded + value === total,
      refunds: { ...list, data: [refundObject, ...(Array.isArray(list["data"]) ? list["data"] : [])] } // newest first
    }
    charges.set(id, next)
    return event("charge.refunded", next)
  }
  const dispute: StripeDouble["dispute"] = (id, amount) => {
    const charge = chargeOf(id)
    const example = fixture("dispute")
    const details = isObject(example["payment_method_details"]) ? example["payment_method_details"] : {}
    const card = isObject(details["card"]) ? details["card"] : {}
    charges.set(id, { ...charge, disputed: true })
    return event("charge.dispute.created", {
      ...example,
      id: `dp_${randomId(24)}`, amount: amount ?? numberField(charge, "amount"), charge: stringField(charge, "id"),
      currency: stringField(charge, "currency"), payment_intent: charge["payment_intent"] ?? null, created: now(),
      status: "needs_response", is_charge_refundable: false, metadata: {},
      payment_method_details: { ...details, card: { ...card, case_type: "chargeback" } }
    })
  }

  const sign: StripeDouble["sign"] = (payload, { secret, timestamp } = {}) =>
    Stripe.webhooks.generateTestHeaderString({ payload, secret: secret ?? options.webhookSecret, timestamp })

  const deliver: StripeDouble["deliver"] = async (evt, how = {}) => {
    const url = how.url ?? options.webhookUrl
    if (url === undefined) return fail("no webhook URL: pass options.url or start the double with webhookUrl")
    // Stripe sends its events pretty-printed; the signature covers these exact bytes.
    const body = how.body ?? JSON.stringify(evt, null, 2)
    const header = how.header === undefined ? sign(body, { secret: how.secret, timestamp: how.timestamp }) : how.header
    const headers = { "content-type": "application/json; charset=utf-8", "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)" }
    return post(url, header === null ? headers : { ...headers, "stripe-signature": header }, body,
      (outcome) => options.onDelivery?.(evt, outcome))
  }

  /** The checkout page, so a person can click through a purchase. */
  const checkout = async (method: string, id: string, action: string | undefined): Promise<Reply> => {
    const s = sessions.get(id)
    if (s === undefined) return page("Not found", "<p>No such checkout session.</p>", 404)
    const status = String(s["status"])
    const gone = page("Checkout", `<p>This checkout session is ${escapeHtml(status)}.</p>`, 410)
    if (method === "GET" && action === undefined) {
      if (status !== "open") return gone
      const price = escapeHtml(formatAmount(numberField(s, "amount_total"), stringField(s, "currency")))
      return page("Stripe double checkout", `<h1>${escapeHtml(packages.get(id) ?? "")}</h1><p>${price}</p>` +
        `<form method="post" action="/checkout/${id}/pay"><button>Pay ${price}</button></form>` +
        `<form method="post" action="/checkout/${id}/cancel"><button>Cancel</button></form>`)
    }
    if (method === "POST" && action === "/pay") {
      if (status === "open") {
        const evt = pay(id)
        // Delivered before the redirect, so the success page already sees the purchase; failures go to onDelivery.
        if (options.webhookUrl !== undefined) await deliver(evt).catch(() => undefined)
      } else if (status !== "complete") return gone
      return redirect(formText(s["success_url"])?.replace("{CHECKOUT_SESSION_ID}", id), page("Paid", "<p>Paid.</p>"))
    }
    if (method === "POST" && action === "/cancel") return redirect(formText(s["cancel_url"]), page("Cancelled", "<p>Cancelled.</p>"))
    return page("Not found", "<p>Not found.</p>", 404)
  }

  const server = await serve(options.host ?? "127.0.0.1", options.port ?? 0, async (incoming) => {
    const { method, path, headers, body } = incoming
    const pageMatch = /^\/checkout\/([^/]+)(\/pay|\/cancel)?$/.exec(path)
    const reply = path.startsWith("/v1/") ? api(incoming)
      : pageMatch !== null ? await checkout(method, decodeURIComponent(pageMatch[1] ?? ""), pageMatch[2])
      : page("Not found", "<p>Not found.</p>", 404)
    const key = headers["idempotency-key"]
    requests.push({ method, path, idempotencyKey: typeof key === "string" ? key : undefined, body, status: reply.status })
    return reply
  })
  base = server.url

  return {
    url: server.url, port: server.port, sessions, requests,
    pay, payAsync, asyncSucceeded, asyncFailed, expire, refund, dispute, event, sign, deliver,
    failNext: (count, status) => void Object.assign(failures, { count, status }),
    close: server.close
  }
}
