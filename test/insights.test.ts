/**
 * Insight reports through HTTP on a fresh database with the worker running and no model key (offline):
 * unlocking a category under concurrency (one charge per type, one job, the same job id for everyone),
 * two categories racing for one balance, Idempotency-Key replays and conflicts, someone else's chat and
 * job, a chat still being ingested, the offline report end to end (its numbers equal to the chat's
 * statistics, every citation a message of the chat), and the deprecated single-type generate route.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Credits } from "../src/Credits.js"
import type { InsightJobStatus } from "../src/Domain/Insights.js"
import { insightChatFile, insightChatPeople } from "./support/insightChat.js"
import {
  call,
  client,
  needsPostgres,
  onPostgres,
  rejected,
  TestAppWithWorker,
  tokenFor,
  uploadForm,
  waitFor
} from "./support/TestApp.js"

const pgOnly = (name: string) => onPostgres ? name : `${name} (${needsPostgres})`

/** A user who has called POST /api/users/store (10 welcome credits), plus `extra` credits. */
const user = (sub: string, extra = 0) =>
  Effect.gen(function*() {
    const token = yield* tokenFor(sub, { email: `${sub}@example.com`, name: sub })
    yield* (yield* client(token)).users.store()
    if (extra > 0) {
      yield* Effect.flatMap(Credits, (credits) =>
        credits.grant({ userId: sub, amount: extra, reference: `test-grant:${sub}`, description: "test credits" })).pipe(
          Effect.provide(Credits.Default),
          Effect.orDie
        )
    }
    return token
  })

const uploadChat = (token: string) =>
  Effect.gen(function*() {
    const api = yield* client(token)
    return yield* api.chats.upload({ payload: uploadForm(insightChatFile) })
  })

const unlock = (token: string, chatId: string, categoryId: string, key?: string) =>
  Effect.gen(function*() {
    const api = yield* client(token)
    const [body, response] = yield* api.insights.unlock({
      payload: { chat_id: chatId, category_id: categoryId },
      headers: key === undefined ? {} : { "idempotency-key": key },
      withResponse: true
    })
    expect(response.status).toBe(202)
    return body
  })

const jobStatus = (token: string, jobId: string) =>
  Effect.flatMap(client(token), (api) => api.insights.jobStatus({ path: { job_id: jobId } }))

const untilFinished = (token: string, jobId: string) =>
  waitFor("the insight job to finish", jobStatus(token, jobId), (status: InsightJobStatus) =>
    status.status !== "queued" && status.status !== "running")

// ---------------------------------------------------------------------------------------------------
// SQL probes

const ledgerOf = (userId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ kind: string; amount: number; reference: string }>`
      SELECT kind, amount, reference FROM credit_transactions WHERE user_id = ${userId} ORDER BY id`).pipe(Effect.orDie)

const insightRows = (chatId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ insight_type_id: string; status: string; charge_reference: string | null; job_id: string | null }>`
      SELECT insight_type_id, status, charge_reference, job_id::text AS job_id FROM insights
      WHERE chat_id = ${chatId}::uuid ORDER BY insight_type_id`).pipe(Effect.orDie)

const generationJobs = (chatId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ id: string }>`SELECT id::text AS id FROM jobs WHERE kind = 'insights.generate' AND payload->>'chat_id' = ${chatId}`).pipe(
      Effect.orDie
    )

const audit = (userId: string) =>
  Effect.flatMap(Credits, (credits) => credits.audit(userId)).pipe(Effect.provide(Credits.Default), Effect.orDie)

const priceOf = (categoryId: string) =>
  Effect.flatMap(client(), (api) => api.categories.insights({ path: { category_id: categoryId } })).pipe(
    Effect.map(({ data }) => ({ types: data.map((type) => type.id), price: data.reduce((sum, type) => sum + type.credit_cost, 0) }))
  )

