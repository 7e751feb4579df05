/**
 * The two language models behind `Llm`: the offline extractive answers (its embedder: use-lite.test.ts), and the Gemini
 * client against a fake Gemini server (batching, re-normalised vectors, JSON answers, retries that
 * honour Retry-After, and UpstreamUnavailable after errors, unreadable replies and timeouts), and insight
 * reports both ways (offline from the statistics; Gemini's structured reply, its citations kept to the evidence).
 */
import { describe, expect, it, layer } from "@effect/vitest"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Chunk, ConfigProvider, Context, Duration, Effect, Layer, Schedule } from "effect"
import { UpstreamUnavailable } from "../src/Domain/Errors.js"
import { type InsightRequest, InsightUnusable, Llm } from "../src/Llm.js"
import { GeminiLive } from "../src/Llm/Gemini.js"
import { GeminiFailure, retryAfterOf, retrySchedule } from "../src/Llm/Gemini/Failure.js"
import { LlmLive } from "../src/Llm/Live.js"
import { extractiveAnswer, OfflineLive } from "../src/Llm/Offline.js"
import { answerJsonSchema } from "../src/Llm/Prompts.js"
import { insightJsonSchema } from "../src/Llm/InsightPrompt.js"
import { offlineReport } from "../src/Llm/OfflineInsight.js"
import type { ChatStatistics } from "../src/Domain/Statistics.js"
import { defaultAnswer, type FakeGemini, fakeGemini, fakeVector, inventedId } from "./support/fakeGemini.js"
import { lisbonChat, message } from "./support/lisbonChat.js"

/** Gemini's vectors are stored at 768 of its 3072 dimensions. */
const dimensions = 768

const dot = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.reduce((sum, value, i) => sum + value * b[i]!, 0)
const norm = (a: ReadonlyArray<number>) => Math.sqrt(dot(a, a))
const cosine = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
  const n = norm(a) * norm(b)
  return n === 0 ? 0 : dot(a, b) / n
}

const withConfig = (entries: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries))))


const activity = { by_weekday: [1, 0, 0, 0, 2, 0, 0], by_hour: [...Array.from({ length: 14 }, () => 0), 3, ...Array.from({ length: 9 }, () => 0)] }
const times = { count: 1, median_seconds: 90, p75_seconds: 90, p90_seconds: 90 }
const none = { count: 0, median_seconds: null, p75_seconds: null, p90_seconds: null }
const person = (name: string, messages: number, started: number) => ({
  name, messages, words: messages * 4, characters: messages * 20, media: 0, links: 0, deleted: 0, edited: 0,
  conversations_started: started, double_texts: 0, top_emoji: [], top_words: [], activity,
  response_times: { replies: times, restarts: none }
})

/** Statistics of the Lisbon chat, as stored. */
const lisbonStats: ChatStatistics = {
  settings: { silence_threshold_minutes: 240, double_text_minutes: 10, top_n: 10, stopword_languages: ["en"] },
  totals: { messages: 4, words: 16, characters: 80, media: 0, links: 0, deleted: 0, edited: 0, participants: 2, conversations: 2, double_texts: 0, top_emoji: [], top_words: [], activity },
  participants: [person("Ana", 2, 1), person("Bruno", 2, 1)],
  timeline: [{ date: "2024-02-28", messages: 1 }, { date: "2024-03-01", messages: 3 }],
  longest_silence: { from: "2024-02-28T19:02:11", to: "2024-03-01T14:05:00", seconds: 154969 },
  longest_streak: { from: "2024-02-28", to: "2024-02-28", days: 1 },
  first_message: { at: "2024-02-28T19:02:11", author: "Ana" },
  last_message: { at: "2024-03-01T14:07:00", author: "Bruno" }
}

/** An insight request on the Lisbon chat, its messages under numeric ids as the database gives them. */
const insightRequest: InsightRequest = {
  typeId: "who-reaches-out",
  name: "Who Reaches Out",
  description: "Who starts conversations",
  prompt: "Analyse who initiates contact.",
  statistics: lisbonStats,
  evidence: lisbonChat.map((each, i) => ({ ...each, messageId: String(101 + i) })),
  queries: ["moving to Lisbon"]
}

