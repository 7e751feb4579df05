/**
 * The SQL of payments: orders, provider events, and the prices they are made from. Row locks are taken
 * `NOWAIT` inside `Database.withLockRetry` blocks; events are stored once by their provider id.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { OrderEvent, OrderRow, OrderStatus, PaymentChange, Provider } from "../Domain/Payments.js"
import { orderColumns } from "./OrderColumns.js"


/** A stored event as applying it needs it. */
export const EventRow = Schema.Struct({
  id: Schema.String,
  provider: Provider,
  provider_event_id: Schema.String,
  event_type: Schema.String,
  change: PaymentChange,
  processed_at: Schema.NullOr(Schema.DateFromSelf)
})
export type EventRow = typeof EventRow.Type

export const PackagePrices = Schema.Struct({
  name: Schema.String,
  credits: Schema.Int,
  prices: Schema.Array(Schema.Struct({ currency: Schema.String, unit_amount: Schema.Int }))
})

export class PaymentsRepo extends Effect.Service<PaymentsRepo>()("chatsight/PaymentsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal(orderColumns)
    const eventColumns = sql.literal("id::text AS id, provider, provider_event_id, event_type, change, processed_at")

    /** An active package with its prices, to price an order; never the client's numbers. */
    const packagePrices = SqlSchema.findOne({
      Request: Schema.String,
      Result: PackagePrices,
      execute: (packageId) =>
        sql`SELECT p.name, p.credits,
                   coalesce(json_agg(json_build_object('currency', pr.currency, 'unit_amount', pr.unit_amount)
                            ORDER BY pr.currency) FILTER (WHERE pr.currency IS NOT NULL), '[]') AS prices
            FROM credit_packages p LEFT JOIN credit_package_prices pr ON pr.package_id = p.id
            WHERE p.id = ${packageId} AND p.is_active GROUP BY p.id`
    })

    /** A new order, or none when the user's idempotency key already names one. */
    const insertOrder = SqlSchema.findOne({
      Request: Schema.Struct({
        user_id: Schema.String,
        package_id: Schema.String,
        provider: Provider,
        amount: Schema.Int,
        currency: Schema.String,
        credits: Schema.Int,
        idempotency_key: Schema.NullOr(Schema.String)
      }),
      Result: OrderRow,
      execute: (row) =>
        sql`INSERT INTO payment_orders ${sql.insert(row)}
            ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING ${columns}`
    })

    const byKey = SqlSchema.findOne({
      Request: Schema.Struct({ userId: Schema.String, key: Schema.String }),
      Result: OrderRow,
      execute: ({ key, userId }) =>
        sql`SELECT ${columns} FROM payment_orders WHERE user_id = ${userId} AND idempotency_key = ${key}`
    })

    const owned = SqlSchema.findOne({
      Request: Schema.Struct({ userId: Schema.String, orderId: Schema.UUID }),
      Result: OrderRow,
      execute: ({ orderId, userId }) =>
        sql`SELECT ${columns} FROM payment_orders WHERE id = ${orderId} AND user_id = ${userId}`
    })

    /** Newest first, `limit + 1` rows, after the (created_at, id) position when given. */
    const list = SqlSchema.findAll({
      Request: Schema.Struct({
        userId: Schema.String,
        limit: Schema.Int,
        after: Schema.NullOr(Schema.Tuple(Schema.String, Schema.String))
      }),
      Result: OrderRow,
      execute: ({ after, limit, userId }) =>
        sql`SELECT ${columns} FROM payment_orders WHERE user_id = ${userId}
            ${after === null ? sql`` : sql`AND (created_at, id) < (${after[0]}::timestamptz, ${after[1]}::uuid)`}
            ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`
    })

    const eventsOf = SqlSchema.findAll({
      Request: Schema.String,
      Result: OrderEvent.pipe(Schema.omit("received_at", "processed_at"), Schema.extend(Schema.Struct({
        received_at: Schema.DateFromSelf,
        processed_at: Schema.NullOr(Schema.DateFromSelf)
      }))),
      execute: (orderId) =>
        sql`SELECT event_type, outcome, received_at, processed_at FROM payment_events
            WHERE order_id = ${orderId} ORDER BY id`
    })

    const setCheckout = (orderId: string, providerOrderId: string, checkoutUrl: string | null) =>
      sql`UPDATE payment_orders SET provider_order_id = ${providerOrderId}, checkout_url = ${checkoutUrl},
            status = 'created', failure_reason = NULL, updated_at = now()
          WHERE id = ${orderId}`

    const setStatus = (orderId: string, status: OrderStatus, reason: string | null) =>
      sql`UPDATE payment_orders SET status = ${status}, failure_reason = ${reason}, updated_at = now() WHERE id = ${orderId}`

    // Events --------------------------------------------------------------------------------------

    /** Stores an event once; none when its provider id was stored before. */
    const insertEvent = SqlSchema.findOne({
      Request: Schema.Struct({
        provider: Provider,
        provider_event_id: Schema.String,
        event_type: Schema.String,
        payload: Schema.Unknown,
        change: PaymentChange,
        payment_ref: Schema.NullOr(Schema.String)
      }),
      Result: Schema.Struct({ id: Schema.String }),
      execute: (row) =>
        sql`INSERT INTO payment_events ${
          sql.insert({ ...row, payload: JSON.stringify(row.payload), change: JSON.stringify(row.change) })
        } ON CONFLICT (provider, provider_event_id) DO NOTHING RETURNING id::text AS id`
    })

    const findEvent = SqlSchema.findOne({
      Request: Schema.Struct({ provider: Provider, eventId: Schema.String }),
      Result: EventRow,
      execute: ({ eventId, provider }) =>
        sql`SELECT ${eventColumns} FROM payment_events WHERE provider = ${provider} AND provider_event_id = ${eventId}`
    })

    /** An event still to apply, locked; none once applied. */
    const lockPendingEvent = SqlSchema.findOne({
      Request: Schema.String,
      Result: EventRow,
      execute: (id) =>
        sql`SELECT ${eventColumns} FROM payment_events WHERE id = ${id}::bigint AND processed_at IS NULL
            FOR UPDATE NOWAIT`
    })

    /** Records what became of an event; `done` false leaves it to apply again (held for its payment). */
    const finishEvent = (input: { id: string; outcome: string; orderId: string | null; done: boolean }) =>
      sql`UPDATE payment_events SET outcome = ${input.outcome}, order_id = coalesce(${input.orderId}::uuid, order_id),
            processed_at = ${input.done ? sql`now()` : sql`NULL`}
          WHERE id = ${input.id}::bigint`

    /** Events of `provider` waiting for a payment that is now known: by its order, or by its payment id. */
    const heldFor = (provider: Provider, orderId: string, paymentId: string | null) =>
      sql<{ id: string }>`SELECT id::text AS id FROM payment_events
        WHERE processed_at IS NULL AND outcome = 'held' AND provider = ${provider}
          AND (order_id = ${orderId}::uuid OR (${paymentId}::text IS NOT NULL AND payment_ref = ${paymentId}))
        ORDER BY id`.pipe(Effect.map((rows) => rows.map((row) => row.id)))

    /** Events still to apply that have waited longer than `seconds` (their delivery died, or they were held). */
    const pendingEvents = (seconds: number, limit: number) =>
      sql<{ id: string }>`SELECT id::text AS id FROM payment_events
        WHERE processed_at IS NULL AND received_at < now() - make_interval(secs => ${seconds})
        ORDER BY id LIMIT ${limit}`.pipe(Effect.map((rows) => rows.map((row) => row.id)))

    // Orders under lock ---------------------------------------------------------------------------

    const lockOrder = SqlSchema.findOne({
      Request: Schema.Struct({
        provider: Provider,
        id: Schema.NullOr(Schema.String),
        providerOrderId: Schema.NullOr(Schema.String),
        paymentId: Schema.NullOr(Schema.String)
      }),
      Result: OrderRow,
      execute: ({ id, paymentId, provider, providerOrderId }) =>
        sql`SELECT ${columns} FROM payment_orders
            WHERE provider = ${provider} AND (
              (${providerOrderId}::text IS NOT NULL AND provider_order_id = ${providerOrderId})
              OR (${paymentId}::text IS NOT NULL AND provider_payment_id = ${paymentId})
              OR (${id}::text IS NOT NULL AND id::text = ${id}))
            ORDER BY (provider_order_id = ${providerOrderId}) DESC NULLS LAST LIMIT 1
            FOR UPDATE NOWAIT`
    })

    const markPaid = (orderId: string, paymentId: string | null, providerOrderId: string) =>
      sql`UPDATE payment_orders SET status = 'paid', paid_at = now(), credits_granted = credits, failure_reason = NULL,
            provider_payment_id = coalesce(${paymentId}, provider_payment_id),
            provider_order_id = coalesce(provider_order_id, ${providerOrderId}), updated_at = now()
          WHERE id = ${orderId}`

    const setReversal = (orderId: string, fields: {
      readonly refunded_amount: number
      readonly disputed_amount: number
      readonly credits_reversed: number
      readonly credits_owed: number
    }) => sql`UPDATE payment_orders SET ${sql.update(fields)}, updated_at = now() WHERE id = ${orderId}`

    /** The user's orders whose reversed credits could not all be taken back, locked. */
    const owing = SqlSchema.findAll({
      Request: Schema.String,
      Result: OrderRow,
      execute: (userId) =>
        sql`SELECT ${columns} FROM payment_orders WHERE user_id = ${userId} AND credits_owed > 0
            ORDER BY created_at FOR UPDATE NOWAIT`
    })

    /** Orders still waiting for their payment after `seconds`, newest `days` only, for reconciliation. */
    const waiting = SqlSchema.findAll({
      Request: Schema.Struct({ seconds: Schema.Number, limit: Schema.Int }),
      Result: OrderRow,
      execute: ({ limit, seconds }) =>
        sql`SELECT ${columns} FROM payment_orders
            WHERE status IN ('created', 'failed') AND created_at < now() - make_interval(secs => ${seconds})
              AND created_at > now() - interval '30 days'
            ORDER BY created_at LIMIT ${limit}`
    })

    return {
      packagePrices,
      insertOrder,
      byKey,
      owned,
      list,
      eventsOf,
      setCheckout,
      setStatus,
      insertEvent,
      findEvent,
      lockPendingEvent,
      finishEvent,
      heldFor,
      pendingEvents,
      lockOrder,
      markPaid,
      setReversal,
      owing,
      waiting
    } as const
  })
}) {}
