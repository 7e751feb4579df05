/**
 * Insight generation with Gemini (a fake Gemini server, the only double) and the worker on a fresh
 * database: a type whose replies stay unreadable fails and is refunded once, the others are ready with
 * only citations of their evidence, the job is partially_failed; running the job again refunds nothing
 * more, and buying the failed type again is a new charge. The unlock's trace holds the job's run and one
 * span per type (evidence size, model, tokens, outcome); no message text reaches the logs.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Context, Effect, Layer, Logger } from "effect"
import { Credits } from "../src/Credits.js"
import type { InsightJobStatus } from "../src/Domain/Insights.js"
import { type FakeGemini, fakeGemini, fakeGeminiEnv, inventedId } from "./support/fakeGemini.js"
import { insightChatFile } from "./support/insightChat.js"
import { client, collectingLogger, type LogLine, TestAppWithWorker, tokenFor, uploadForm, waitFor } from "./support/TestApp.js"

const serverLog: Array<LogLine> = []
const exporter = new InMemorySpanExporter()
const TracingTest = NodeSdk.layer(() => ({
  resource: { serviceName: "chatsight-insights-test" },
  spanProcessor: new SimpleSpanProcessor(exporter)
}))

/** The texts of the fixture's messages, as they would appear if a log line leaked one. */
const messageTexts = Buffer.from(insightChatFile.bytes).toString("utf8").split("\n")
  .map((line) => line.split(": ").slice(1).join(": "))
  .filter((text) => text.length > 12)

class Fake extends Context.Tag("test/InsightsFakeGemini")<Fake, FakeGemini>() {}

const App = Layer.unwrapScoped(
  Effect.map(fakeGemini, (fake) =>
    TestAppWithWorker({
      ...fakeGeminiEnv(fake),
      GEMINI_TIMEOUT: "5 seconds"
    }).pipe(Layer.merge(Layer.succeed(Fake, fake))))
).pipe(Layer.provide(Logger.add(collectingLogger(serverLog))), Layer.provide(TracingTest))

const user = (sub: string, extra: number) =>
  Effect.gen(function*() {
    const token = yield* tokenFor(sub, { email: `${sub}@example.com`, name: sub })
    yield* (yield* client(token)).users.store()
    yield* Effect.flatMap(Credits, (credits) =>
      credits.grant({ userId: sub, amount: extra, reference: `test-grant:${sub}`, description: "test credits" })).pipe(
        Effect.provide(Credits.Default),
        Effect.orDie
      )
    return token
  })

const untilFinished = (token: string, jobId: string) =>
  waitFor(
    "the insight job to finish",
    Effect.flatMap(client(token), (api) => api.insights.jobStatus({ path: { job_id: jobId } })),
    (status: InsightJobStatus) => status.status !== "queued" && status.status !== "running"
  )

const refunds = (userId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ amount: number; reference: string }>`
      SELECT amount, reference FROM credit_transactions WHERE user_id = ${userId} AND kind = 'refund' ORDER BY id`).pipe(
      Effect.orDie
    )

