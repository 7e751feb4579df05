// The parsing threads: an export read on a thread comes back as the in-process parse would make it, a
// refusal inside the thread is the same typed error, and a thread that fails or dies fails only its own
// call: the next one is served.
import { NodeWorker } from "@effect/platform-node"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import type { Worker } from "node:worker_threads"
import { InternalError, PayloadTooLarge, UnsupportedExport } from "../src/Domain/Errors.js"
import { messagesOf } from "../src/Ingest/Columns.js"
import { readExport } from "../src/Ingest/Export.js"
import { ParserThreads, ParseThreadEntry } from "../src/Ingest/ParserThreads.js"
import { computeStatistics } from "../src/Ingest/Statistics.js"
import { columnSource } from "../src/Ingest/Columns.js"
import { spawnThread } from "../src/Threads.js"

/** Every thread the pool starts, so a test can kill one. */
const spawned: Array<Worker> = []

const Threads = ParserThreads.DefaultWithoutDependencies.pipe(
  Layer.provide(NodeWorker.layer(() => {
    const thread = spawnThread(ParseThreadEntry)
    spawned.push(thread)
    return thread
  }))
)

const CHAT = [
  "12/03/2022, 09:15 - Messages and calls are end-to-end encrypted.",
  "12/03/2022, 09:16 - Priya Raman: Welcome! 🎉",
  "13/03/2022, 13:05 - Olu Bakare: <Media omitted>",
  "13/03/2022, 13:06 - Olu Bakare: See you at 8 <This message was edited>"
].join("\n")

const bytesOf = (text: string) => new TextEncoder().encode(text)

/** A chat long enough that its parse is still running when the test kills the thread. */
const longChat = () =>
  bytesOf(Array.from({ length: 400_000 }, (_, i) => `01/02/2024, 10:00 - Member ${i % 7}: message number ${i}`).join("\n"))

layer(Threads, { excludeTestServices: true })("parsing threads", (it) => {
  describe("a parse on a thread", () => {
    it.effect("brings back the report, statistics and columns the in-process parse makes", () =>
      Effect.gen(function*() {
        const threads = yield* ParserThreads
        const bytes = bytesOf(CHAT)
        const parsed = yield* threads.parse({ bytes, filename: "chat.txt", export: {}, statistics: {} })
        const local = yield* readExport(bytes, "chat.txt")
        expect(parsed.report).toEqual(local.report)
        expect(messagesOf(parsed.columns)).toEqual(messagesOf(local.columns))
        expect(parsed.statistics).toEqual(computeStatistics(columnSource(local.columns)))
        expect(parsed.report).toMatchObject({ messages: 3, systemEvents: 1, media: 1, edited: 1 })
        // The caller's bytes were copied before theirs moved to the thread.
        expect(new TextDecoder().decode(bytes)).toBe(CHAT)
      }))

    it.effect("passes the options through: a forced day order and a silence threshold", () =>
      Effect.gen(function*() {
        const threads = yield* ParserThreads
        const parsed = yield* threads.parse({
          bytes: bytesOf(CHAT),
          filename: "chat.txt",
          export: { dayFirst: false },
          statistics: { silenceThresholdMinutes: 30 }
        })
        expect(parsed.report.dayFirstConfidence).toBe("override")
        expect(parsed.statistics.settings.silence_threshold_minutes).toBe(30)
      }))
  })

  describe("a refusal inside the thread", () => {
    it.effect("is the same typed error: 422 for what is not a chat, 413 over the size limit", () =>
      Effect.gen(function*() {
        const threads = yield* ParserThreads
        const binary = yield* Effect.flip(
          threads.parse({ bytes: new Uint8Array([0x89, 0x50, 0, 1]), filename: "chat.txt", export: {}, statistics: {} })
        )
        expect(binary).toBeInstanceOf(UnsupportedExport)
        expect(binary.message).toBe("The file is binary data, not a text chat export.")
        const large = yield* Effect.flip(
          threads.parse({ bytes: bytesOf(CHAT), filename: "chat.txt", export: { maxBytes: 16 }, statistics: {} })
        )
        expect(large).toBeInstanceOf(PayloadTooLarge)
      }))
  })

  describe("a thread that fails", () => {
    it.effect("a defect inside it fails the call with an InternalError; the thread keeps serving", () =>
      Effect.gen(function*() {
        const threads = yield* ParserThreads
        // The statistics refuse a negative top-n by throwing: a bug, not a refusal.
        const error = yield* Effect.flip(
          threads.parse({ bytes: bytesOf(CHAT), filename: "chat.txt", export: {}, statistics: { topN: -1 } })
        )
        expect(error).toBeInstanceOf(InternalError)
        const next = yield* threads.parse({ bytes: bytesOf(CHAT), filename: "chat.txt", export: {}, statistics: {} })
        expect(next.report.messages).toBe(3)
      }))

    it.effect("a thread killed mid-parse fails that call with an InternalError; the next call is served", () =>
      Effect.gen(function*() {
        const threads = yield* ParserThreads
        const started = spawned.length
        const call = yield* Effect.fork(
          threads.parse({ bytes: longChat(), filename: "chat.txt", export: {}, statistics: {} })
        )
        // Let the export reach the thread, then kill every thread the pool has.
        yield* Effect.sleep("200 millis")
        yield* Effect.promise(() => Promise.all(spawned.map((thread) => thread.terminate())))
        const error = yield* Effect.flip(Fiber.join(call))
        expect(error).toBeInstanceOf(InternalError)
        const next = yield* threads.parse({ bytes: bytesOf(CHAT), filename: "chat.txt", export: {}, statistics: {} })
        expect(next.report.messages).toBe(3)
        expect(spawned.length).toBeGreaterThan(started)
      }))
  })
})
