/**
 * The real server process killed (SIGKILL) while it generates a category's insights, then started
 * again on the same database: the job is taken up once its lease expires and completes, with one charge
 * per type, one refund of the type whose replies stay unreadable, and one row per type. Gemini is a fake
 * server in this process; it answers slowly so that the kill lands mid-generation.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { fakeGemini, fakeGeminiEnv } from "./support/fakeGemini.js"
import { insightChatFile } from "./support/insightChat.js"
import { freePort, http, query, serverEnv, startServer, until } from "./support/serverProcess.js"
import { needsPostgres, onPostgres, scratchDatabase, tokenFor } from "./support/TestApp.js"

const Id = Schema.Struct({ id: Schema.String })
const JobId = Schema.Struct({ job_id: Schema.String })
const Status = Schema.Struct({ status: Schema.String })

layer(Layer.empty, { excludeTestServices: true })("insight generation across a crash", (it) => {
  const name = "SIGKILL during generation, then a restart: the job completes with no second charge or refund"
  it.scoped.skipIf(!onPostgres)(onPostgres ? name : `${name} (${needsPostgres})`, () =>
    Effect.gen(function*() {
      const fake = yield* fakeGemini
      fake.answerWhen("Task (Power Balance)", "Prose, not JSON.")
      const database = yield* scratchDatabase({ fromTemplate: true })
      const env = (port: number) => ({
        ...serverEnv(port, database.url),
        RATE_LIMITS: "false",
        ...fakeGeminiEnv(fake),
        WORKER_LEASE: "3 seconds",
        WORKER_POLL_INTERVAL: "200 millis"
      })
      const userId = "crash-user"
      const token = yield* tokenFor(userId)

      const port = yield* freePort
      const first = yield* startServer(env(port))
      const base = `http://127.0.0.1:${port}`
      yield* until("the first server to start", 60, http(`${base}/api/credits/balance`, { token }), () => true)
      expect((yield* http(`${base}/api/users/store`, { method: "POST", token })).status).toBe(200)
      yield* query(database.url, "UPDATE users SET credit_balance = credit_balance + 20 WHERE id = $1", [userId])
      yield* query(
        database.url,
        "INSERT INTO credit_transactions (user_id, kind, amount, balance_after, reference, description) VALUES ($1, 'grant', 20, 30, 'test-grant', 'test')",
        [userId]
      )
      const form = new FormData()
      form.append("file", new Blob([Buffer.from(insightChatFile.bytes)]), insightChatFile.name)
      const uploaded = yield* http(`${base}/api/chats/upload`, { method: "POST", token, body: form })
      expect(uploaded.status).toBe(201)
      const chatId = Schema.decodeUnknownSync(Id)(uploaded.body).id

      // Slow replies from now on, so that the kill lands between two types.
      fake.delayReplies(300)
      const unlocked = yield* http(`${base}/api/insights/unlock`, {
        method: "POST",
        token,
        json: { chat_id: chatId, category_id: "relationship-dynamics" }
      })
      expect(unlocked.status).toBe(202)
      const jobId = Schema.decodeUnknownSync(JobId)(unlocked.body).job_id
      const midway = yield* until(
        "a first report to be ready",
        60,
        query<{ ready: number; total: number }>(
          database.url,
          "SELECT count(*) FILTER (WHERE status = 'ready')::int AS ready, count(*)::int AS total FROM insights WHERE job_id = $1::uuid",
          [jobId]
        ),
        (rows) => (rows[0]?.ready ?? 0) >= 1
      )
      expect(midway[0]?.ready ?? 0, "the job finished before the kill").toBeLessThan(midway[0]?.total ?? 0)
      if (first.child.pid !== undefined) process.kill(-first.child.pid, "SIGKILL")
      expect((yield* Effect.promise(() => first.exited)).signal).toBe("SIGKILL")

      // A new process on the same database takes the job up once its lease has expired.
      fake.delayReplies(0)
      const secondPort = yield* freePort
      yield* startServer(env(secondPort))
      const again = `http://127.0.0.1:${secondPort}`
      const finished = yield* until(
        "the job to finish after the restart",
        90,
        http(`${again}/api/insights/jobs/${jobId}/status`, { token }),
        (reply) => reply.status === 200 && !["queued", "running"].includes(Schema.decodeUnknownSync(Status)(reply.body).status)
      )
      expect(Schema.decodeUnknownSync(Status)(finished.body).status).toBe("partially_failed")

      const ledger = yield* query<{ kind: string; reference: string }>(
        database.url,
        "SELECT kind, reference FROM credit_transactions WHERE user_id = $1 AND kind IN ('charge', 'refund') ORDER BY id",
        [userId]
      )
      const charges = ledger.filter((entry) => entry.kind === "charge").map((entry) => entry.reference)
      expect(charges).toHaveLength(4)
      expect(new Set(charges).size).toBe(4)
      expect(ledger.filter((entry) => entry.kind === "refund").map((entry) => entry.reference)).toEqual([
        `refund:insight:${chatId}:relationship-dynamics:power-balance:1`
      ])
      const rows = yield* query<{ insight_type_id: string; status: string }>(
        database.url,
        "SELECT insight_type_id, status FROM insights WHERE chat_id = $1::uuid ORDER BY insight_type_id",
        [chatId]
      )
      expect(rows).toEqual([
        { insight_type_id: "closeness-over-time", status: "ready" },
        { insight_type_id: "power-balance", status: "failed" },
        { insight_type_id: "reciprocity", status: "ready" },
        { insight_type_id: "who-reaches-out", status: "ready" }
      ])
      const [balance] = yield* query<{ stored: number; ledger: number }>(
        database.url,
        "SELECT u.credit_balance AS stored, (SELECT sum(amount)::int FROM credit_transactions WHERE user_id = u.id) AS ledger FROM users u WHERE u.id = $1",
        [userId]
      )
      expect(balance?.stored).toBe(balance?.ledger)
    }), 180_000)
})
