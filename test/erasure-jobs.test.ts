/**
 * Erasure while the user's jobs run: an embedding and an insight generation are mid-way (their model
 * answers slowly) when the account is erased. Both stop at their next step, cancelled and not retried,
 * the purge waits for them, and nothing either of them wrote is left afterwards.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { Erasure } from "../src/Domain/Erasure.js"
import { type FakeGemini, fakeGemini, fakeGeminiEnv } from "./support/fakeGemini.js"
import { insightChatFile } from "./support/insightChat.js"
import { tracesOf } from "./support/scan.js"
import { call, TestAppWithWorker, tokenFor, upload, waitFor } from "./support/TestApp.js"

class Fake extends Context.Tag("test/FakeGemini")<Fake, FakeGemini>() {}

const App = Layer.unwrapScoped(
  Effect.map(fakeGemini, (fake) =>
    TestAppWithWorker({
      RATE_LIMITS: "false",
      ...fakeGeminiEnv(fake),
      GEMINI_TIMEOUT: "10 seconds",
      WORKER_CONCURRENCY: "2"
    }).pipe(Layer.merge(Layer.succeed(Fake, fake))))
)

const jobsOf = (userId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ kind: string; status: string; attempts: number }>`
      SELECT kind, status, attempts FROM jobs WHERE user_id = ${userId} AND kind IN ('chat.embed', 'insights.generate')
      ORDER BY kind`).pipe(Effect.orDie)

layer(App, { excludeTestServices: true })("erasure while jobs run", (it) => {
  it.effect("a running embedding and a running insight job stop at their next step, are not retried, and leave nothing", () =>
    Effect.gen(function*() {
      const fake = yield* Fake
      const sub = `busy-${randomUUID()}`
      const token = yield* tokenFor(sub)
      expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
      const sql = yield* SqlClient.SqlClient
      // Enough credits for the category (a grant, as the ledger records one).
      yield* sql`WITH u AS (UPDATE users SET credit_balance = credit_balance + 40 WHERE id = ${sub} RETURNING credit_balance)
        INSERT INTO credit_transactions (user_id, kind, amount, balance_after, reference, description)
        SELECT ${sub}, 'grant', 40, credit_balance, 'test-grant', 'test' FROM u`
      fake.delayReplies(1500)
      const uploaded = yield* upload(token, insightChatFile)
      expect(uploaded.status).toBe(201)
      const chatId = Schema.decodeUnknownSync(Schema.Struct({ id: Schema.String }))(uploaded.body).id
      const unlocked = yield* call("POST", "/api/insights/unlock", { token, json: { chat_id: chatId, category_id: "relationship-dynamics" } })
      expect(unlocked.status).toBe(202)
      const running = yield* waitFor("both jobs to run", jobsOf(sub), (jobs) => jobs.length === 2 && jobs.every((job) => job.status === "running"))
      expect(running.map((job) => job.kind)).toEqual(["chat.embed", "insights.generate"])

      const erased = yield* call("DELETE", "/api/users/delete-account", { token, json: { confirm: sub } })
      expect(erased.status).toBe(202)
      const { id } = Schema.decodeUnknownSync(Erasure)(erased.body)
      const done = yield* waitFor("the purge", call("GET", `/api/users/erasures/${id}`), (reply) => JSON.stringify(reply.body).includes("\"done\""))
      expect(Schema.decodeUnknownSync(Erasure)(done.body).status).toBe("done")

      // Both jobs were cancelled where they stood and never run again.
      yield* Effect.sleep("2 seconds")
      const jobs = yield* jobsOf(`erased:${id}`)
      expect(jobs).toEqual([
        { kind: "chat.embed", status: "cancelled", attempts: 1 },
        { kind: "insights.generate", status: "cancelled", attempts: 1 }
      ])
      const [left] = yield* sql<{ chunks: number; insights: number; messages: number }>`
        SELECT (SELECT count(*) FROM chunks WHERE chat_id = ${chatId})::int AS chunks,
               (SELECT count(*) FROM insights WHERE chat_id = ${chatId})::int AS insights,
               (SELECT count(*) FROM messages WHERE chat_id = ${chatId})::int AS messages`
      expect(left).toEqual({ chunks: 0, insights: 0, messages: 0 })
      expect(yield* tracesOf([sub, chatId, "Noor Aziz"])).toEqual([])
      fake.reset()
    }), 60_000)
})
