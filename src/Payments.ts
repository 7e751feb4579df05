/**
 * Buying credits: an order priced from our catalogue (never the client's numbers), its checkout at the
 * provider, the webhooks that pay, fail, expire or refund it (applied exactly once by `PaymentEvents`),
 * and reconciliation, which asks the providers about orders whose webhook never came.
 */
import type { Headers } from "@effect/platform"
import { Duration, Effect, Option } from "effect"
import { PaymentsConfig } from "./Config.js"
import { Credits } from "./Credits.js"
import { orDatabaseError } from "./Database.js"
import { Conflict, NotFound, UpstreamUnavailable, ValidationError } from "./Domain/Errors.js"
import { limitOf, type PageRequest, toPage } from "./Domain/Pagination.js"
import type { Order, OrderRow, PaymentChange, Provider } from "./Domain/Payments.js"
import { orFail } from "./Domain/Found.js"
import { PaymentEvents } from "./Payments/Events.js"
import { type PaymentProvider, PaymentProviders } from "./Payments/Providers.js"
import { PaymentsRepo } from "./Payments/Repo.js"

export interface CreateOrder {
  readonly userId: string
  readonly packageId: string
  readonly provider: Provider
  readonly currency?: string | undefined
  readonly idempotencyKey?: string | undefined
}

const defaultCurrency: Record<Provider, string> = { stripe: "USD", razorpay: "INR" }

/** Orders looked at per reconciliation run; the next run takes the rest. */
const reconcileBatch = 100

