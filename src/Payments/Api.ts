/** Buying credits: orders with Stripe or Razorpay, the caller's orders, and the providers' webhooks. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../Auth/Api.js"
import {
  Conflict,
  httpError,
  InvalidSignature,
  LockTimeout,
  NotFound,
  PaymentsUnavailable,
  UpstreamUnavailable
} from "../Domain/Errors.js"
import { idempotencyHeaders } from "../Domain/Idempotency.js"
import { Page, PageParams } from "../Domain/Pagination.js"
import { CreateOrderRequest, Order, OrderCursor, OrderDetail, WebhookReceived } from "../Domain/Payments.js"

const IdempotencyHeaders = idempotencyHeaders(
  "Repeat the key to get the same order back; the same key for another package, provider or currency is a 409"
)

const webhook = <const Name extends string>(name: Name, provider: "stripe" | "razorpay", header: string) =>
  HttpApiEndpoint.post(name, `/api/payments/webhooks/${provider}`)
    .addSuccess(WebhookReceived)
    .addError(httpError(InvalidSignature))
    .addError(httpError(PaymentsUnavailable))
    .addError(httpError(LockTimeout))
    .annotate(
      OpenApi.Description,
      `Called by ${provider === "stripe" ? "Stripe" : "Razorpay"}, not by clients: the event as JSON, signed in the ` +
        `${header} header over the raw body (read as sent, up to the body limit). A bad, missing or stale signature is ` +
        "a 400 and records nothing. Each event is stored once by its id and applied once; a redelivery is a 200 that " +
        "changes nothing."
    )

export class PaymentsApi extends HttpApiGroup.make("payments")
  .add(
    HttpApiEndpoint.post("createOrder", "/api/payments/orders")
      .setPayload(CreateOrderRequest)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(Order, { status: 201 })
      .addError(httpError(NotFound))
      .addError(httpError(Conflict))
      .addError(httpError(PaymentsUnavailable))
      .addError(httpError(UpstreamUnavailable))
      .annotate(
        OpenApi.Description,
        "Creates an order for a credit package, priced from the catalogue (GET /api/credits/packages), and its checkout " +
          "at the provider: Stripe answers `checkout_url` (send the buyer there), Razorpay answers `razorpay` (open its " +
          "Checkout with them). Credits arrive when the provider's webhook says it is paid. The currency defaults to USD " +
          "for Stripe and INR for Razorpay; 400 when the package has no price in it. 503 when the provider is not " +
          "configured or does not answer (the order is then marked failed; nothing is charged)."
      )
  )
  .add(
    HttpApiEndpoint.get("orders", "/api/payments/orders")
      .setUrlParams(PageParams(OrderCursor))
      .addSuccess(Page(Order, OrderCursor))
      .addError(httpError(NotFound))
      .annotate(OpenApi.Description, "The caller's orders, newest first. Pass `next_cursor` as `starting_after` for the next page.")
  )
  .add(
    HttpApiEndpoint.get("order", "/api/payments/orders/:order_id")
      .setPath(Schema.Struct({ order_id: Schema.UUID }))
      .addSuccess(OrderDetail)
      .addError(httpError(NotFound))
      .annotate(OpenApi.Description, "One order: its status, credits granted, refunds and disputes, and the provider events applied to it.")
  )
  .middlewareEndpoints(Authentication)
  .add(webhook("stripeWebhook", "stripe", "Stripe-Signature"))
  .add(webhook("razorpayWebhook", "razorpay", "X-Razorpay-Signature"))
  .annotate(OpenApi.Title, "Payments")
{}
