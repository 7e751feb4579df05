/**
 * Applying what providers tell us, exactly once. An event is first stored under its provider id (a
 * redelivery finds it there), then applied in one transaction that locks the event and its order:
 * a paid order is credited under the ledger reference of our order id, refunds and disputes take credits
 * back per cumulative amount, and the row is marked applied with its outcome. Webhooks and
 * reconciliation both come through `receive`, so they cannot disagree.
 *
 * Rules: the event's amount and currency must equal the order's and the order must be the one the
 * provider names, or nothing is credited (outcome `mismatch`); a late failure or expiry never un-pays;
 * a refund or dispute whose payment we do not know yet is held (left unapplied) and applied when its
 * payment is; credits already spent when a refund comes are recorded as owed on the order and taken
 * from the user's next purchase, so the balance never goes below zero.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Cause, Effect, Option, type ParseResult } from "effect"
import { Conflict, type DatabaseError, InsufficientCredits, type LockTimeout } from "../Domain/Errors.js"
import { Credits } from "../Credits.js"
import { Database, orDatabaseError } from "../Database.js"
import type { OrderRow, PaymentChange, VerifiedEvent } from "../Domain/Payments.js"
import { type EventRow, PaymentsRepo } from "./Repo.js"

export interface Applied {
  readonly outcome: string
  readonly orderId: string | null
  /** False leaves the event to apply again later (held until its payment is known). */
  readonly done: boolean
}

const result = (outcome: string, order: OrderRow | null, done = true): Applied => ({
  outcome,
  orderId: order?.id ?? null,
  done
})

type Paid = Extract<PaymentChange, { _tag: "Paid" }>
type OrderChange = Extract<PaymentChange, { _tag: "Paid" | "Failed" | "Expired" }>
type Reversal = Extract<PaymentChange, { _tag: "Refunded" | "Disputed" }>

/** The credits a refunded or disputed amount takes back: its share of those granted, rounded up. */
export const creditsToReverse = (order: OrderRow, refunded: number, disputed: number): number => {
  const reversedAmount = Math.min(order.amount, refunded + disputed)
  return Math.min(order.credits_granted, Math.ceil((order.credits_granted * reversedAmount) / order.amount))
}

const paymentRefOf = (change: PaymentChange): string | null =>
  change._tag === "Paid" || change._tag === "Refunded" || change._tag === "Disputed" ? change.payment_id : null

