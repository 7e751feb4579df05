/**
 * bench:rag, part 3: a generated chat of 40,000 messages (bench/fixtures/generated-chat.ts): throughput of
 * the embedding job (offline embedder, in its worker thread) with the event loop's delay meanwhile (what
 * a request such as /health waits, at most, on top of its own work), then the latency of
 * `Retrieval.retrieve` (everything but the answer model, the question's embedding included) over ~200
 * varied questions, and where its time goes.
 */
import { SqlClient } from "@effect/sql"
import { cpus, loadavg } from "node:os"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { Console, Effect } from "effect"
import { Llm } from "../src/Llm.js"
import { ChunksRepo } from "../src/Rag/ChunksRepo.js"
import { searchTerms } from "../src/Rag/Fusion.js"
import { Retrieval } from "../src/Rag/Retrieval.js"
import { RetrievalRepo } from "../src/Rag/RetrievalRepo.js"
import { Vector } from "../src/Vector.js"
import { isFunctionWord } from "../src/Words.js"
import { AUTHORS, generateChat, latencyQuestions } from "./fixtures/generated-chat.js"
import { benchUserId, embedChat, insertBatch, storeChat } from "./rag-store.js"
import { percentile } from "./support.js"

const out = (line: string) => Console.log(line)

export const largeChat = (generatedCount: number) => Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const chunks = yield* ChunksRepo
  const repo = yield* RetrievalRepo
  const vector = yield* Vector
  const llm = yield* Llm
  const retrieval = yield* Retrieval

  yield* out(`\n== 2, 3. Generated chat of ${generatedCount.toLocaleString("en")} messages (offline embedder) ==`)
  const messages = generateChat(generatedCount)
  const storeStarted = performance.now()
  const chatId = yield* storeChat("Large generated chat", AUTHORS, messages)
  yield* sql`ANALYZE messages`
  yield* out(`stored in ${((performance.now() - storeStarted) / 1000).toFixed(1)} s (ChatsRepo.insertMessages, ${insertBatch} rows a statement)`)

  const delay = monitorEventLoopDelay({ resolution: 10 })
  const embedStarted = performance.now()
  delay.enable()
  yield* embedChat(chatId)
  delay.disable()
  const embedSeconds = (performance.now() - embedStarted) / 1000
  const counts = yield* chunks.chunkCount(chatId, llm.embedder)
  yield* sql`ANALYZE chunks`
  yield* out(
    `embedding job (chunk + embed + Vector.upsert + markEmbedded): ${counts.embedded.toLocaleString("en")} chunks in ` +
      `${embedSeconds.toFixed(1)} s = ${(counts.embedded / embedSeconds).toFixed(0)} chunks/s, ` +
      `${(messages.length / embedSeconds).toFixed(0)} messages/s`
  )
  const ms = (ns: number) => Math.max(0, ns / 1e6 - 10) // nanoseconds between 10 ms ticks, less the tick
  yield* out(
    `event-loop delay while embedding (what /health waits at most beyond its own work): p50 ${ms(delay.percentile(50)).toFixed(1)} ms, ` +
      `p99 ${ms(delay.percentile(99)).toFixed(1)} ms, max ${ms(delay.max).toFixed(1)} ms; /health p99 < 100 ms ${ms(delay.percentile(99)) < 100 ? "holds" : "does NOT hold"}`
  )

  const questions = latencyQuestions(200)
  // Warm-up: the first statements prepare plans and fill caches; they are not counted.
  for (const question of questions.slice(0, 10)) yield* retrieval.retrieve({ chatId, userId: benchUserId, question })
  for (const k of [6, 10]) {
    const latencies: Array<number> = []
    let hits = 0
    let found = 0
    for (const question of questions) {
      const started = performance.now()
      const result = yield* retrieval.retrieve({ chatId, userId: benchUserId, question, k })
      latencies.push(performance.now() - started)
      hits += result.hits.length
      found += result.messages.length
    }
    const sorted = [...latencies].sort((a, b) => a - b)
    const p95 = percentile(sorted, 95)
    yield* out(
      `Retrieval.retrieve, k=${k}${k === 10 ? " (the service's default)" : ""}: ${questions.length} questions, ` +
        `p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${(sorted[sorted.length - 1] ?? 0).toFixed(1)} ms; ` +
        `${(hits / questions.length).toFixed(1)} chunks and ${(found / questions.length).toFixed(1)} messages a question; ` +
        `target p95 < 50 ms ${p95 < 50 ? "holds" : "does NOT hold"}`
    )
  }

  // Where the time goes: each step of `retrieve` (k=10, the default) on its own, one after the other.
  const steps = new Map<string, Array<number>>()
  const timed = <A, E, R>(name: string, effect: Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      const started = performance.now()
      const result = yield* effect
      const list = steps.get(name) ?? []
      list.push(performance.now() - started)
      steps.set(name, list)
      return result
    })
  for (const question of questions) {
    yield* timed("chunkCount", chunks.chunkCount(chatId, llm.embedder))
    const terms = searchTerms(question, isFunctionWord)
    const textHits = terms.length === 0 ? [] : yield* timed(
      "full text (chunks)",
      chunks.searchText({ chatId, embedder: llm.embedder, config: counts.config, terms, total: counts.total, k: 10 })
    )
    const [queryVector] = yield* timed("embed question", llm.embed([question], "query"))
    const vectorHits = yield* timed(
      "vector search",
      vector.search({ chatId, userId: benchUserId, embedder: llm.embedder, vector: queryVector ?? [], k: 10 })
    )
    const firsts = [...vectorHits.map((hit) => hit.firstMessageId), ...textHits.map((hit) => hit.first_message_id)]
    const lasts = [...vectorHits.map((hit) => hit.lastMessageId), ...textHits.map((hit) => hit.last_message_id)]
    yield* timed("messages of chunks", repo.messagesOfChunks({ chatId, firsts: firsts.slice(0, 10), lasts: lasts.slice(0, 10) }))
  }
  yield* out(
    "steps of retrieve, k=10, run alone (the service runs full text and vector search concurrently): " +
      [...steps].map(([name, list]) => {
        const sorted = [...list].sort((a, b) => a - b)
        return `${name} p50 ${percentile(sorted, 50).toFixed(1)} / p95 ${percentile(sorted, 95).toFixed(1)} ms`
      }).join("; ")
  )
  const load = yield* sql<{ readonly n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active'`
  yield* out(`(latency depends on the machine: load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}, ${cpus().length} CPUs, ${load[0]?.n ?? 0} active PostgreSQL backends at the end)`)
})
