/** Handlers of the payments group. Webhooks read their raw body here: signatures are over the bytes as sent. */
import { HttpApiBuilder, HttpServerRequest } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { ServerConfig } from "../Config.js"
import { PayloadTooLarge } from "../Domain/Errors.js"
import type { Provider } from "../Domain/Payments.js"
import { CurrentUser } from "../Domain/RequestContext.js"
import { Payments } from "../Payments.js"
import { PaymentProvidersLive } from "./Providers.js"

export const HttpPaymentsLive = HttpApiBuilder.group(Api, "payments", (handlers) =>
  Effect.gen(function*() {
    const payments = yield* Payments
    const { maxBodyBytes } = yield* ServerConfig

    const webhook = (provider: Provider) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        // The edge caps the body at MAX_BODY_BYTES; a body cut there (or a dropped connection) ends here.
        const body = yield* request.arrayBuffer.pipe(
          Effect.mapError(() => new PayloadTooLarge({ message: `A webhook body is read up to ${maxBodyBytes} bytes` }))
        )
        return yield* payments.webhook(provider, new Uint8Array(body), request.headers)
      })

    return handlers
      .handle("createOrder", ({ headers, payload }) =>
        Effect.flatMap(CurrentUser, (user) =>
          payments.createOrder({
            userId: user.sub,
            packageId: payload.package_id,
            provider: payload.provider,
            currency: payload.currency,
            idempotencyKey: headers["idempotency-key"]
          })))
      .handle("orders", ({ urlParams }) => Effect.flatMap(CurrentUser, (user) => payments.orders(user.sub, urlParams)))
      .handle("order", ({ path }) => Effect.flatMap(CurrentUser, (user) => payments.order(user.sub, path.order_id)))
      .handle("stripeWebhook", () => webhook("stripe"))
      .handle("razorpayWebhook", () => webhook("razorpay"))
  })).pipe(Layer.provide(Payments.Default), Layer.provide(PaymentProvidersLive))