describe("offline insight reports", () => {
  it("take every figure from the statistics and cite only evidence", () => {
    const report = offlineReport(insightRequest)
    expect(report.mode).toBe("offline")
    const given = new Set(insightRequest.evidence.map((each) => each.messageId))
    expect(report.findings.length).toBeGreaterThan(0)
    for (const finding of report.findings) {
      expect(finding.citedMessageIds.length).toBeGreaterThan(0)
      for (const id of finding.citedMessageIds) expect(given.has(id)).toBe(true)
    }
    const starters = report.findings.find((finding) => finding.title === "Who opens conversations")
    expect(starters?.detail).toContain("Of 2 conversations, Ana started 1, Bruno started 1")
    expect(report.findings.find((finding) => finding.title === "The longest silence")?.detail).toContain("154969 s")
  })
})

describe("offline answers", () => {
  it("cites the relevant messages, best first, and says it is offline", () => {
    const answer = extractiveAnswer({ question: "When did we move to Lisbon?", context: lisbonChat, history: [] })
    expect(answer.mode).toBe("offline")
    expect(answer.citedMessageIds[0]).toBe("m2")
    expect(answer.citedMessageIds).toContain("m3")
    expect(answer.citedMessageIds).not.toContain("m1")
    expect(answer.citedMessageIds).not.toContain("m4")
    // The answer leads with the best-supported message; "offline" is said once, last.
    expect(answer.text.split("\n")[0]).toBe("Bruno (2024-03-01 14:05): We're moving to Lisbon in March!")
    expect(answer.text.match(/offline/gi)).toHaveLength(1)
    expect(answer.text.split("\n").at(-1)).toMatch(/offline/i)
  })

  it("weighs rare terms more and quotes at most three messages", () => {
    const context = [
      message("a", "Ana", "2024-01-01T10:00:00", "dinner at the beach"),
      message("b", "Bruno", "2024-01-02T10:00:00", "dinner again"),
      message("c", "Ana", "2024-01-03T10:00:00", "dinner with Carla at the sushi place"),
      message("d", "Bruno", "2024-01-04T10:00:00", "dinner?"),
      message("e", "Ana", "2024-01-05T10:00:00", "dinner was fine")
    ]
    const answer = extractiveAnswer({ question: "where was the sushi dinner", context, history: [] })
    expect(answer.citedMessageIds[0]).toBe("c")
    expect(answer.citedMessageIds.length).toBeLessThanOrEqual(3)
  })

  it("says nothing was found and cites nothing for an empty context", () =>
    Effect.gen(function*() {
      const llm = yield* Llm
      const answer = yield* llm.answer({ question: "When did we move?", context: [], history: [] })
      expect(answer).toMatchObject({ citedMessageIds: [], mode: "offline" })
      expect(answer.text).toMatch(/offline/i)
      expect(answer.text).toMatch(/no messages/i)
    }).pipe(Effect.provide(OfflineLive), Effect.runPromise))
})

describe("layer choice", () => {
  it.effect("offline without GEMINI_API_KEY (or with a blank one), Gemini with one", () =>
    Effect.gen(function*() {
      const none = yield* Effect.provide(Llm, LlmLive).pipe(withConfig({}))
      expect(none.mode).toBe("offline")
      const blank = yield* Effect.provide(Llm, LlmLive).pipe(withConfig({ GEMINI_API_KEY: "  " }))
      expect(blank.mode).toBe("offline")
      const gemini = yield* Effect.provide(Llm, LlmLive).pipe(
        withConfig({ GEMINI_API_KEY: "k", GEMINI_BASE_URL: "http://127.0.0.1:9" })
      )
      expect(gemini.mode).toBe("gemini")
      expect(gemini.embedder).toBe("gemini-embedding-001@768")
    }))
})

