import { expect, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { readFileSync } from "node:fs"
import { RateLimiter } from "../src/RateLimit.js"
import { call, errorShape, type Reply, TestApp, TestDatabase, tokenFor, upload } from "./support/TestApp.js"

const limits = {
  RATE_LIMIT_QUESTIONS: "3/1 minute",
  RATE_LIMIT_UPLOADS: "2/1 hour",
  RATE_LIMIT_PUBLIC: "4/1 minute"
}

const chatFile = {
  name: "android-24h-group.txt",
  bytes: new Uint8Array(readFileSync(new URL("./fixtures/whatsapp/android-24h-group.txt", import.meta.url)))
}

const signedUp = (sub: string) =>
  Effect.gen(function*() {
    const token = yield* tokenFor(sub, { email: `${sub}@example.com`, name: sub })
    expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
    return token
  })

const chatOf = (reply: Reply) => {
  expect(reply.status).toBe(201)
  const body = reply.body
  return typeof body === "object" && body !== null && "id" in body ? String(body.id) : ""
}

const limited = (reply: Reply) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(429)
  expect(reply.body).toEqual(errorShape("rate_limited", reply))
  expect(Number(reply.headers["retry-after"])).toBeGreaterThanOrEqual(1)
  expect(reply.headers["ratelimit-remaining"]).toBe("0")
}

layer(TestApp(limits), { excludeTestServices: true })("rate limits", (it) => {
  it.effect("a burst of questions past the limit gets 429 with Retry-After and RateLimit headers; another user is not held back", () =>
    Effect.gen(function*() {
      const token = yield* signedUp("rate-questions")
      const chatId = chatOf(yield* upload(token, chatFile))
      const ask = (asker: string) =>
        call("POST", "/api/rag/query", { token: asker, json: { chat_id: chatId, question: "How many messages are there?" } })

      const burst = yield* Effect.forEach([1, 2, 3, 4, 5], () => ask(token))
      expect(burst.map((reply) => reply.status)).toEqual([200, 200, 200, 429, 429])
      expect(burst[0]?.headers["ratelimit-limit"]).toBe("3")
      expect(burst[0]?.headers["ratelimit-remaining"]).toBe("2")
      expect(burst[0]?.headers["ratelimit-policy"]).toBe("3;w=60")
      for (const reply of burst.slice(3)) limited(reply)

      // Limits are per user: someone else's question (here a 404, not theirs) is not counted against the first.
      const other = yield* signedUp("rate-questions-other")
      expect((yield* ask(other)).status).toBe(404)
    }))

  it.effect("uploads are limited per user", () =>
    Effect.gen(function*() {
      const token = yield* signedUp("rate-uploads")
      const statuses = []
      for (let i = 0; i < 3; i++) {
        const bytes = new Uint8Array(Buffer.from(`0${i + 1}/02/2021, 09:15 - Mira: hello ${i}\n`, "utf8"))
        statuses.push((yield* upload(token, { name: `chat-${i}.txt`, bytes })).status)
      }
      expect(statuses).toEqual([201, 201, 429])
    }))

  it.effect("public routes are limited per client address", () =>
    Effect.gen(function*() {
      const replies = yield* Effect.forEach([1, 2, 3, 4, 5, 6], () => call("GET", "/api/credits/packages"))
      const refused = replies.filter((reply) => reply.status === 429)
      // The earlier tests of this file did not use the public routes: the address has its whole burst.
      expect(replies.slice(0, 4).map((reply) => reply.status)).toEqual([200, 200, 200, 200])
      expect(refused).toHaveLength(2)
      limited(refused[0]!)
      // Health probes are not limited.
      expect((yield* call("GET", "/health")).status).toBe(200)
    }))
})

layer(TestApp({ ...limits, RATE_LIMITS: "false" }), { excludeTestServices: true })("rate limits switched off", (it) => {
  it.effect("with RATE_LIMITS=false nothing is limited and no RateLimit headers are sent", () =>
    Effect.gen(function*() {
      const replies = yield* Effect.forEach([1, 2, 3, 4, 5, 6], () => call("GET", "/api/categories"))
      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200, 200])
      expect(replies[0]?.headers["ratelimit-limit"]).toBeUndefined()
    }))
})

layer(TestDatabase(), { excludeTestServices: true })("a limit shared by every instance on the database", (it) => {
  it.effect("concurrent turns on two instances allow exactly the limit between them", () =>
    Effect.gen(function*() {
      const policy = { name: "shared", limit: 5, window: Duration.minutes(1) }
      // Two limiters, as two server instances have, on the one database.
      const first = yield* Effect.provide(RateLimiter, RateLimiter.Default)
      const second = yield* Effect.provide(RateLimiter, RateLimiter.Default)
      const decisions = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? first : second)),
        (limiter) => limiter.take(policy, "subject-1"),
        { concurrency: 10 }
      )
      expect(decisions.filter((decision) => decision.allowed)).toHaveLength(5)
      const refused = decisions.find((decision) => !decision.allowed)
      // One turn comes back every window/limit: 12 s.
      expect(refused?.retryAfterSeconds).toBeGreaterThan(0)
      expect(refused?.retryAfterSeconds).toBeLessThanOrEqual(12)
    }))
})