layer(TestAppWithWorker(), { excludeTestServices: true })("insight reports", (it) => {
  it.effect.skipIf(!onPostgres)(
    pgOnly("30 concurrent unlocks of one category: one charge per type, one job, one row per type, the same job id for all"),
    () =>
      Effect.gen(function*() {
        const token = yield* user("ins-race", 20)
        const chat = yield* uploadChat(token)
        const { price, types } = yield* priceOf("relationship-dynamics")
        const answers = yield* Effect.all(
          Array.from({ length: 30 }, () => unlock(token, chat.id, "relationship-dynamics")),
          { concurrency: "unbounded" }
        )
        const jobIds = new Set(answers.map((answer) => answer.job_id))
        expect(jobIds.size).toBe(1)
        expect(answers.filter((answer) => answer.charged === price)).toHaveLength(1)
        expect(answers.filter((answer) => answer.charged === 0)).toHaveLength(29)
        for (const answer of answers) expect(answer.insights.map((insight) => insight.insight_type_id)).toEqual(types)

        const charges = (yield* ledgerOf("ins-race")).filter((entry) => entry.kind === "charge")
        expect(charges).toHaveLength(types.length)
        expect(new Set(charges.map((entry) => entry.reference)).size).toBe(types.length)
        expect(charges.reduce((sum, entry) => sum - entry.amount, 0)).toBe(price)
        expect(yield* insightRows(chat.id)).toHaveLength(types.length)
        expect(yield* generationJobs(chat.id)).toEqual([{ id: [...jobIds][0] }])
        const { ledger, stored } = yield* audit("ins-race")
        expect(stored).toBe(ledger)
        expect(stored).toBe(30 - price)

        // Unlocking again costs nothing and names the same job.
        const again = yield* unlock(token, chat.id, "relationship-dynamics")
        expect(again).toMatchObject({ job_id: [...jobIds][0], charged: 0, balance: 30 - price })
        yield* untilFinished(token, again.job_id)
      }),
    60_000
  )

  it.effect.skipIf(!onPostgres)(
    pgOnly("two categories racing for a balance that covers one: one 202, one 402, nothing half-done"),
    () =>
      Effect.gen(function*() {
        const a = yield* priceOf("relationship-dynamics")
        const b = yield* priceOf("communication-style")
        // Enough for either, not both.
        const extra = Math.max(a.price, b.price) + 1 - 10
        const token = yield* user("ins-402", extra)
        const balance = 10 + extra
        expect(a.price + b.price).toBeGreaterThan(balance)
        const chat = yield* uploadChat(token)
        const outcomes = yield* Effect.all(
          [unlock(token, chat.id, "relationship-dynamics"), unlock(token, chat.id, "communication-style")].map((request) =>
            Effect.either(request)
          ),
          { concurrency: "unbounded" }
        )
        const won = outcomes.flatMap((outcome) => outcome._tag === "Right" ? [outcome.right] : [])
        const lost = outcomes.flatMap((outcome) => outcome._tag === "Left" ? [outcome.left] : [])
        expect(won).toHaveLength(1)
        expect(lost.map((error) => error._tag)).toEqual(["InsufficientCredits"])
        expect(lost[0]?.message).toContain("the balance is")
        // The 402 says what was needed and what there was, as numbers a client can act on.
        const wonCharged = won[0]?.charged ?? 0
        expect(lost[0]).toMatchObject({ required: a.price + b.price - wonCharged, balance: balance - wonCharged })

        // Every row is paid for by a charge of its own reference; nothing else was charged.
        const charges = (yield* ledgerOf("ins-402")).filter((entry) => entry.kind === "charge")
        const rows = yield* insightRows(chat.id)
        expect(rows.map((row) => row.charge_reference).sort()).toEqual(charges.map((entry) => entry.reference).sort())
        const { ledger, stored } = yield* audit("ins-402")
        expect(stored).toBe(ledger)
        expect(stored).toBe(balance - (won[0]?.charged ?? 0))
        yield* untilFinished(token, won[0]?.job_id ?? "")
      }),
    60_000
  )

  it.effect("the same Idempotency-Key replays the answer; with another body it is a 409", () =>
    Effect.gen(function*() {
      const token = yield* user("ins-idem", 20)
      const chat = yield* uploadChat(token)
      const first = yield* unlock(token, chat.id, "communication-style", "key-1")
      const replay = yield* unlock(token, chat.id, "communication-style", "key-1")
      expect(replay).toEqual(first)
      expect(first.charged).toBeGreaterThan(0)
      const charges = (yield* ledgerOf("ins-idem")).filter((entry) => entry.kind === "charge")
      expect(charges.reduce((sum, entry) => sum - entry.amount, 0)).toBe(first.charged)

      yield* rejected(unlock(token, chat.id, "personality", "key-1"), "Conflict", "Idempotency-Key")
      // A new key is a new request: nothing left to charge in this category.
      const fresh = yield* unlock(token, chat.id, "communication-style", "key-2")
      expect(fresh).toMatchObject({ job_id: first.job_id, charged: 0 })
      yield* untilFinished(token, first.job_id)
    }), 60_000)

  it.effect("someone else's chat, job and insights are 404 on every route; so are a missing category and chat", () =>
    Effect.gen(function*() {
      const owner = yield* user("ins-owner", 20)
      const stranger = yield* user("ins-stranger", 20)
      const chat = yield* uploadChat(owner)
      const unlocked = yield* unlock(owner, chat.id, "communication-style")
      const api = yield* client(stranger)
      yield* rejected(unlock(stranger, chat.id, "communication-style"), "NotFound")
      yield* rejected(api.insights.jobStatus({ path: { job_id: unlocked.job_id } }), "NotFound")
      yield* rejected(api.insights.chatInsights({ path: { chat_id: chat.id }, urlParams: {} }), "NotFound")
      yield* rejected(
        api.insights.generate({ payload: { chat_id: chat.id, insight_type_id: "response-rhythm" } }),
        "NotFound"
      )
      yield* rejected(unlock(owner, chat.id, "no-such-category"), "NotFound")
      yield* rejected(unlock(owner, "00000000-0000-4000-8000-000000000000", "communication-style"), "NotFound")
      // The stranger was charged nothing.
      expect((yield* ledgerOf("ins-stranger")).filter((entry) => entry.kind === "charge")).toEqual([])
      yield* untilFinished(owner, unlocked.job_id)
    }), 60_000)

  it.effect("a chat still being ingested is a 409, and nothing is charged", () =>
    Effect.gen(function*() {
      const token = yield* user("ins-ingesting", 20)
      const chat = yield* uploadChat(token)
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE chats SET status = 'processing' WHERE id = ${chat.id}::uuid`).pipe(
        Effect.orDie
      )
      yield* rejected(unlock(token, chat.id, "communication-style"), "Conflict", "being ingested")
      expect((yield* ledgerOf("ins-ingesting")).filter((entry) => entry.kind === "charge")).toEqual([])
      expect(yield* insightRows(chat.id)).toEqual([])
    }))

  it.effect("offline, end to end: unlock, poll, read reports whose numbers are the chat's statistics, each finding cited", () =>
    Effect.gen(function*() {
      const token = yield* user("ins-e2e", 20)
      const chat = yield* uploadChat(token)
      const api = yield* client(token)
      const { price, types } = yield* priceOf("relationship-dynamics")
      const unlocked = yield* unlock(token, chat.id, "relationship-dynamics")
      expect(unlocked).toMatchObject({ charged: price, balance: 30 - price })
      expect(unlocked.insights.every((insight) => insight.status === "pending" || insight.status === "generating" || insight.status === "ready"))
        .toBe(true)

      const done = yield* untilFinished(token, unlocked.job_id)
      expect(done).toMatchObject({
        job_id: unlocked.job_id,
        chat_id: chat.id,
        category_id: "relationship-dynamics",
        status: "succeeded",
        progress: { done: types.length, total: types.length },
        refunded: 0
      })
      expect(done.finished_at).not.toBeNull()

      const detail = yield* api.chats.get({ path: { chat_id: chat.id } })
      const stats = detail.statistics
      if (stats === null) return yield* Effect.dieMessage("the chat has no statistics")
      const read = yield* api.insights.chatInsights({ path: { chat_id: chat.id }, urlParams: { category_id: "relationship-dynamics" } })
      expect(read.insights.map((insight) => insight.insight_type_id)).toEqual(types)
      expect(read.locked).toEqual([])

      const sql = yield* SqlClient.SqlClient
      for (const insight of read.insights) {
        expect(insight.status).toBe("ready")
        const content = insight.content
        if (content === null) return yield* Effect.dieMessage(`${insight.insight_type_id} has no content`)
        expect(content).toMatchObject({ mode: "offline", confidence: expect.any(String) })
        expect(content.model).toContain("offline")
        expect(content.summary).toContain(`${stats.totals.messages} messages`)
        expect(content.findings.length).toBeGreaterThan(0)
        for (const finding of content.findings) {
          expect(finding.citations.length, finding.title).toBeGreaterThan(0)
          for (const citation of finding.citations) {
            const rows = yield* sql<{ author: string | null; text: string }>`
              SELECT author, text FROM messages WHERE id = ${citation.message_id}::bigint AND chat_id = ${chat.id}::uuid`.pipe(Effect.orDie)
            expect(rows).toEqual([{ author: citation.author, text: citation.text }])
          }
        }
      }
      // The figures are the stored statistics', exactly.
      const byType = new Map(read.insights.map((insight) => [insight.insight_type_id, insight.content]))
      const balance = byType.get("power-balance")?.findings.find((finding) => finding.title === "How the talking is shared")
      for (const person of stats.participants) {
        expect(balance?.detail).toContain(`${person.name} sent ${person.messages} messages (${person.words} words)`)
      }
      const starters = byType.get("who-reaches-out")?.findings.find((finding) => finding.title === "Who opens conversations")
      expect(starters?.detail).toContain(`Of ${stats.totals.conversations} conversations`)
      for (const person of stats.participants) {
        expect(starters?.detail).toContain(`${person.name} started ${person.conversations_started}`)
      }
      expect(stats.participants.map((person) => person.name).sort()).toEqual([...insightChatPeople].sort())

      // Everything else of the catalogue is listed as still to buy, with its price.
      const all = yield* api.insights.chatInsights({ path: { chat_id: chat.id }, urlParams: {} })
      const personality = yield* priceOf("personality")
      expect(all.locked.filter((type) => type.category_id === "personality").map((type) => type.insight_type_id))
        .toEqual(personality.types)
      expect(all.locked.every((type) => type.credit_cost > 0 && type.category_id !== "relationship-dynamics")).toBe(true)
    }), 60_000)

  it.effect("POST /api/rag/generate (deprecated) unlocks one type through the same path and answers with its report", () =>
    Effect.gen(function*() {
      const token = yield* user("ins-generate", 0)
      const chat = yield* uploadChat(token)
      const reply = yield* call("POST", "/api/rag/generate", {
        token,
        json: { chat_id: chat.id, insight_type_id: "response-rhythm" }
      })
      expect([200, 202]).toContain(reply.status)
      expect(reply.headers["deprecation"]).toMatch(/^@\d+$/)
      expect(reply.headers["link"]).toBe("</api/insights/unlock>; rel=\"successor-version\"")
      const api = yield* client(token)
      const rhythm = (yield* api.categories.insights({ path: { category_id: "communication-style" } })).data
        .find((type) => type.id === "response-rhythm")
      expect(reply.body).toMatchObject({ charged: rhythm?.credit_cost, insight: { insight_type_id: "response-rhythm" } })
      // Only that type was bought: the rest of its category is still to buy.
      const read = yield* api.insights.chatInsights({ path: { chat_id: chat.id }, urlParams: { category_id: "communication-style" } })
      expect(read.insights.map((insight) => insight.insight_type_id)).toEqual(["response-rhythm"])
      expect(read.locked.map((type) => type.insight_type_id)).not.toContain("response-rhythm")
      // Asked again, it costs nothing.
      const again = yield* api.insights.generate({ payload: { chat_id: chat.id, insight_type_id: "response-rhythm" } })
      expect(again.charged).toBe(0)
      yield* untilFinished(token, again.job_id)
      // A refusal says it is deprecated too.
      const refused = yield* call("POST", "/api/rag/generate", { token, json: { chat_id: chat.id, insight_type_id: "no-such-type" } })
      expect(refused.status).toBe(404)
      expect(refused.headers["deprecation"]).toBeDefined()

      const doc = yield* call("GET", "/docs/openapi.json")
      expect(doc.body).toMatchObject({ paths: { "/api/rag/generate": { post: { deprecated: true } } } })
    }), 60_000)
})