describe("Retry-After", () => {
  it("is read from retry-after-ms, Retry-After seconds or date, and the RetryInfo body", () => {
    const now = Date.parse("2026-01-01T00:00:00Z")
    const ms = (headers: Record<string, string>, body = "") =>
      Duration.toMillis(retryAfterOf(new Headers(headers), body, now) ?? Duration.infinity)
    expect(ms({ "retry-after-ms": "250" })).toBe(250)
    expect(ms({ "retry-after": "3" })).toBe(3000)
    expect(ms({ "retry-after": "Thu, 01 Jan 2026 00:00:07 GMT" })).toBe(7000)
    expect(ms({}, `{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17s"}]}}`))
      .toBe(17000)
    expect(retryAfterOf(new Headers(), "{}", now)).toBeUndefined()
  })

  it.effect("is a lower bound on the next delay (how many retries is shown against the fake server)", () =>
    Effect.gen(function*() {
      const schedule = retrySchedule({
        maxRetries: 3,
        retryBaseDelay: Duration.millis(10),
        retryMaxDelay: Duration.seconds(20)
      }).pipe(Schedule.delays)
      const busy = (retryAfter?: number) =>
        new GeminiFailure({
          reason: "http",
          status: 429,
          detail: "busy",
          ...(retryAfter === undefined ? {} : { retryAfter: Duration.seconds(retryAfter) })
        })
      const plain = Chunk.toReadonlyArray(yield* Schedule.run(schedule, 0, [busy(), busy(), busy()]))
      // 10, 20, 40 ms, jittered.
      expect(plain.map(Duration.toMillis).every((millis) => millis > 0 && millis < 100)).toBe(true)
      const hinted = Chunk.toReadonlyArray(yield* Schedule.run(schedule, 0, [busy(5)]))
      expect(Duration.toMillis(hinted[0]!)).toBeGreaterThanOrEqual(5000)
    }))
})

class Fake extends Context.Tag("test/FakeGemini")<Fake, FakeGemini>() {}

const exporter = new InMemorySpanExporter()
const TracingTest = NodeSdk.layer(() => ({
  resource: { serviceName: "chatsight-test" },
  spanProcessor: new SimpleSpanProcessor(exporter)
}))