export class Payments extends Effect.Service<Payments>()("chatsight/Payments", {
  effect: Effect.gen(function*() {
    const repo = yield* PaymentsRepo
    const providers = yield* PaymentProviders
    const events = yield* PaymentEvents
    const credits = yield* Credits
    const config = yield* PaymentsConfig

    const toOrder = (row: OrderRow): Order => ({
      id: row.id,
      status: row.status,
      provider: row.provider,
      provider_order_id: row.provider_order_id,
      package_id: row.package_id,
      amount: row.amount,
      currency: row.currency,
      credits: row.credits,
      credits_granted: row.credits_granted,
      refunded_amount: row.refunded_amount,
      disputed_amount: row.disputed_amount,
      credits_reversed: row.credits_reversed,
      credits_owed: row.credits_owed,
      failure_reason: row.failure_reason,
      checkout_url: row.checkout_url,
      razorpay: row.provider === "razorpay" && row.provider_order_id !== null && Option.isSome(providers.razorpayKeyId)
        ? { key_id: providers.razorpayKeyId.value, order_id: row.provider_order_id }
        : null,
      created_at: row.created_at,
      updated_at: row.updated_at,
      paid_at: row.paid_at
    })

    /** The package's price in the currency asked for, from our catalogue. */
    const priceOf = (packageId: string, currency: string) =>
      Effect.gen(function*() {
        const found = yield* repo.packagePrices(packageId)
        if (Option.isNone(found)) {
          return yield* new ValidationError({
            message: `package_id: there is no package "${packageId}"; GET /api/credits/packages lists them`
          })
        }
        const pkg = found.value
        const price = pkg.prices.find((p) => p.currency === currency)
        if (price === undefined) {
          return yield* new ValidationError({
            message: `currency: the package "${packageId}" has no price in ${currency}; it is sold in ${
              pkg.prices.map((p) => p.currency).join(", ") || "no currency yet"
            }`
          })
        }
        return { name: pkg.name, credits: pkg.credits, amount: price.unit_amount }
      })

    /** Creates the provider's checkout for a stored order; a provider failure fails the order (503). */
    const checkout = (provider: PaymentProvider, row: OrderRow, packageName: string) =>
      provider.createCheckout({
        orderId: row.id,
        packageId: row.package_id,
        packageName,
        credits: row.credits,
        amount: row.amount,
        currency: row.currency
      }).pipe(
        Effect.tapError(() => repo.setStatus(row.id, "failed", "The payment provider did not answer; nothing was charged")),
        Effect.tap((made) => repo.setCheckout(row.id, made.providerOrderId, made.checkoutUrl)),
        Effect.flatMap(() => repo.owned({ userId: row.user_id, orderId: row.id })),
        Effect.flatMap(Option.match({
          onNone: () => Effect.dieMessage(`Order ${row.id} vanished while its checkout was made`),
          onSome: Effect.succeed
        }))
      )

    /** A stored order under the same Idempotency-Key: replayed, retried, or refused. */
    const again = (provider: PaymentProvider, existing: OrderRow, wanted: { packageId: string; currency: string }, packageName: string) => {
      if (existing.package_id !== wanted.packageId || existing.provider !== provider.name || existing.currency !== wanted.currency) {
        return Effect.fail(new Conflict({
          message: "This Idempotency-Key was already used for another order; use a new key for a new order"
        }))
      }
      if (existing.provider_order_id !== null) return Effect.succeed(existing)
      // Its checkout was never made: the provider failed (503), or the request died midway.
      const stale = Date.now() - existing.updated_at.getTime() > 2 * Duration.toMillis(config.providerTimeout)
      if (existing.status === "failed" || stale) return checkout(provider, existing, packageName)
      return Effect.fail(new Conflict({ message: "An order with this Idempotency-Key is still being created; retry shortly" }))
    }

    const createOrder = (input: CreateOrder) =>
      Effect.gen(function*() {
        const provider = yield* providers.get(input.provider)
        const currency = input.currency ?? defaultCurrency[input.provider]
        const price = yield* priceOf(input.packageId, currency)
        yield* credits.balance(input.userId)
        const wanted = { packageId: input.packageId, currency }
        const key = input.idempotencyKey ?? null
        if (key !== null) {
          const existing = yield* repo.byKey({ userId: input.userId, key })
          if (Option.isSome(existing)) return toOrder(yield* again(provider, existing.value, wanted, price.name))
        }
        const inserted = yield* repo.insertOrder({
          user_id: input.userId,
          package_id: input.packageId,
          provider: input.provider,
          amount: price.amount,
          currency,
          credits: price.credits,
          idempotency_key: key
        })
        if (Option.isNone(inserted)) {
          // Another request with this key won the insert a moment ago.
          const winner = yield* repo.byKey({ userId: input.userId, key: key ?? "" }).pipe(
            orFail(() => new Conflict({ message: "An order with this Idempotency-Key is still being created; retry shortly" }))
          )
          return toOrder(yield* again(provider, winner, wanted, price.name))
        }
        yield* Effect.annotateCurrentSpan({ "payment.order_id": inserted.value.id })
        const made = yield* checkout(provider, inserted.value, price.name)
        yield* Effect.logInfo("Order created").pipe(
          Effect.annotateLogs({ orderId: made.id, provider: made.provider, providerOrderId: made.provider_order_id ?? "none" })
        )
        return toOrder(made)
      }).pipe(
        orDatabaseError,
        Effect.withSpan("Payments.createOrder", {
          attributes: { "payment.provider": input.provider, "payment.package_id": input.packageId }
        })
      )

    const orderNotFound = (orderId: string) => new NotFound({ message: `No order ${orderId}` })

    const order = (userId: string, orderId: string) =>
      Effect.gen(function*() {
        const row = yield* repo.owned({ userId, orderId }).pipe(orFail(() => orderNotFound(orderId)))
        const history = yield* repo.eventsOf(orderId)
        return { ...toOrder(row), events: history }
      }).pipe(orDatabaseError, Effect.withSpan("Payments.order"))

    const orders = (userId: string, page: PageRequest<readonly [string, string]>) =>
      Effect.gen(function*() {
        yield* credits.balance(userId)
        const rows = yield* repo.list({ userId, limit: limitOf(page), after: page.starting_after ?? null })
        const result = toPage(rows, page, (row) => [row.created_at.toISOString(), row.id] as const)
        return { ...result, data: result.data.map(toOrder) }
      }).pipe(orDatabaseError, Effect.withSpan("Payments.orders"))

    /** A webhook: verified over its raw body, then stored once and applied once. */
    const webhook = (name: Provider, body: Uint8Array, headers: Headers.Headers) =>
      Effect.gen(function*() {
        const provider = yield* providers.get(name)
        const event = yield* provider.verify(body, headers)
        yield* Effect.annotateCurrentSpan({ "payment.event_id": event.eventId, "payment.event_type": event.eventType })
        return yield* events.receive(event)
      }).pipe(Effect.withSpan("Payments.webhook", { attributes: { "payment.provider": name } }))

    /** What reconciliation learnt about one order, applied as if the provider had sent it. */
    const receiveFound = (row: OrderRow, change: PaymentChange) =>
      events.receive({
        provider: row.provider,
        eventId: `reconcile:${row.id}:${change._tag}`,
        eventType: `reconcile.${change._tag.toLowerCase()}`,
        change,
        payload: { source: "reconciliation", order_id: row.id }
      })

    const reconcileOrder = (row: OrderRow) =>
      Effect.gen(function*() {
        const age = Date.now() - row.created_at.getTime()
        const tooOld = age > Duration.toMillis(config.expireAfter)
        const expired: PaymentChange = {
          _tag: "Expired",
          order_ref: row.id,
          provider_order_id: row.provider_order_id ?? `none:${row.id}`
        }
        if (row.provider_order_id === null) {
          // Its checkout was never made; nobody can pay it.
          if (tooOld) yield* repo.setStatus(row.id, "expired", "The checkout was never created")
          return
        }
        const provider = yield* providers.get(row.provider)
        const found = yield* provider.lookup({ id: row.id, providerOrderId: row.provider_order_id })
        // Paid is news at any age; anything else past the expiry age ends the order as expired.
        if (Option.isSome(found) && (found.value._tag === "Paid" || !tooOld)) return yield* receiveFound(row, found.value)
        if (tooOld) yield* receiveFound(row, expired)
      }).pipe(
        orDatabaseError,
        Effect.catchTags({
          PaymentsUnavailable: () => Effect.void,
          UpstreamUnavailable: (error: UpstreamUnavailable) =>
            Effect.logWarning("Reconciliation could not reach the provider; next run retries").pipe(
              Effect.annotateLogs({ orderId: row.id, detail: error.message })
            )
        }),
        Effect.withSpan("Payments.reconcileOrder", { attributes: { "payment.order_id": row.id } })
      )

    /**
     * One reconciliation pass: events left unapplied are applied, and orders still waiting after
     * `PAYMENTS_RECONCILE_AFTER` are looked up at their provider and completed, failed or expired through
     * the webhook's own path. Safe to run on several instances at once.
     */
    const reconcile = Effect.gen(function*() {
      const pending = yield* repo.pendingEvents(Duration.toSeconds(config.retryEventsAfter), reconcileBatch).pipe(orDatabaseError)
      for (const id of pending) yield* events.retry(id)
      const waiting = yield* repo.waiting({
        seconds: Duration.toSeconds(config.reconcileAfter),
        limit: reconcileBatch
      }).pipe(orDatabaseError)
      for (const row of waiting) yield* reconcileOrder(row)
      yield* Effect.logInfo("Payments reconciled").pipe(
        Effect.annotateLogs({ pendingEvents: pending.length, waitingOrders: waiting.length })
      )
      return { pendingEvents: pending.length, waitingOrders: waiting.length }
    }).pipe(Effect.withSpan("Payments.reconcile"))

    return { createOrder, order, orders, webhook, reconcile } as const
  }),
  dependencies: [PaymentsRepo.Default, PaymentEvents.Default, Credits.Default]
}) {}
