/** Buying credits: orders as created and shown, the providers, and what a provider's event means to us. */
import { Schema } from "effect"
import { OpaqueCursor } from "./Pagination.js"

export const Provider = Schema.Literal("stripe", "razorpay")
export type Provider = typeof Provider.Type

export const OrderStatus = Schema.Literal("created", "paid", "failed", "expired")
export type OrderStatus = typeof OrderStatus.Type

/** An ISO 4217 code; a client may write it in lower case (Stripe does). */
export const Currency = Schema.compose(
  Schema.Uppercase,
  Schema.String.pipe(Schema.pattern(/^[A-Z]{3}$/, { message: () => "must be a three-letter ISO 4217 code, e.g. USD" }))
)

export const CreateOrderRequest = Schema.Struct({
  package_id: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
  provider: Provider,
  /** USD for Stripe and INR for Razorpay when not given. */
  currency: Schema.optional(Currency)
}).annotations({ identifier: "CreateOrderRequest" })

/** What Razorpay's Checkout needs in the browser to take the payment. */
export const RazorpayCheckout = Schema.Struct({ key_id: Schema.String, order_id: Schema.String })

const orderFields = {
  id: Schema.UUID,
  status: OrderStatus,
  provider: Provider,
  /** The Checkout Session (Stripe) or order (Razorpay) id; null until the provider has answered. */
  provider_order_id: Schema.NullOr(Schema.String),
  package_id: Schema.String,
  /** In the currency's minor unit (cents, paise). */
  amount: Schema.Int,
  currency: Schema.String,
  /** What the package adds once paid. */
  credits: Schema.Int,
  credits_granted: Schema.Int,
  /** Refunded and disputed amounts so far, in minor units. */
  refunded_amount: Schema.Int,
  disputed_amount: Schema.Int,
  /** Credits taken back for refunds and disputes, and those still owed because they had been spent. */
  credits_reversed: Schema.Int,
  credits_owed: Schema.Int,
  failure_reason: Schema.NullOr(Schema.String)
}

/** An order as stored (dates as the driver reads them). */
export const OrderRow = Schema.Struct({
  ...orderFields,
  user_id: Schema.String,
  provider_payment_id: Schema.NullOr(Schema.String),
  checkout_url: Schema.NullOr(Schema.String),
  idempotency_key: Schema.NullOr(Schema.String),
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf,
  paid_at: Schema.NullOr(Schema.DateFromSelf)
})
export type OrderRow = typeof OrderRow.Type

/** An order as the client sees it. */
export const Order = Schema.Struct({
  ...orderFields,
  /** Stripe: the hosted Checkout page to send the buyer to. */
  checkout_url: Schema.NullOr(Schema.String),
  /** Razorpay: what its Checkout takes in the browser. */
  razorpay: Schema.NullOr(RazorpayCheckout),
  created_at: Schema.Date,
  updated_at: Schema.Date,
  paid_at: Schema.NullOr(Schema.Date)
}).annotations({ identifier: "PaymentOrder" })
export type Order = typeof Order.Type

/** A provider event applied to an order, as its history shows it. */
export const OrderEvent = Schema.Struct({
  event_type: Schema.String,
  /** What it did: credited, reversed, no_change, mismatch, failed, expired, held (waiting for its payment), ... */
  outcome: Schema.NullOr(Schema.String),
  received_at: Schema.Date,
  processed_at: Schema.NullOr(Schema.Date)
}).annotations({ identifier: "PaymentOrderEvent" })

export const OrderDetail = Schema.Struct({ ...Order.fields, events: Schema.Array(OrderEvent) })
  .annotations({ identifier: "PaymentOrderDetail" })

/** The position of an order in the newest-first list: its creation time and id. */
export const OrderCursor = OpaqueCursor(Schema.Tuple(Schema.String, Schema.UUID))

export const WebhookReceived = Schema.Struct({
  received: Schema.Literal(true),
  /** False when this event had been received before: nothing changed. */
  first_delivery: Schema.Boolean
}).annotations({ identifier: "WebhookReceived" })

/**
 * What a provider's event means for an order, read once from its payload by the provider's module and
 * stored with the event, so that applying it later (a redelivery, the sweep after a crash) needs no
 * re-reading. `order_ref` is our order id as the provider echoes it (metadata, receipt, notes).
 */
export const PaymentChange = Schema.Union(
  Schema.TaggedStruct("Paid", {
    order_ref: Schema.NullOr(Schema.String),
    provider_order_id: Schema.String,
    payment_id: Schema.NullOr(Schema.String),
    amount: Schema.Int,
    currency: Schema.String
  }),
  Schema.TaggedStruct("Failed", {
    order_ref: Schema.NullOr(Schema.String),
    provider_order_id: Schema.String,
    reason: Schema.String
  }),
  Schema.TaggedStruct("Expired", {
    order_ref: Schema.NullOr(Schema.String),
    provider_order_id: Schema.String
  }),
  /** A refund; `refunded_total` is cumulative, so a repeat of the same refund changes nothing. */
  Schema.TaggedStruct("Refunded", {
    payment_id: Schema.String,
    provider_order_id: Schema.NullOr(Schema.String),
    refunded_total: Schema.Int,
    currency: Schema.String
  }),
  /** A dispute (chargeback) opened over `amount`. */
  Schema.TaggedStruct("Disputed", {
    payment_id: Schema.String,
    provider_order_id: Schema.NullOr(Schema.String),
    dispute_id: Schema.String,
    amount: Schema.Int,
    currency: Schema.String
  }),
  Schema.TaggedStruct("Ignored", { reason: Schema.String })
)
export type PaymentChange = typeof PaymentChange.Type

/** A webhook whose signature verified, read into its meaning. */
export interface VerifiedEvent {
  readonly provider: Provider
  readonly eventId: string
  readonly eventType: string
  readonly change: PaymentChange
  /** The provider's payload as received, kept for audit. */
  readonly payload: unknown
}
