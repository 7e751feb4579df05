/**
 * The real server process killed (SIGKILL) after it stored a paid event and before it credited it,
 * then started again on the same database: the event is applied once, by reconciliation's sweep, and
 * the provider's redelivery afterwards changes nothing. The kill lands in that window because a test
 * session holds the order's row lock, so the crediting transaction keeps retrying.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import * as Pg from "pg"
import { paymentsEnv, startDoubles } from "./support/payments.js"
import { freePort, http, query, serverEnv, startServer, until } from "./support/serverProcess.js"
import { needsPostgres, onPostgres, scratchDatabase, tokenFor } from "./support/TestApp.js"

const Created = Schema.Struct({ id: Schema.String, provider_order_id: Schema.String })
const Balance = Schema.Struct({ balance: Schema.Number })

layer(Layer.empty, { excludeTestServices: true })("a payment across a crash", (it) => {
  const name = "SIGKILL between storing a paid event and crediting it, then a restart: credited exactly once"
  it.scoped.skipIf(!onPostgres)(onPostgres ? name : `${name} (${needsPostgres})`, () =>
    Effect.gen(function*() {
      const doubles = yield* startDoubles
      const database = yield* scratchDatabase({ fromTemplate: true })
      const env = (port: number) => ({
        ...paymentsEnv(doubles),
        ...serverEnv(port, database.url),
        RATE_LIMITS: "false",
        // A busy lock keeps the crediting transaction retrying for a minute: the window for the kill.
        LOCK_RETRY_MAX: "300",
        LOCK_RETRY_MAX_DELAY: "200 millis",
        PAYMENTS_RECONCILE_INTERVAL: "500 millis",
        PAYMENTS_RETRY_EVENTS_AFTER: "1 second",
        WORKER_POLL_INTERVAL: "200 millis"
      })
      const userId = "crash-buyer"
      const token = yield* tokenFor(userId)

      const port = yield* freePort
      const first = yield* startServer(env(port))
      const base = `http://127.0.0.1:${port}`
      yield* until("the first server to start", 60, http(`${base}/health`, { token }), (reply) => reply.status === 200)
      expect((yield* http(`${base}/api/users/store`, { method: "POST", token })).status).toBe(200)
      const before = Schema.decodeUnknownSync(Balance)((yield* http(`${base}/api/credits/balance`, { token })).body).balance
      const created = yield* http(`${base}/api/payments/orders`, { method: "POST", token, json: { package_id: "popular", provider: "stripe" } })
      expect(created.status).toBe(201)
      const order = Schema.decodeUnknownSync(Created)(created.body)
      const event = doubles.stripe.pay(order.provider_order_id)

      // Another session holds the order's row: the event is stored, its crediting waits.
      const holder = new Pg.Client({ connectionString: database.url })
      yield* Effect.promise(() => holder.connect())
      yield* Effect.addFinalizer(() => Effect.promise(() => holder.end()))
      yield* Effect.promise(() => holder.query("BEGIN"))
      yield* Effect.promise(() => holder.query("SELECT id FROM payment_orders WHERE id = $1 FOR UPDATE", [order.id]))
      const delivery = doubles.stripe.deliver(event, { url: `${base}/api/payments/webhooks/stripe` }).catch(() => "connection lost")
      const stored = yield* until(
        "the event to be stored",
        30,
        query<{ processed: boolean }>(database.url, "SELECT processed_at IS NOT NULL AS processed FROM payment_events WHERE provider_event_id = $1", [event.id]),
        (rows) => rows.length === 1
      )
      expect(stored).toEqual([{ processed: false }])
      if (first.child.pid !== undefined) process.kill(-first.child.pid, "SIGKILL")
      expect((yield* Effect.promise(() => first.exited)).signal).toBe("SIGKILL")
      expect(yield* Effect.promise(() => delivery)).toBe("connection lost")
      yield* Effect.promise(() => holder.query("ROLLBACK"))
      const purchases = query<{ n: number }>(database.url, "SELECT count(*)::int AS n FROM credit_transactions WHERE user_id = $1 AND kind = 'purchase'", [userId])
      expect(yield* purchases).toEqual([{ n: 0 }])

      // A new process on the same database: reconciliation applies the stored event by itself.
      const secondPort = yield* freePort
      yield* startServer(env(secondPort))
      const again = `http://127.0.0.1:${secondPort}`
      yield* until("the stored event to be credited", 60, http(`${again}/api/credits/balance`, { token }), (reply) =>
        reply.status === 200 && Schema.decodeUnknownSync(Balance)(reply.body).balance === before + 30)
      // The provider, which never got its 200, delivers again: nothing changes.
      const redelivered = yield* Effect.promise(() => doubles.stripe.deliver(event, { url: `${again}/api/payments/webhooks/stripe` }))
      expect(redelivered.status).toBe(200)
      expect(JSON.parse(redelivered.body)).toEqual({ received: true, first_delivery: false })
      expect(yield* purchases).toEqual([{ n: 1 }])
      const balance = Schema.decodeUnknownSync(Balance)((yield* http(`${again}/api/credits/balance`, { token })).body).balance
      expect(balance).toBe(before + 30)
      expect(yield* query(database.url, "SELECT (credit_balance - (SELECT sum(amount) FROM credit_transactions WHERE user_id = $1))::int AS drift FROM users WHERE id = $1", [userId]))
        .toEqual([{ drift: 0 }])
    }), 120_000)
})
