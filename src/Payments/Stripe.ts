/**
 * Stripe through its SDK: a Checkout Session per order (our order id in `client_reference_id` and
 * metadata), webhooks verified by `webhooks.constructEvent` with a 5-minute tolerance, and the session
 * read back for reconciliation.
 */
import { Effect, Either, Option, Redacted, Schema } from "effect"
import Stripe from "stripe"
import type { PaymentChange } from "../Domain/Payments.js"
import { providerCall, readPart, signatureRefused } from "./ProviderCall.js"
import type { PaymentProvider } from "./Providers.js"

export interface StripeSettings {
  readonly secretKey: Redacted.Redacted
  readonly webhookSecret: Redacted.Redacted
  /** Another API host (the local double); Stripe's own when none. */
  readonly apiUrl: Option.Option<URL>
  readonly successUrl: string
  readonly cancelUrl: string
  readonly timeout: number
}

/** Seconds a signed timestamp may be old: Stripe's recommended tolerance. */
const toleranceSeconds = 300

const expandable = Schema.Union(Schema.String, Schema.Struct({ id: Schema.String }))
const idOf = (value: typeof expandable.Type | null): string | null =>
  value === null ? null : typeof value === "string" ? value : value.id

const Session = Schema.Struct({
  id: Schema.String,
  status: Schema.NullOr(Schema.String),
  payment_status: Schema.String,
  amount_total: Schema.NullOr(Schema.Int),
  currency: Schema.NullOr(Schema.String),
  client_reference_id: Schema.NullOr(Schema.String),
  metadata: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.String })),
  payment_intent: Schema.NullOr(expandable)
})
type Session = typeof Session.Type

const Charge = Schema.Struct({
  id: Schema.String,
  payment_intent: Schema.NullOr(expandable),
  amount_refunded: Schema.Int,
  currency: Schema.String
})

const Dispute = Schema.Struct({
  id: Schema.String,
  charge: expandable,
  payment_intent: Schema.NullOr(expandable),
  amount: Schema.Int,
  currency: Schema.String
})

const orderRefOf = (session: Session) => session.metadata?.["order_id"] ?? session.client_reference_id

const paid = (session: Session): PaymentChange => ({
  _tag: "Paid",
  order_ref: orderRefOf(session),
  provider_order_id: session.id,
  payment_id: idOf(session.payment_intent),
  amount: session.amount_total ?? 0,
  currency: (session.currency ?? "").toUpperCase()
})

const ignored = (reason: string): PaymentChange => ({ _tag: "Ignored", reason })

/** What a verified Stripe event means for an order. */
export const stripeChange = (type: string, object: unknown): PaymentChange => {
  const session = () => readPart(Session, object)
  switch (type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded":
      return Either.match(session(), {
        onLeft: () => ignored(`${type} without a readable session`),
        onRight: (s) => s.payment_status === "paid" ? paid(s) : ignored(`session ${s.payment_status}; waiting for its payment`)
      })
    case "checkout.session.async_payment_failed":
      return Either.match(session(), {
        onLeft: () => ignored(`${type} without a readable session`),
        onRight: (s): PaymentChange => ({
          _tag: "Failed",
          order_ref: orderRefOf(s),
          provider_order_id: s.id,
          reason: "The delayed payment failed"
        })
      })
    case "checkout.session.expired":
      return Either.match(session(), {
        onLeft: () => ignored(`${type} without a readable session`),
        onRight: (s): PaymentChange => ({ _tag: "Expired", order_ref: orderRefOf(s), provider_order_id: s.id })
      })
    case "charge.refunded":
      return Either.match(readPart(Charge, object), {
        onLeft: () => ignored(`${type} without a readable charge`),
        onRight: (charge): PaymentChange => ({
          _tag: "Refunded",
          payment_id: idOf(charge.payment_intent) ?? charge.id,
          provider_order_id: null,
          refunded_total: charge.amount_refunded,
          currency: charge.currency.toUpperCase()
        })
      })
    case "charge.dispute.created":
      return Either.match(readPart(Dispute, object), {
        onLeft: () => ignored(`${type} without a readable dispute`),
        onRight: (dispute): PaymentChange => ({
          _tag: "Disputed",
          payment_id: idOf(dispute.payment_intent) ?? idOf(dispute.charge) ?? dispute.id,
          provider_order_id: null,
          dispute_id: dispute.id,
          amount: dispute.amount,
          currency: dispute.currency.toUpperCase()
        })
      })
    default:
      return ignored(`${type} is not an event we act on`)
  }
}

