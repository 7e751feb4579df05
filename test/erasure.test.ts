/**
 * Account erasure: the account closes at once, the purge removes every copy of its content (every
 * table scanned, pgvector and Qdrant alike), what accounting keeps stays pseudonymised, and the subject
 * may come back to a fresh, empty account without a second welcome.
 */
import type { HttpClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { Erasure } from "../src/Domain/Erasure.js"
import { insightChatFile } from "./support/insightChat.js"
import { buyer, createOrder, deliverStripe, Doubles, ledgerAudit, PaymentsApp } from "./support/payments.js"
import { makeQdrantDouble, QdrantDouble } from "./support/qdrantDouble.js"
import { tracesOf } from "./support/scan.js"
import { call, refused, tokenFor, upload, waitFor } from "./support/TestApp.js"

const Id = Schema.Struct({ id: Schema.String })

/** A chat whose text, file name and question carry `marker`. */
const markedChat = (marker: string) => ({
  name: `WhatsApp Chat with ${marker}.txt`,
  bytes: new Uint8Array(Buffer.concat([
    Buffer.from(insightChatFile.bytes),
    Buffer.from(`20/05/2024, 09:00 - Noor Aziz: the code word is ${marker} remember it\n`)
  ]))
})

/** Everything a user can leave behind: a chat (embedded, shared, asked about, with insights), a purchase, an open order. */
const fillAccount = (sub: string, marker: string) =>
  Effect.gen(function*() {
    const { stripe } = yield* Doubles
    const token = yield* buyer(sub)
    const uploaded = yield* upload(token, markedChat(marker))
    expect(uploaded.status).toBe(201)
    const chatId = Schema.decodeUnknownSync(Id)(uploaded.body).id
    yield* waitFor("the chat's vectors", call("GET", `/api/chats/${chatId}/vector-status`, { token }), (reply) =>
      JSON.stringify(reply.body).includes("\"ready\""))
    expect((yield* call("PUT", `/api/chats/${chatId}/sharing`, { token, json: { enabled: true } })).status).toBe(200)
    const asked = yield* call("POST", "/api/rag/query", { token, json: { chat_id: chatId, question: `what is ${marker}?` } })
    expect(asked.status).toBe(200)
    const paid = yield* createOrder(token, { package_id: "popular", provider: "stripe" })
    expect((yield* deliverStripe(stripe.pay(paid.provider_order_id ?? ""))).status).toBe(200)
    const open = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
    const unlocked = yield* call("POST", "/api/insights/unlock", { token, json: { chat_id: chatId, category_id: "relationship-dynamics" } })
    expect(unlocked.status).toBe(202)
    const jobId = Schema.decodeUnknownSync(Schema.Struct({ job_id: Schema.String }))(unlocked.body).job_id
    yield* waitFor("the insights", call("GET", `/api/insights/jobs/${jobId}/status`, { token }), (reply) =>
      JSON.stringify(reply.body).includes("\"succeeded\""))
    return { token, chatId, paidOrder: paid.id, openOrder: open.id }
  })

const erase = (token: string, confirm: string) =>
  Effect.gen(function*() {
    const reply = yield* call("DELETE", "/api/users/delete-account", { token, json: { confirm } })
    expect(reply.status, JSON.stringify(reply.body)).toBe(202)
    return Schema.decodeUnknownSync(Erasure)(reply.body)
  })

const purged = (erasureId: string) =>
  waitFor("the purge", call("GET", `/api/users/erasures/${erasureId}`), (reply) => JSON.stringify(reply.body).includes("\"done\"")).pipe(
    Effect.map((reply) => Schema.decodeUnknownSync(Erasure)(reply.body))
  )

const erasureSuite = <R, E>(
  name: string,
  app: Layer.Layer<R | Doubles | SqlClient.SqlClient | HttpClient.HttpClient, E>,
  vectorsLeft: (chatId: string, sub: string) => Effect.Effect<number, never, R | SqlClient.SqlClient>
) =>
  layer(app, { excludeTestServices: true })(name, (it) => {
    it.effect("the account closes at once and the purge leaves nothing of its content anywhere; accounting stays, pseudonymised", () =>
      Effect.gen(function*() {
        const sub = `erase-${randomUUID()}`
        const marker = `zq${randomUUID().replaceAll("-", "").slice(0, 12)}`
        const { chatId, openOrder, paidOrder, token } = yield* fillAccount(sub, marker)
        const email = `${sub}@example.com`
        expect(yield* vectorsLeft(chatId, sub)).toBeGreaterThan(0)
        // The scan sees the account's content before the erasure (so finding nothing after it means something).
        expect((yield* tracesOf([sub, marker, chatId])).length).toBeGreaterThan(5)

        const erasure = yield* erase(token, sub)
        expect(erasure.status).not.toBe("done")
        // At once: the token is refused, the public page is gone, the open order is cancelled.
        refused(yield* call("GET", "/api/credits/balance", { token }), 401, "unauthorized", "deleted")
        refused(yield* call("DELETE", "/api/users/delete-account", { token, json: { confirm: sub } }), 401, "unauthorized")
        refused(yield* call("GET", `/api/chats/public/${chatId}/stats`), 404, "not_found")
        const sql = yield* SqlClient.SqlClient
        const [open] = yield* sql<{ status: string }>`SELECT status FROM payment_orders WHERE id = ${openOrder}`
        expect(open?.status).toBe("cancelled")

        const done = yield* purged(erasure.id)
        expect(done.counts).toMatchObject({ chats: 1, conversations: 1 })
        for (const key of ["messages", "chunks", "vectors", "insights", "ledger_entries_pseudonymised"]) {
          expect(done.counts[key], key).toBeGreaterThan(0)
        }
        expect(yield* tracesOf([sub, marker, email, chatId])).toEqual([])
        expect(yield* vectorsLeft(chatId, sub)).toBe(0)

        // Kept for accounting, under the pseudonym: the ledger and the orders.
        const pseudonym = `erased:${erasure.id}`
        const [kept] = yield* sql<{ entries: number; orders: number; email: string | null }>`
          SELECT (SELECT count(*) FROM credit_transactions WHERE user_id = ${pseudonym})::int AS entries,
                 (SELECT count(*) FROM payment_orders WHERE user_id = ${pseudonym} AND id IN (${paidOrder}, ${openOrder}))::int AS orders,
                 (SELECT email FROM users WHERE id = ${pseudonym}) AS email`
        expect(kept).toEqual({ entries: expect.any(Number), orders: 2, email: null })
        expect(kept?.entries ?? 0).toBeGreaterThanOrEqual(3)
        yield* ledgerAudit

        // The subject comes back (a token issued after the erasure): a fresh, empty account, no second welcome.
        yield* Effect.sleep("1100 millis")
        const fresh = yield* tokenFor(sub, { email })
        const stored = yield* call("POST", "/api/users/store", { token: fresh })
        expect(stored.body).toMatchObject({ id: sub, created: true, credit_balance: 0 })
        expect((yield* call("GET", "/api/chats", { token: fresh })).body).toMatchObject({ data: [] })
        refused(yield* call("GET", "/api/credits/balance", { token }), 401, "unauthorized")
      }))

    it.effect("deleting a chat purges it from the exports made before too", () =>
      Effect.gen(function*() {
        const token = yield* buyer(`export-copy-${randomUUID()}`)
        const uploaded = yield* upload(token, insightChatFile)
        const chatId = Schema.decodeUnknownSync(Id)(uploaded.body).id
        const started = yield* call("POST", "/api/users/export", { token })
        const exportId = Schema.decodeUnknownSync(Id)(started.body).id
        yield* waitFor("the export", call("GET", `/api/users/exports/${exportId}`, { token }), (reply) => reply.status === 200)
        expect((yield* call("DELETE", `/api/chats/${chatId}`, { token })).status).toBe(200)
        // A download caught while the purge deletes its parts is cut off; that is the export going too, so poll on.
        const status = call("GET", `/api/users/exports/${exportId}`, { token }).pipe(
          Effect.map((reply) => reply.status),
          Effect.catchAllDefect(() => Effect.succeed(0))
        )
        yield* waitFor("the export to go with the chat", status, (code) => code === 404)
      }))

    it.effect("a missing confirmation, or one that is not the account's email, is a 400 that erases nothing; the erasure id is the only key to its report", () =>
      Effect.gen(function*() {
        const sub = `confirm-${randomUUID()}`
        const token = yield* tokenFor(sub, { email: "owner@example.com" })
        expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
        refused(yield* call("DELETE", "/api/users/delete-account", { token, json: { confirm: "someone@example.com" } }), 400, "validation_error", "confirm")
        refused(yield* call("DELETE", "/api/users/delete-account", { token }), 400, "validation_error")
        expect((yield* call("GET", "/api/credits/balance", { token })).status).toBe(200)
        const reply = yield* call("DELETE", "/api/users/delete-account", { token, json: { confirm: "Owner@Example.com" } })
        expect(reply.status).toBe(202)
        refused(yield* call("GET", `/api/users/erasures/${randomUUID()}`), 404, "not_found")
        refused(yield* call("GET", "/api/users/erasures/not-an-id"), 400, "validation_error")
      }))
  })

const pgvectorLeft = (chatId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ n: number }>`SELECT count(*)::int AS n FROM chunks WHERE chat_id = ${chatId} AND embedding IS NOT NULL`).pipe(
      Effect.map((rows) => rows[0]?.n ?? 0),
      Effect.orDie
    )

erasureSuite<never, unknown>("account erasure on pgvector", PaymentsApp(), pgvectorLeft)

// The same with Qdrant (its double) as the vector store: the points go by filter.
const QdrantApp = Layer.unwrapScoped(
  Effect.map(makeQdrantDouble, (double) =>
    PaymentsApp({ VECTOR_BACKEND: "qdrant", QDRANT_URL: double.url }).pipe(Layer.merge(Layer.succeed(QdrantDouble, double))))
)

const qdrantLeft = (chatId: string, sub: string) =>
  Effect.map(QdrantDouble, (double) =>
    [...double.collections.values()].flatMap((collection) => [...collection.points.values()])
      .filter((point) => point.payload["chatId"] === chatId || point.payload["userId"] === sub).length)

erasureSuite<QdrantDouble, unknown>("account erasure on Qdrant", QdrantApp, qdrantLeft)