// On the live clock: retries and timeouts must really wait (the configured delays are tiny).
layer(Layer.merge(Layer.scoped(Fake, fakeGemini), TracingTest), { excludeTestServices: true })("Gemini against a fake server", (it) => {
  /** The Gemini model on the fake server, with tiny retry delays. */
  const gemini = (fake: FakeGemini, overrides: Record<string, string> = {}) =>
    Effect.provide(Llm, GeminiLive).pipe(
      withConfig({
        GEMINI_API_KEY: "test-key",
        GEMINI_BASE_URL: fake.url,
        GEMINI_MAX_RETRIES: "3",
        GEMINI_RETRY_BASE_DELAY: "1 millis",
        GEMINI_RETRY_MAX_DELAY: "50 millis",
        GEMINI_TIMEOUT: "5 seconds",
        ...overrides
      })
    )

  const fresh = Effect.tap(Fake, (fake) => Effect.sync(() => fake.reset()))

  it.effect("embeds in batches of 100, in order, 768 long and re-normalised to unit length", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      const llm = yield* gemini(fake)
      expect(llm.mode).toBe("gemini")
      expect(llm.embedder).toBe("gemini-embedding-001@768")
      const texts = Array.from({ length: 250 }, (_, i) => `message number ${i}`)
      const vectors = yield* llm.embed(texts, "document")
      expect(vectors).toHaveLength(250)
      for (const vector of vectors) {
        expect(vector).toHaveLength(dimensions)
        expect(norm(vector)).toBeCloseTo(1, 10)
      }
      // In order: each vector is the fake's vector for its own text, scaled.
      for (const i of [0, 99, 100, 249]) {
        const expected = fakeVector(texts[i]!, dimensions)
        expect(cosine(vectors[i]!, expected)).toBeCloseTo(1, 10)
      }
      expect(fake.requests).toHaveLength(3)
      expect(fake.requests.every((request) => request.action === "batchEmbedContents")).toBe(true)
      expect(fake.requests[0]!.path).toBe("/v1beta/models/gemini-embedding-001:batchEmbedContents")
      expect(fake.requests[0]!.apiKey).toBe("test-key")
      const sizes = fake.requests.map((request) => JSON.stringify(request.body).match(/"taskType"/g)?.length)
      expect([...sizes].sort()).toEqual([100, 100, 50])
      expect(JSON.stringify(fake.requests[0]!.body)).toContain(`"outputDimensionality":${dimensions}`)
      expect(JSON.stringify(fake.requests[0]!.body)).toContain(`"taskType":"RETRIEVAL_DOCUMENT"`)
    }))

  it.effect("uses the query task type for questions, sends no blank texts, and makes no call for none", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      const llm = yield* gemini(fake)
      expect(yield* llm.embed([], "query")).toEqual([])
      expect(fake.requests).toHaveLength(0)
      const [question, blank] = yield* llm.embed(["when did we move?", "  "], "query")
      expect(norm(question!)).toBeCloseTo(1, 10)
      expect(blank!.every((value) => value === 0)).toBe(true)
      expect(fake.requests).toHaveLength(1)
      const body = JSON.stringify(fake.requests[0]!.body)
      expect(body).toContain(`"taskType":"RETRIEVAL_QUERY"`)
      expect(body.match(/"taskType"/g)).toHaveLength(1)
    }))

  it.effect("answers from the JSON reply and cites only ids it was given", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      fake.answerWith(JSON.stringify({ answer: "In March 2024.", message_ids: ["m2", "m99", "[m3]", "m2"] }))
      const llm = yield* gemini(fake)
      const answer = yield* llm.answer({
        question: "When did we move to Lisbon?",
        context: lisbonChat,
        history: [{ role: "user", content: "Who is Bruno?" }, { role: "assistant", content: "Ana's brother." }]
      })
      expect(answer).toEqual({ text: "In March 2024.", citedMessageIds: ["m2", "m3"], mode: "gemini" })
      expect(fake.requests).toHaveLength(1)
      const request = fake.requests[0]!
      expect(request.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent")
      const body = JSON.stringify(request.body)
      expect(body).toContain("application/json")
      expect(body).toContain("message_ids")
      expect(body).toContain("ONLY the chat messages")
      // History first, then the numbered messages with the question.
      const history = body.indexOf("Who is Bruno?")
      const context = body.indexOf("[m2] Bruno, 2024-03-01 14:05: We're moving to Lisbon in March!")
      const question = body.indexOf("Question: When did we move to Lisbon?")
      expect(history).toBeGreaterThan(-1)
      expect(context).toBeGreaterThan(history)
      expect(question).toBeGreaterThan(context)
      expect(body).toContain(`"role":"model"`)
    }))

  it.effect("constrains the answer with the JSON Schema derived from AnswerJson", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      const llm = yield* gemini(fake)
      yield* llm.answer({ question: "When did we move to Lisbon?", context: lisbonChat, history: [] })
      const body = fake.requests[0]?.body
      expect(body).toMatchObject({
        generationConfig: { responseMimeType: "application/json", responseJsonSchema: answerJsonSchema }
      })
      expect(JSON.stringify(body)).not.toContain("responseSchema")
      expect(answerJsonSchema).toMatchObject({
        type: "object",
        required: ["answer", "message_ids"],
        properties: { answer: { type: "string" }, message_ids: { type: "array", items: { type: "string" } } }
      })
    }))

  it.effect("records Llm.answer (with token counts) and Llm.embed spans", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      exporter.reset()
      const llm = yield* gemini(fake)
      yield* llm.answer({ question: "When did we move to Lisbon?", context: lisbonChat, history: [] })
      yield* llm.embed(["a", "b"], "document")
      const spans = exporter.getFinishedSpans()
      const answer = spans.find((span) => span.name === "Llm.answer")
      expect(answer?.attributes).toMatchObject({
        model: "gemini-2.5-flash",
        prompt_tokens: 120,
        candidates_tokens: 30,
        total_tokens: 150
      })
      const embed = spans.find((span) => span.name === "Llm.embed")
      expect(embed?.attributes).toMatchObject({ count: 2, embedder: "gemini-embedding-001@768", model: "gemini-embedding-001" })
    }))

  it.effect("answers without a call, citing nothing, when there is no context", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      const llm = yield* gemini(fake)
      const answer = yield* llm.answer({ question: "anything?", context: [], history: [] })
      expect(answer).toMatchObject({ citedMessageIds: [], mode: "gemini" })
      expect(fake.requests).toHaveLength(0)
    }))

  it.effect("retries two 429s (with Retry-After) and then succeeds", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      fake.failNext(2, { status: 429, retryAfter: "0" })
      const llm = yield* gemini(fake)
      const answer = yield* llm.answer({ question: "When did we move to Lisbon?", context: lisbonChat, history: [] })
      expect(answer.text).toBe(JSON.parse(defaultAnswer).answer)
      expect(answer.citedMessageIds).toEqual(["m2"])
      expect(fake.requests).toHaveLength(3)
    }))

  it.effect("retries 503s on embeddings too", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      fake.failNext(1, { status: 503 })
      const llm = yield* gemini(fake)
      const vectors = yield* llm.embed(["hello"], "document")
      expect(vectors).toHaveLength(1)
      expect(fake.requests).toHaveLength(2)
    }))

  it.effect("gives up at once when Retry-After is longer than the longest delay", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      fake.failNext(5, { status: 429, retryAfter: "120" })
      const llm = yield* gemini(fake)
      const error = yield* Effect.flip(llm.embed(["hello"], "document"))
      expect(error).toBeInstanceOf(UpstreamUnavailable)
      expect(fake.requests).toHaveLength(1)
    }))

  it.effect("fails with UpstreamUnavailable after the configured retries on a permanent 500", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      fake.failAlways({ status: 500 })
      const llm = yield* gemini(fake, { GEMINI_MAX_RETRIES: "2" })
      const error = yield* Effect.flip(
        llm.answer({ question: "When did we move to Lisbon?", context: lisbonChat, history: [] })
      )
      expect(error).toBeInstanceOf(UpstreamUnavailable)
      expect(error.message).toBe("The language model is unavailable; please retry shortly")
      expect(fake.requests).toHaveLength(3)
    }))

  it.effect("does not retry a refused request (400)", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      fake.failAlways({ status: 400 })
      const llm = yield* gemini(fake)
      const error = yield* Effect.flip(llm.embed(["hello"], "document"))
      expect(error).toBeInstanceOf(UpstreamUnavailable)
      expect(fake.requests).toHaveLength(1)
    }))

  it.effect("fails with UpstreamUnavailable when the answer is not the JSON asked for, after retries", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      const llm = yield* gemini(fake, { GEMINI_MAX_RETRIES: "1" })
      for (const reply of ["Sure! You moved in March.", JSON.stringify({ answer: "March", ids: ["m2"] })]) {
        fake.reset()
        fake.answerWith(reply)
        const error = yield* Effect.flip(
          llm.answer({ question: "When did we move to Lisbon?", context: lisbonChat, history: [] })
        )
        expect(error).toBeInstanceOf(UpstreamUnavailable)
        expect(error.message).toMatch(/could not be read/)
        expect(fake.requests).toHaveLength(2)
      }
    }))

  it.effect("writes an insight report constrained to InsightJson, keeping only evidence ids and dropping uncited findings", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      const llm = yield* gemini(fake)
      const report = yield* llm.generateInsight(insightRequest)
      expect(report).toMatchObject({ mode: "gemini", model: "gemini-2.5-flash", confidence: "medium" })
      expect(report.tokens).toEqual({ prompt: 120, output: 30 })
      expect(report.findings.map((finding) => finding.title)).toEqual(["Shared effort"])
      expect(report.findings[0]?.citedMessageIds).toEqual(["101", "102"])
      expect(report.findings[0]?.citedMessageIds).not.toContain(inventedId)
      const [request] = fake.requests
      expect(request?.action).toBe("generateContent")
      expect(JSON.stringify(request?.body)).toContain(JSON.stringify(insightJsonSchema).slice(1, 40))
      expect(JSON.stringify(request?.body)).toContain("[101] Ana")
    }))

  it.effect("fails the report with InsightUnusable when the replies stay unreadable after retries", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      const llm = yield* gemini(fake, { GEMINI_MAX_RETRIES: "1" })
      fake.answerWhen("Analyse who initiates contact", "Here is my analysis, in prose.")
      const error = yield* Effect.flip(llm.generateInsight(insightRequest))
      expect(error).toBeInstanceOf(InsightUnusable)
      expect(fake.requests).toHaveLength(2)
    }))

  it.effect("fails with UpstreamUnavailable when the server does not reply in time", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      fake.delayReplies(2_000)
      const llm = yield* gemini(fake, { GEMINI_TIMEOUT: "150 millis", GEMINI_MAX_RETRIES: "1" })
      const error = yield* Effect.flip(llm.embed(["hello"], "document"))
      expect(error).toBeInstanceOf(UpstreamUnavailable)
      expect(error.message).toBe("The language model is unavailable; please retry shortly")
      expect(fake.requests).toHaveLength(2)
    }))
})
