/**
 * The card's Payments Layer: the outside services that take the money. Each provider creates a checkout
 * for an order, verifies and reads its webhooks, and answers what became of an order (reconciliation).
 * A provider without all its settings is absent, and asking for it fails with `PaymentsUnavailable`
 * naming what is missing; the rest of the service runs as before.
 */
import type { Headers } from "@effect/platform"
import { Context, Duration, Effect, Layer, Option } from "effect"
import { PaymentsConfig } from "../Config.js"
import type { PaymentChange, Provider, VerifiedEvent } from "../Domain/Payments.js"
import { type InvalidSignature, PaymentsUnavailable, type UpstreamUnavailable } from "../Domain/Errors.js"
import { makeRazorpay } from "./Razorpay.js"
import { makeStripe } from "./Stripe.js"

export interface CheckoutRequest {
  readonly orderId: string
  readonly packageId: string
  readonly packageName: string
  readonly credits: number
  /** Minor units. */
  readonly amount: number
  readonly currency: string
}

export interface Checkout {
  readonly providerOrderId: string
  /** Stripe's hosted page; Razorpay takes payment in the browser with the order id. */
  readonly checkoutUrl: string | null
}

export interface WaitingOrder {
  readonly id: string
  readonly providerOrderId: string
}

export interface PaymentProvider {
  readonly name: Provider
  readonly createCheckout: (request: CheckoutRequest) => Effect.Effect<Checkout, UpstreamUnavailable>
  /** Verifies the signature over the raw body, then reads the event; a bad signature changes nothing. */
  readonly verify: (body: Uint8Array, headers: Headers.Headers) => Effect.Effect<VerifiedEvent, InvalidSignature>
  /** What the provider says of an order still waiting: paid, failed or expired; none while it is open. */
  readonly lookup: (order: WaitingOrder) => Effect.Effect<Option.Option<PaymentChange>, UpstreamUnavailable>
}

export class PaymentProviders extends Context.Tag("chatsight/PaymentProviders")<PaymentProviders, {
  readonly get: (provider: Provider) => Effect.Effect<PaymentProvider, PaymentsUnavailable>
  /** The public key id Razorpay's browser Checkout needs, when Razorpay is on. */
  readonly razorpayKeyId: Option.Option<string>
}>() {}

const missing = (settings: Record<string, Option.Option<unknown>>): ReadonlyArray<string> =>
  Object.entries(settings).filter(([, value]) => Option.isNone(value)).map(([name]) => name)

const unavailable = (provider: string, absent: ReadonlyArray<string>) =>
  new PaymentsUnavailable({
    message: `Payments with ${provider} are not configured on this server: set ${absent.join(", ")}`
  })

/** The providers whose settings are all present, from the environment. */
export const PaymentProvidersLive = Layer.effect(
  PaymentProviders,
  Effect.gen(function*() {
    const config = yield* PaymentsConfig
    const { razorpay, stripe } = config
    const urls = { successUrl: config.successUrl, cancelUrl: config.cancelUrl }
    const timeout = Duration.toMillis(config.providerTimeout)

    const stripeMissing = missing({ STRIPE_SECRET_KEY: stripe.secretKey, STRIPE_WEBHOOK_SECRET: stripe.webhookSecret })
    const razorpayMissing = missing({
      RAZORPAY_KEY_ID: razorpay.keyId,
      RAZORPAY_KEY_SECRET: razorpay.keySecret,
      RAZORPAY_WEBHOOK_SECRET: razorpay.webhookSecret
    })

    const stripeProvider = Option.all({ secretKey: stripe.secretKey, webhookSecret: stripe.webhookSecret }).pipe(
      Option.map((keys) => makeStripe({ ...keys, ...urls, apiUrl: stripe.apiUrl, timeout }))
    )
    const razorpayProvider = Option.all({
      keyId: razorpay.keyId,
      keySecret: razorpay.keySecret,
      webhookSecret: razorpay.webhookSecret
    }).pipe(Option.map((keys) => makeRazorpay({ ...keys, apiUrl: razorpay.apiUrl, timeout })))

    yield* Effect.logInfo("Payment providers").pipe(
      Effect.annotateLogs({
        stripe: Option.isSome(stripeProvider) ? "on" : `off (missing ${stripeMissing.join(", ")})`,
        razorpay: Option.isSome(razorpayProvider) ? "on" : `off (missing ${razorpayMissing.join(", ")})`
      })
    )

    return {
      get: (name: Provider) => {
        const provider = name === "stripe" ? stripeProvider : razorpayProvider
        return Option.match(provider, {
          onNone: () => Effect.fail(unavailable(name === "stripe" ? "Stripe" : "Razorpay", name === "stripe" ? stripeMissing : razorpayMissing)),
          onSome: (value) => Effect.succeed(value)
        })
      },
      razorpayKeyId: Option.flatMap(razorpayProvider, () => razorpay.keyId)
    }
  })
)