layer(App, { excludeTestServices: true })("insight reports with Gemini", (it) => {
  it.effect("a type failing for good is refunded once; the others are ready and cite only their evidence; partially_failed", () =>
    Effect.gen(function*() {
      const fake = yield* Fake
      fake.answerWhen("Task (Power Balance)", "I would rather write prose than JSON.")
      const token = yield* user("gem-partial", 20)
      const api = yield* client(token)
      const chat = yield* api.chats.upload({ payload: uploadForm(insightChatFile) })
      const types = (yield* api.categories.insights({ path: { category_id: "relationship-dynamics" } })).data
      const price = types.reduce((sum, type) => sum + type.credit_cost, 0)
      const failing = types.find((type) => type.id === "power-balance")
      if (failing === undefined) return yield* Effect.dieMessage("the catalogue has no power-balance")

      const unlocked = yield* api.insights.unlock({
        payload: { chat_id: chat.id, category_id: "relationship-dynamics" },
        headers: {}
      })
      const done = yield* untilFinished(token, unlocked.job_id)
      expect(done.status).toBe("partially_failed")
      expect(done.refunded).toBe(failing.credit_cost)
      expect(done.progress).toEqual({ done: types.length, total: types.length })
      for (const insight of done.insights) {
        if (insight.insight_type_id === "power-balance") {
          expect(insight).toMatchObject({ status: "failed", refunded: failing.credit_cost })
          expect(insight.error).toContain("refunded")
        } else {
          expect(insight).toMatchObject({ status: "ready", refunded: 0, error: null })
        }
      }
      const [refund, ...more] = yield* refunds("gem-partial")
      expect(more).toEqual([])
      expect(refund).toEqual({
        amount: failing.credit_cost,
        reference: `refund:insight:${chat.id}:relationship-dynamics:power-balance:1`
      })

      // Ready reports are Gemini's, and cite only messages of the chat that were in their evidence.
      const read = yield* api.insights.chatInsights({ path: { chat_id: chat.id }, urlParams: {} })
      const sql = yield* SqlClient.SqlClient
      for (const insight of read.insights.filter((each) => each.status === "ready")) {
        expect(insight.content).toMatchObject({ mode: "gemini", model: "gemini-2.5-flash" })
        expect(insight.content?.findings.map((finding) => finding.title)).toEqual(["Shared effort"])
        for (const citation of insight.content?.findings.flatMap((finding) => finding.citations) ?? []) {
          expect(citation.message_id).not.toBe(inventedId)
          const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM messages
            WHERE id = ${citation.message_id}::bigint AND chat_id = ${chat.id}::uuid`.pipe(Effect.orDie)
          expect(rows[0]?.n).toBe(1)
        }
      }
      // The failed type is on sale again.
      expect(read.locked.map((type) => type.insight_type_id)).toContain("power-balance")

      // The unlock's trace goes on into the job's run, with one span per type.
      const spans = exporter.getFinishedSpans()
      const unlockSpan = spans.find((span) => span.name === "Insights.unlock")
      const run = spans.find((span) => span.name === "Worker.run" && span.attributes["job.id"] === unlocked.job_id)
      expect(run?.spanContext().traceId).toBe(unlockSpan?.spanContext().traceId)
      const perType = spans.filter((span) => span.name === "Insights.generateType" && span.spanContext().traceId === run?.spanContext().traceId)
      expect(perType.map((span) => span.attributes["insightType"]).sort()).toEqual(types.map((type) => type.id).sort())
      for (const span of perType) {
        expect(span.attributes["evidence.messages"]).toEqual(expect.any(Number))
        expect(span.attributes["evidence.tokens"]).toEqual(expect.any(Number))
        const outcome = span.attributes["insightType"] === "power-balance" ? "InsightUnusable" : "ready"
        expect(span.attributes["outcome"]).toBe(outcome)
        if (outcome === "ready") {
          expect(span.attributes).toMatchObject({ model: "gemini-2.5-flash", "tokens.prompt": 120, "tokens.output": 30 })
        }
      }
      // And no log line carries a message's text.
      const logged = JSON.stringify(serverLog)
      expect(serverLog.length).toBeGreaterThan(0)
      for (const text of messageTexts) expect(logged).not.toContain(text)

      // The job run again (as after a crash past its lease): nothing is refunded or charged twice.
      yield* sql`UPDATE jobs SET status = 'queued', attempts = 0, run_at = now(), finished_at = NULL
                 WHERE id = ${unlocked.job_id}::uuid`.pipe(Effect.orDie)
      const rerun = yield* untilFinished(token, unlocked.job_id)
      expect(rerun.status).toBe("partially_failed")
      expect(yield* refunds("gem-partial")).toHaveLength(1)
      const audit = yield* Effect.flatMap(Credits, (credits) => credits.audit("gem-partial")).pipe(
        Effect.provide(Credits.Default),
        Effect.orDie
      )
      expect(audit).toEqual({ stored: 30 - price + failing.credit_cost, ledger: 30 - price + failing.credit_cost })

      // Buying the refunded type again is a new purchase with its own charge, job and refund.
      const again = yield* api.insights.unlock({
        payload: { chat_id: chat.id, category_id: "relationship-dynamics" },
        headers: {}
      })
      expect(again.charged).toBe(failing.credit_cost)
      expect(again.job_id).not.toBe(unlocked.job_id)
      yield* untilFinished(token, again.job_id)
      expect((yield* refunds("gem-partial")).map((entry) => entry.reference)).toEqual([
        `refund:insight:${chat.id}:relationship-dynamics:power-balance:1`,
        `refund:insight:${chat.id}:relationship-dynamics:power-balance:2`
      ])
    }), 60_000)
})
