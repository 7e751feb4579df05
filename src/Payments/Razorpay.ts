/**
 * Razorpay through its SDK: an order per order of ours (`receipt` is our id, `notes` carry it too), the
 * browser's Checkout takes the payment, webhooks are verified with `Razorpay.validateWebhookSignature`
 * over the raw body, and an order's payments are read back for reconciliation.
 */
import { Effect, Either, Option, Redacted, Schema } from "effect"
import { createHash } from "node:crypto"
import Razorpay from "razorpay"
import type { PaymentChange } from "../Domain/Payments.js"
import { providerCall, readPart, signatureRefused } from "./ProviderCall.js"
import type { PaymentProvider } from "./Providers.js"

export interface RazorpaySettings {
  readonly keyId: string
  readonly keySecret: Redacted.Redacted
  readonly webhookSecret: Redacted.Redacted
  /** Another API host (the local double); Razorpay's own when none. */
  readonly apiUrl: Option.Option<URL>
  readonly timeout: number
}

const Notes = Schema.Union(Schema.Record({ key: Schema.String, value: Schema.Unknown }), Schema.Array(Schema.Unknown))

const Payment = Schema.Struct({
  id: Schema.String,
  order_id: Schema.NullOr(Schema.String),
  amount: Schema.Int,
  currency: Schema.String,
  status: Schema.String,
  amount_refunded: Schema.optionalWith(Schema.Int, { default: () => 0 }),
  notes: Schema.optionalWith(Schema.NullOr(Notes), { default: () => null }),
  error_description: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
})
type Payment = typeof Payment.Type

const Order = Schema.Struct({ id: Schema.String, receipt: Schema.NullOr(Schema.String) })

const Refund = Schema.Struct({ id: Schema.String, payment_id: Schema.String, amount: Schema.Int, currency: Schema.String })

const entity = <A, I>(schema: Schema.Schema<A, I>) => Schema.Struct({ entity: schema })

const Event = Schema.Struct({
  event: Schema.String,
  payload: Schema.Struct({
    payment: Schema.optional(entity(Payment)),
    order: Schema.optional(entity(Order)),
    refund: Schema.optional(entity(Refund))
  })
})
type Event = typeof Event.Type

const orderRefOf = (payment: Payment): string | null => {
  const notes = payment.notes
  if (notes === null || Array.isArray(notes)) return null
  const ref = "order_id" in notes ? notes["order_id"] : undefined
  return typeof ref === "string" ? ref : null
}

const paid = (payment: Payment, orderId: string, orderRef: string | null): PaymentChange => ({
  _tag: "Paid",
  order_ref: orderRef,
  provider_order_id: orderId,
  payment_id: payment.id,
  amount: payment.amount,
  currency: payment.currency.toUpperCase()
})

const ignored = (reason: string): PaymentChange => ({ _tag: "Ignored", reason })

/** What a verified Razorpay event means for an order. */
export const razorpayChange = (event: Event): PaymentChange => {
  const payment = event.payload.payment?.entity
  const without = (part: string) => ignored(`${event.event} without a readable ${part}`)
  switch (event.event) {
    case "payment.captured":
      if (payment === undefined || payment.order_id === null) return without("payment with its order")
      return paid(payment, payment.order_id, orderRefOf(payment))
    case "order.paid": {
      const order = event.payload.order?.entity
      if (payment === undefined || order === undefined) return without("order and payment")
      return paid(payment, order.id, order.receipt ?? orderRefOf(payment))
    }
    case "payment.failed":
      if (payment === undefined || payment.order_id === null) return without("payment with its order")
      return {
        _tag: "Failed",
        order_ref: orderRefOf(payment),
        provider_order_id: payment.order_id,
        reason: payment.error_description ?? "The payment failed"
      }
    case "refund.processed": {
      const refund = event.payload.refund?.entity
      if (refund === undefined) return without("refund")
      return {
        _tag: "Refunded",
        payment_id: refund.payment_id,
        provider_order_id: payment?.order_id ?? null,
        // The payment's cumulative refunded amount, so a repeat of one refund changes nothing.
        refunded_total: payment !== undefined && payment.amount_refunded > 0 ? payment.amount_refunded : refund.amount,
        currency: refund.currency.toUpperCase()
      }
    }
    default:
      return ignored(`${event.event} is not an event we act on`)
  }
}