const hostOptions = (url: Option.Option<URL>) =>
  Option.match(url, {
    onNone: () => ({}),
    onSome: (u) => ({
      host: u.hostname,
      port: u.port === "" ? (u.protocol === "http:" ? 80 : 443) : Number(u.port),
      protocol: u.protocol === "http:" ? "http" as const : "https" as const
    })
  })

const withOrder = (template: string, orderId: string) => template.replaceAll("{ORDER_ID}", orderId)

export const makeStripe = (settings: StripeSettings): PaymentProvider => {
  const stripe = new Stripe(Redacted.value(settings.secretKey), {
    // Our own timeout and retries govern; the SDK's retries would outlast them.
    maxNetworkRetries: 1,
    timeout: settings.timeout,
    telemetry: false,
    ...hostOptions(settings.apiUrl)
  })
  const webhookSecret = Redacted.value(settings.webhookSecret)

  return {
    name: "stripe",
    createCheckout: (request) =>
      providerCall("stripe", "createCheckoutSession", settings.timeout, () =>
        stripe.checkout.sessions.create({
          mode: "payment",
          line_items: [{
            quantity: 1,
            price_data: {
              currency: request.currency.toLowerCase(),
              unit_amount: request.amount,
              product_data: { name: `${request.packageName}: ${request.credits} credits` }
            }
          }],
          client_reference_id: request.orderId,
          metadata: { order_id: request.orderId, package_id: request.packageId },
          payment_intent_data: { metadata: { order_id: request.orderId } },
          success_url: withOrder(settings.successUrl, request.orderId),
          cancel_url: withOrder(settings.cancelUrl, request.orderId)
        }, {
          // A retry of the same order (after a timeout, say) gets the same session, not a second one.
          idempotencyKey: `chatsight-order-${request.orderId}`
        })).pipe(Effect.map((session) => ({ providerOrderId: session.id, checkoutUrl: session.url }))),

    verify: (body, headers) => {
      const header = headers["stripe-signature"]
      if (header === undefined || header === "") {
        return Effect.fail(signatureRefused("stripe", "the Stripe-Signature header is missing"))
      }
      return Effect.try({
        try: () => stripe.webhooks.constructEvent(Buffer.from(body), header, webhookSecret, toleranceSeconds),
        catch: (error) => signatureRefused("stripe", error instanceof Error ? error.message : "unreadable signature")
      }).pipe(Effect.map((event) => ({
        provider: "stripe" as const,
        eventId: event.id,
        eventType: event.type,
        change: stripeChange(event.type, event.data.object),
        payload: event
      })))
    },

    lookup: (order) =>
      providerCall("stripe", "retrieveCheckoutSession", settings.timeout, () =>
        stripe.checkout.sessions.retrieve(order.providerOrderId)).pipe(
          Effect.map((raw) =>
            Either.match(readPart(Session, raw), {
              onLeft: () => Option.none(),
              onRight: (session) =>
                session.status === "complete" && session.payment_status === "paid"
                  ? Option.some(paid(session))
                  : session.status === "expired"
                  ? Option.some<PaymentChange>({ _tag: "Expired", order_ref: orderRefOf(session), provider_order_id: session.id })
                  : Option.none()
            })
          )
        )
  }
}
