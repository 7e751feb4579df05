/**
 * The offline `Llm` embeds in its own thread: vectors come back in order across the thread's request
 * size, and TensorFlow.js is never loaded on the calling thread (the server's event loop).
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { createRequire } from "node:module"
import { Llm } from "../src/Llm.js"
import { OfflineLive } from "../src/Llm/Offline.js"

const require = createRequire(import.meta.url)
/** Whether the model's (CommonJS) modules were loaded on this thread. */
const modelLoadedHere = () => Object.keys(require.cache).some((path) => path.includes("@energetic-ai"))

const dot = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0)

layer(OfflineLive, { excludeTestServices: true, timeout: "60 seconds" })("the offline Llm's embedder", (it) => {
  it.effect("is use-lite-v1@512 and returns one unit vector per text, in order, across several requests to its thread", () =>
    Effect.gen(function*() {
      const llm = yield* Llm
      expect(llm.embedder).toBe("use-lite-v1@512")
      const texts = Array.from({ length: 37 }, (_, i) => i % 5 === 0 ? "" : `message ${i} about topic ${i % 7}`)
      const vectors = yield* llm.embed(texts, "document")
      expect(vectors).toHaveLength(texts.length)
      for (const [i, text] of [[0, ""], [1, texts[1] ?? ""], [20, ""], [36, texts[36] ?? ""]] as const) {
        const [alone = []] = yield* llm.embed([text], "query")
        const vector = vectors[i] ?? []
        expect(vector).toHaveLength(512)
        if (text === "") expect(vector.every((x) => x === 0)).toBe(true)
        else expect(dot(vector, alone)).toBeCloseTo(1, 5)
      }
      expect(yield* llm.embed([], "document")).toEqual([])
    }))

  it.effect("a question's embedding waits for at most one request of the chats being embedded, however many there are", () =>
    Effect.gen(function*() {
      const llm = yield* Llm
      const batch = Array.from({ length: 16 }, (_, i) => `a chat message number ${i} about the weekend plans`)
      let documentsDone = 0
      const chat = Effect.forever(Effect.tap(llm.embed(batch, "document"), () => Effect.sync(() => documentsDone++)))
      // Four chats being embedded at once, as the worker runs them; the thread is busy with them.
      const chats = yield* Effect.forkAll(Array.from({ length: 4 }, () => chat))
      while (documentsDone < 4) yield* Effect.sleep("20 millis")
      const before = documentsDone
      yield* llm.embed(["what are we doing at the weekend?"], "query")
      const waitedFor = documentsDone - before
      yield* Fiber.interrupt(chats)
      // The request running when the question came, and at most one more that had just been let in
      // (before documents yielded, one was queued per chat: four).
      expect(waitedFor).toBeLessThanOrEqual(2)
    }))

  it.effect("never loads the model on the calling thread", () =>
    Effect.gen(function*() {
      const llm = yield* Llm
      yield* llm.embed(["the boiler guy wants £80 for Tuesday"], "query")
      expect(modelLoadedHere()).toBe(false)
      // The check sees a load when there is one.
      yield* Effect.promise(() => import("../src/Llm/UseLiteModel.js"))
      expect(modelLoadedHere()).toBe(true)
    }))
})