/** Points the SDK's HTTP client (axios, untyped in the SDK's declarations) at another host. */
const setBaseUrl = (client: Razorpay, url: URL, timeout: number) => {
  const http: unknown = Reflect.get(client.api, "rq")
  // An axios instance is a function with properties.
  const defaults: unknown = typeof http === "function" || (typeof http === "object" && http !== null)
    ? Reflect.get(http, "defaults")
    : undefined
  if (typeof defaults !== "object" || defaults === null) {
    throw new Error("The Razorpay SDK no longer exposes its HTTP client; RAZORPAY_API_URL cannot be applied")
  }
  Reflect.set(defaults, "baseURL", url.origin)
  Reflect.set(defaults, "timeout", timeout)
}

export const makeRazorpay = (settings: RazorpaySettings): PaymentProvider => {
  const client = new Razorpay({ key_id: settings.keyId, key_secret: Redacted.value(settings.keySecret) })
  if (Option.isSome(settings.apiUrl)) setBaseUrl(client, settings.apiUrl.value, settings.timeout)
  const webhookSecret = Redacted.value(settings.webhookSecret)

  return {
    name: "razorpay",
    createCheckout: (request) =>
      providerCall("razorpay", "createOrder", settings.timeout, () =>
        client.orders.create({
          amount: request.amount,
          currency: request.currency,
          receipt: request.orderId,
          notes: { order_id: request.orderId, package_id: request.packageId, credits: String(request.credits) }
        })).pipe(Effect.map((order) => ({ providerOrderId: order.id, checkoutUrl: null }))),

    verify: (body, headers) => {
      const signature = headers["x-razorpay-signature"]
      if (signature === undefined || signature === "") {
        return Effect.fail(signatureRefused("razorpay", "the X-Razorpay-Signature header is missing"))
      }
      const text = Buffer.from(body).toString("utf8")
      const valid = Effect.try({
        try: () => Razorpay.validateWebhookSignature(text, signature, webhookSecret),
        catch: () => signatureRefused("razorpay", "unreadable signature")
      })
      return Effect.flatMap(valid, (ok) => {
        if (!ok) return Effect.fail(signatureRefused("razorpay", "it was not made over this body with our secret"))
        const payload = Either.getOrElse(Either.try((): unknown => JSON.parse(text)), () => text)
        const eventId = headers["x-razorpay-event-id"] ??
          // Without the header, a redelivery is the same body: its hash names the event.
          `sha256:${createHash("sha256").update(body).digest("hex")}`
        return Effect.succeed(Either.match(readPart(Event, payload), {
          onLeft: () => ({
            provider: "razorpay" as const,
            eventId,
            eventType: "unreadable",
            change: ignored("an event without a readable type and payload"),
            payload
          }),
          onRight: (event) => ({
            provider: "razorpay" as const,
            eventId,
            eventType: event.event,
            change: razorpayChange(event),
            payload
          })
        }))
      })
    },

    lookup: (order) =>
      providerCall("razorpay", "fetchOrderPayments", settings.timeout, () =>
        client.orders.fetchPayments(order.providerOrderId)).pipe(
          Effect.map((collection) => {
            const payments = readPart(Schema.Struct({ items: Schema.Array(Payment) }), collection)
            const items = Either.isRight(payments) ? payments.right.items : []
            const captured = items.find((payment) => payment.status === "captured" || payment.status === "refunded")
            if (captured !== undefined) return Option.some(paid(captured, order.providerOrderId, order.id))
            // Failed attempts only: the buyer may still try again, and a later payment still credits.
            const failed = items.find((payment) => payment.status === "failed")
            return failed === undefined ? Option.none() : Option.some<PaymentChange>({
              _tag: "Failed",
              order_ref: order.id,
              provider_order_id: order.providerOrderId,
              reason: failed.error_description ?? "The payment failed"
            })
          })
        )
  }
}
