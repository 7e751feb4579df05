/**
 * Gemini's function calling against the fake Gemini server: the chat tools are offered as function
 * declarations generated from their Schemas, a function the model calls is run and its result sent back
 * as a `functionResponse` (the model's turn repeated as it came), and the answer may cite the messages a
 * function returned but no invented id. The tools' own SQL is tested in chat-tools.test.ts.
 */
import { expect, layer } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Layer } from "effect"
import { type AnswerTools, Llm } from "../src/Llm.js"
import { GeminiLive } from "../src/Llm/Gemini.js"
import { answerJsonSchema } from "../src/Llm/Prompts.js"
import { toolDeclarations } from "../src/Rag/ChatTools.js"
import { type FakeGemini, fakeGemini, inventedId } from "./support/fakeGemini.js"
import { lisbonChat, message } from "./support/lisbonChat.js"


class Fake extends Context.Tag("test/GeminiToolsFake")<Fake, FakeGemini>() {}

/** The Gemini model on the fake server, retrying once and quickly. */
const gemini = (fake: FakeGemini) =>
  Effect.provide(Llm, GeminiLive).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({
      GEMINI_API_KEY: "test-key",
      GEMINI_BASE_URL: fake.url,
      GEMINI_MAX_RETRIES: "1",
      GEMINI_RETRY_BASE_DELAY: "1 millis",
      GEMINI_RETRY_MAX_DELAY: "20 millis",
      GEMINI_TIMEOUT: "5 seconds"
    }))))
  )

layer(Layer.scoped(Fake, fakeGemini), { excludeTestServices: true })("Gemini with the chat tools", (it) => {
  const fresh = Effect.tap(Fake, (fake) => Effect.sync(() => fake.reset()))

  /** A toolbox whose `count_messages` finds Bruno's two voice notes (m7, m8); it records the calls made. */
  const voiceNotes = () => {
    const calls: Array<readonly [string, unknown]> = []
    const tools: AnswerTools<never> = {
      declarations: toolDeclarations,
      call: (name, args) =>
        Effect.sync(() => {
          calls.push([name, args])
          return {
            response: { filters: "voice notes by Bruno in this chat", result: { count: 2 }, messages: [{ id: "m7" }, { id: "m8" }] },
            evidence: [message("m7", "Bruno", "2024-03-02T09:00:00", ""), message("m8", "Bruno", "2024-03-03T09:00:00", "")]
          }
        })
    }
    return { calls, tools }
  }

  it.effect("offers the chat tools as function declarations, runs the function the model calls and sends its result back", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      fake.callFunction("count_messages", { author: "Bruno", kind: "voice" })
      fake.answerWhen("functionResponse", JSON.stringify({ answer: "Bruno sent 2 voice notes.", message_ids: ["m7", inventedId, "m2"] }))
      const llm = yield* gemini(fake)
      const { calls, tools } = voiceNotes()
      const answer = yield* llm.answer({ question: "How many voice notes did Bruno send?", context: lisbonChat, history: [], tools })
      // The function's messages may be cited like the context's; an id from neither may not.
      expect(answer).toEqual({ text: "Bruno sent 2 voice notes.", citedMessageIds: ["m7", "m2"], mode: "gemini" })
      expect(calls).toEqual([["count_messages", { author: "Bruno", kind: "voice" }]])

      expect(fake.requests).toHaveLength(2)
      const [offer, followUp] = fake.requests.map((request) => request.body)
      expect(offer).toMatchObject({
        tools: [{ functionDeclarations: toolDeclarations.map((d) => ({ name: d.name, description: d.description, parametersJsonSchema: d.parameters })) }],
        toolConfig: { functionCallingConfig: { mode: "AUTO" } }
      })
      expect(JSON.stringify(offer)).not.toContain("responseMimeType")
      // The follow-up repeats the model's call as it came (with its signature) and answers it by id and name.
      expect(followUp).toMatchObject({
        contents: [
          { role: "user" },
          { role: "model", parts: [{ functionCall: { id: "call-1", name: "count_messages", args: { author: "Bruno", kind: "voice" } }, thoughtSignature: "signature-1" }] },
          {
            role: "user",
            parts: [{ functionResponse: { id: "call-1", name: "count_messages", response: { result: { count: 2 }, messages: [{ id: "m7" }, { id: "m8" }] } } }]
          }
        ]
      })
    }))

  it.effect("asks once more for the JSON answer, without tools, when the model answers the tool round in prose", () =>
    Effect.gen(function*() {
      const fake = yield* fresh
      fake.answerWhen("functionDeclarations", "You moved to Lisbon in March, I think.")
      const llm = yield* gemini(fake)
      const { calls, tools } = voiceNotes()
      const answer = yield* llm.answer({ question: "When did we move to Lisbon?", context: lisbonChat, history: [], tools })
      expect(answer).toEqual({ text: "You moved to Lisbon in March.", citedMessageIds: ["m2"], mode: "gemini" })
      expect(calls).toEqual([])
      expect(fake.requests).toHaveLength(2)
      expect(fake.requests[1]?.body).toMatchObject({ generationConfig: { responseMimeType: "application/json", responseJsonSchema: answerJsonSchema } })
      expect(JSON.stringify(fake.requests[1]?.body)).not.toContain("functionDeclarations")
    }))

})