export class PaymentEvents extends Effect.Service<PaymentEvents>()("chatsight/PaymentEvents", {
  effect: Effect.gen(function*() {
    const db = yield* Database
    const repo = yield* PaymentsRepo
    const credits = yield* Credits

    const accountClosed = (order: OrderRow) =>
      Effect.logError("Payment event for a closed account; nothing credited or taken").pipe(
        Effect.annotateLogs({ orderId: order.id }),
        Effect.as(result("account_closed", order))
      )

    /**
     * A reference posted with another amount, a purchase refused for its balance, an insert that returned
     * no row: only a bug does that.
     */
    const ledgerBugs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.catchIf(
        effect,
        <T>(error: T): error is Extract<T, Conflict | InsufficientCredits | Cause.NoSuchElementException> =>
          error instanceof Conflict || error instanceof InsufficientCredits || Cause.isNoSuchElementException(error),
        (error) => Effect.die(error)
      )

    /** The order an order-level event names, when it really is that order. */
    const orderFor = (event: EventRow, change: OrderChange) =>
      Effect.gen(function*() {
        const found = yield* repo.lockOrder({
          provider: event.provider,
          id: change.order_ref,
          providerOrderId: change.provider_order_id,
          paymentId: null
        })
        if (Option.isNone(found)) return Option.none<OrderRow>()
        const order = found.value
        const sameProviderOrder = order.provider_order_id === null || order.provider_order_id === change.provider_order_id
        const sameRef = change.order_ref === null || change.order_ref === order.id
        if (!sameProviderOrder || !sameRef) {
          yield* Effect.logError("Payment event names two different orders; ignored").pipe(
            Effect.annotateLogs({ orderId: order.id, providerOrderId: change.provider_order_id, orderRef: change.order_ref ?? "none" })
          )
          return Option.none<OrderRow>()
        }
        return found
      })

    /** Takes back what owed orders of the user still owe, from the credits a purchase just added. */
    const settleDebts = (userId: string, purchaseId: string) =>
      Effect.gen(function*() {
        for (const order of yield* repo.owing(userId)) {
          const { taken } = yield* credits.reclaim({
            userId,
            amount: order.credits_owed,
            reference: `payment:${order.id}:settle:${purchaseId}`,
            description: `Credits owed for refunded order ${order.id}, taken from order ${purchaseId}`
            // The account was just credited in this transaction: it exists.
          }).pipe(ledgerBugs, Effect.catchTag("NotFound", (error) => Effect.die(error)))
          if (taken === 0) continue
          yield* repo.setReversal(order.id, {
            refunded_amount: order.refunded_amount,
            disputed_amount: order.disputed_amount,
            credits_reversed: order.credits_reversed + taken,
            credits_owed: order.credits_owed - taken
          })
          yield* Effect.logInfo("Owed credits settled").pipe(Effect.annotateLogs({ orderId: order.id, purchaseId, taken }))
        }
      })

    const onPaid = (event: EventRow, change: Paid) =>
      Effect.gen(function*() {
        const found = yield* orderFor(event, change)
        if (Option.isNone(found)) return result("unknown_order", null)
        const order = found.value
        if (change.amount !== order.amount || change.currency !== order.currency) {
          yield* Effect.logError("Paid amount or currency differs from the order; nothing credited").pipe(
            Effect.annotateLogs({
              orderId: order.id,
              expected: `${order.amount} ${order.currency}`,
              received: `${change.amount} ${change.currency}`
            })
          )
          return result("mismatch", order)
        }
        if (order.status === "paid") {
          if (change.payment_id !== null && order.provider_payment_id !== null && change.payment_id !== order.provider_payment_id) {
            // The buyer paid twice for one order: credited once; the second payment is for an operator to refund.
            yield* Effect.logError("A second payment for an order already paid; nothing credited, refund it").pipe(
              Effect.annotateLogs({ orderId: order.id, paymentId: change.payment_id })
            )
            return result("duplicate_payment", order)
          }
          return result("no_change", order)
        }
        const posted = yield* credits.purchase({
          userId: order.user_id,
          amount: order.credits,
          reference: `payment:${order.id}`,
          description: `Bought ${order.credits} credits (${order.package_id}) with ${order.provider}`
        }).pipe(ledgerBugs, Effect.as(true), Effect.catchTag("NotFound", () => Effect.succeed(false)))
        if (!posted) {
          yield* repo.setStatus(order.id, "paid", "The account was closed before the payment arrived; refund it")
          return yield* accountClosed(order)
        }
        yield* repo.markPaid(order.id, change.payment_id, change.provider_order_id)
        yield* settleDebts(order.user_id, order.id)
        yield* Effect.logInfo("Order paid and credited").pipe(
          Effect.annotateLogs({ orderId: order.id, credits: order.credits })
        )
        // Refunds or disputes that came first were held for this payment.
        const held = yield* repo.heldFor(event.provider, order.id, change.payment_id)
        for (const id of held) if (id !== event.id) yield* apply(id)
        return result("credited", order)
      })

    const onOrderState = (event: EventRow, change: Extract<PaymentChange, { _tag: "Failed" | "Expired" }>) =>
      Effect.gen(function*() {
        const found = yield* orderFor(event, change)
        if (Option.isNone(found)) return result("unknown_order", null)
        const order = found.value
        // Out of order is normal: a late failure or expiry never un-pays, and an expired order stays so.
        if (order.status === "paid" || order.status === "expired") return result("no_change", order)
        if (change._tag === "Failed") {
          yield* repo.setStatus(order.id, "failed", change.reason)
          return result("failed", order)
        }
        yield* repo.setStatus(order.id, "expired", null)
        return result("expired", order)
      })

    const onReversal = (event: EventRow, change: Reversal) =>
      Effect.gen(function*() {
        const found = yield* repo.lockOrder({
          provider: event.provider,
          id: null,
          providerOrderId: change.provider_order_id,
          paymentId: change.payment_id
        })
        const order = Option.getOrNull(found)
        if (order === null || order.status !== "paid") return result("held", order, false)
        if (change.currency !== order.currency) return result("mismatch", order)
        const refunded = change._tag === "Refunded" ? Math.max(order.refunded_amount, change.refunded_total) : order.refunded_amount
        const disputed = change._tag === "Disputed" ? Math.max(order.disputed_amount, change.amount) : order.disputed_amount
        const target = creditsToReverse(order, refunded, disputed)
        const due = target - order.credits_reversed - order.credits_owed
        const amounts = { refunded_amount: refunded, disputed_amount: disputed }
        if (due <= 0) {
          yield* repo.setReversal(order.id, { ...amounts, credits_reversed: order.credits_reversed, credits_owed: order.credits_owed })
          return result("no_change", order)
        }
        const reclaimed = yield* credits.reclaim({
          userId: order.user_id,
          amount: due,
          reference: `payment:${order.id}:reversal:${target}`,
          description: `${change._tag === "Refunded" ? "Refund" : "Dispute"} of order ${order.id}: ${due} credits taken back`
        }).pipe(ledgerBugs, Effect.map(Option.some), Effect.catchTag("NotFound", () => Effect.succeed(Option.none())))
        if (Option.isNone(reclaimed)) return yield* accountClosed(order)
        const { taken } = reclaimed.value
        yield* repo.setReversal(order.id, {
          ...amounts,
          credits_reversed: order.credits_reversed + taken,
          credits_owed: order.credits_owed + due - taken
        })
        yield* Effect.logInfo("Credits taken back for a refund or dispute").pipe(
          Effect.annotateLogs({ orderId: order.id, taken, owed: due - taken })
        )
        return result("reversed", order)
      })

    type ApplyError = DatabaseError | LockTimeout | SqlError | ParseResult.ParseError

    const dispatch = (event: EventRow): Effect.Effect<Applied, ApplyError> => {
      const change = event.change
      switch (change._tag) {
        case "Paid":
          return onPaid(event, change)
        case "Failed":
        case "Expired":
          return onOrderState(event, change)
        case "Refunded":
        case "Disputed":
          return onReversal(event, change)
        case "Ignored":
          return Effect.succeed(result("ignored", null))
      }
    }

    /** Applies a stored event unless it was applied already; locks it and its order for the whole block. */
    function apply(id: string): Effect.Effect<Option.Option<Applied>, DatabaseError | LockTimeout> {
      return Effect.gen(function*() {
        const pending = yield* repo.lockPendingEvent(id)
        if (Option.isNone(pending)) return Option.none<Applied>()
        const event = pending.value
        const applied = yield* dispatch(event)
        yield* repo.finishEvent({ id, ...applied })
        yield* Effect.logInfo("Payment event applied").pipe(
          Effect.annotateLogs({
            provider: event.provider,
            eventId: event.provider_event_id,
            eventType: event.event_type,
            outcome: applied.outcome,
            orderId: applied.orderId ?? "none"
          })
        )
        return Option.some(applied)
      }).pipe(db.withLockRetry)
    }

    /**
     * Stores a verified event once and applies it. A redelivery of an applied event changes nothing; one
     * whose first delivery died before applying it applies it now.
     */
    const receive = (event: VerifiedEvent) =>
      Effect.gen(function*() {
        const stored = yield* repo.insertEvent({
          provider: event.provider,
          provider_event_id: event.eventId,
          event_type: event.eventType,
          payload: event.payload,
          change: event.change,
          payment_ref: paymentRefOf(event.change)
        })
        const id = Option.isSome(stored)
          ? stored.value.id
          : Option.getOrNull(yield* repo.findEvent({ provider: event.provider, eventId: event.eventId }))?.id
        if (id === undefined || id === null) return yield* Effect.dieMessage("A stored payment event vanished")
        yield* apply(id)
        return { received: true as const, first_delivery: Option.isSome(stored) }
      }).pipe(
        orDatabaseError,
        Effect.withSpan("Payments.receiveEvent", {
          attributes: { "payment.provider": event.provider, "payment.event_id": event.eventId, "payment.event_type": event.eventType }
        })
      )

    /** Applies one event left unapplied (its delivery died, or it was held); for the reconciliation sweep. */
    const retry = (id: string) => apply(id).pipe(orDatabaseError, Effect.withSpan("Payments.retryEvent"))

    return { receive, retry } as const
  }),
  dependencies: [PaymentsRepo.Default, Credits.Default]
}) {}
