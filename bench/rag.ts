/**
 * `npm run bench:rag`: questions about a chat, on the local PostgreSQL with pgvector.
 *
 * 1. Retrieval quality: the fictional chat of bench/fixtures/rag-eval.ts is stored, embedded by the
 *    real embedding job (`EmbedChat`), and each of its questions is asked of three retrievers: vector
 *    only, full text only, and the hybrid `Retrieval.retrieve`. Prints recall@10 (10 is the k the
 *    service uses) and recall@6 for the offline embedder, and for Gemini when GEMINI_API_KEY is set.
 * 2. Latency of `Retrieval.retrieve` (everything but the answer model) on a generated 40,000-message
 *    chat (bench/fixtures/generated-chat.ts), over ~200 varied questions: p50 and p95.
 * 3. Throughput of the embedding job on that chat (offline embedder): chunks/s and messages/s, and the
 *    event loop's delay meanwhile (the embedder runs in a worker thread; what a request such as
 *    /health waits, at most, on top of its own work).
 *
 * Prints figures; asserts nothing. BENCH_DATABASE_URL names the server (default: the local one); a
 * scratch database is created and dropped afterwards, also on failure. `--per-question` lists every
 * question's recall; `--messages N` changes the size of the generated chat.
 */
import { NodeRuntime } from "@effect/platform-node"
import { cpus, loadavg } from "node:os"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { SqlClient } from "@effect/sql"
import { Console, Effect, Layer, Logger, LogLevel } from "effect"
import { ChatAccess } from "../src/Chats/Access.js"
import { ChatsRepo } from "../src/Chats/Repo.js"
import { DatabaseOnPool } from "../src/Database.js"
import { Llm } from "../src/Llm.js"
import { GeminiLive } from "../src/Llm/Gemini.js"
import { geminiKeyIsSet } from "../src/Llm/Live.js"
import { OfflineLive } from "../src/Llm/Offline.js"
import { type ChunkHit, ChunksRepo } from "../src/Rag/ChunksRepo.js"
import { EmbedChat } from "../src/Rag/Embedding.js"
import { anyWordQuery } from "../src/Rag/Fusion.js"
import { chunkHitOf, Retrieval } from "../src/Rag/Retrieval.js"
import { RetrievalRepo } from "../src/Rag/RetrievalRepo.js"
import { Vector } from "../src/Vector.js"
import { VectorPostgres } from "../src/Vector/Postgres.js"
import type { RunningJob } from "../src/Worker/Handler.js"
import { isFunctionWord } from "../src/Words.js"
import { AUTHORS, generateChat, latencyQuestions } from "./fixtures/generated-chat.js"
import { evalMessages, evalParticipants, type EvalQuestion, evalQuestions } from "./fixtures/rag-eval.js"
import { percentile, scratchPool, withScratchDatabase } from "./support.js"

const database = `chatsight_bench_rag_${process.pid}`
const perQuestion = process.argv.includes("--per-question")
const generatedCount = (() => {
  const at = process.argv.indexOf("--messages")
  const n = at < 0 ? NaN : Number(process.argv[at + 1])
  return Number.isSafeInteger(n) && n > 0 ? n : 40_000
})()
const userId = "bench-rag-user"

const out = (line: string) => Console.log(line)

// ---------------------------------------------------------------------------------------------
// Storing a chat (through `ChatsRepo`, as an upload would, without the parser)
// ---------------------------------------------------------------------------------------------

interface StoredMessage {
  readonly seq: number
  /** `YYYY-MM-DDTHH:MM:SS`, wall clock as written (read as UTC). */
  readonly sentAt: string
  readonly author: string | null
  readonly text: string
  readonly kind: string
}

/** Messages per `insertMessages` statement (the service's default `INGEST_INSERT_BATCH`). */
const insertBatch = 5000

/** `ChatsRepo` takes wall-clock times as `YYYY-MM-DD HH:MM:SS`. */
const wallClock = (sentAt: string) => sentAt.replace("T", " ")

const storeChat = (name: string, participants: ReadonlyArray<string>, messages: ReadonlyArray<StoredMessage>) =>
  Effect.gen(function*() {
    const chats = yield* ChatsRepo
    const first = messages[0]
    const last = messages[messages.length - 1]
    const inserted = yield* chats.insert({
      userId,
      displayName: name,
      sourceFilename: null,
      contentHash: `bench-${name}-${messages.length}`,
      participants,
      messageCount: messages.length,
      firstMessageAt: first === undefined ? null : wallClock(first.sentAt),
      lastMessageAt: last === undefined ? null : wallClock(last.sentAt),
      parseReport: null,
      timeZone: "UTC"
    })
    // A fresh scratch database holds no chat of the same hash: none here is a bug of the bench.
    const chatId = yield* Effect.orDie(inserted)
    for (let start = 0; start < messages.length; start += insertBatch) {
      const batch = messages.slice(start, start + insertBatch)
      yield* chats.insertMessages(chatId, "UTC", {
        seq: batch.map((m) => m.seq),
        sentAt: batch.map((m) => wallClock(m.sentAt)),
        author: batch.map((m) => m.author),
        text: batch.map((m) => m.text),
        kind: batch.map((m) => m.kind),
        mediaKind: batch.map(() => null),
        fileName: batch.map(() => null),
        event: batch.map(() => null)
      })
    }
    return chatId
  })

/** Runs the real embedding job on a chat, as the worker would, with the `Llm` in context. */
const embedChat = (chatId: string) =>
  Effect.gen(function*() {
    const llm = yield* Llm
    const job: RunningJob = {
      id: "bench",
      kind: EmbedChat.kind,
      attempt: 1,
      maxAttempts: 1,
      userId,
      instanceId: "bench-rag",
      setProgress: () => Effect.void
    }
    yield* EmbedChat.execute({ chat_id: chatId, embedder: llm.embedder }, job)
  })

// ---------------------------------------------------------------------------------------------
// 1. Retrieval quality
// ---------------------------------------------------------------------------------------------

type Variant = "vector-only" | "full-text-only" | "hybrid"
const variants: ReadonlyArray<Variant> = ["vector-only", "full-text-only", "hybrid"]
const ks = [10, 6] as const

/**
 * recall@k of one question = |A ∩ R| / |A|, where A is the set of the question's answer messages
 * (the fixture's `answers`) and R is the set of messages covered by the top-k chunks the retriever
 * returns (every text or edited message from each chunk's first to its last message, as
 * `RetrievalRepo.messagesOfChunks` reads them, i.e. what the answer model would be given). The
 * figure printed is the mean over all questions (each question weighs the same).
 */
const recallDefinition =
  "recall@k = |answer messages ∩ messages covered by the top-k chunks| / |answer messages|, averaged over questions"

const recall = (answers: ReadonlyArray<number>, found: ReadonlySet<number>) =>
  answers.length === 0 ? 1 : answers.filter((seq) => found.has(seq)).length / answers.length

const evaluate = (label: string, chatId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const llm = yield* Llm
    const vector = yield* Vector
    const repo = yield* RetrievalRepo
    const chunks = yield* ChunksRepo
    const retrieval = yield* Retrieval

    const embedStarted = performance.now()
    yield* embedChat(chatId)
    const embedSeconds = (performance.now() - embedStarted) / 1000
    const counts = yield* chunks.chunkCount(chatId, llm.embedder)
    const idRows = yield* sql<{ readonly id: string; readonly seq: number }>`
      SELECT id::text AS id, seq FROM messages WHERE chat_id = ${chatId}::uuid`
    const seqOf = new Map(idRows.map((row) => [row.id, row.seq]))
    const toSeqs = (ids: ReadonlyArray<string>) => new Set(ids.flatMap((id) => seqOf.get(id) ?? []))

    const messagesOf = (hits: ReadonlyArray<ChunkHit>) =>
      hits.length === 0
        ? Effect.succeed(new Set<number>())
        : Effect.map(
          repo.messagesOfChunks({
            chatId,
            firsts: hits.map((hit) => hit.first_message_id),
            lasts: hits.map((hit) => hit.last_message_id)
          }),
          (messages) => toSeqs(messages.map((m) => m.message_id))
        )

    const retrieveWith = (variant: Variant, question: string, k: number) => {
      switch (variant) {
        case "vector-only":
          return llm.embed([question], "query").pipe(
            Effect.flatMap(([queryVector]) =>
              vector.search({ chatId, userId, embedder: llm.embedder, vector: queryVector ?? [], k })
            ),
            Effect.map((hits) => hits.map(chunkHitOf)),
            Effect.flatMap(messagesOf)
          )
        case "full-text-only": {
          const query = anyWordQuery(question, isFunctionWord)
          return query === null
            ? Effect.succeed(new Set<number>())
            : Effect.flatMap(repo.fullTextChunks({ chatId, embedder: llm.embedder, query, k }), messagesOf)
        }
        case "hybrid":
          return Effect.map(
            retrieval.retrieve({ chatId, userId, question, k }),
            (result) => toSeqs(result.messages.map((m) => m.message_id))
          )
      }
    }

    interface Row {
      readonly question: EvalQuestion
      readonly recall: Record<Variant, Record<number, number>>
      readonly context: Record<Variant, Record<number, number>>
    }
    const rows: Array<Row> = []
    for (const question of evalQuestions) {
      const recallOf: Record<Variant, Record<number, number>> = { "vector-only": {}, "full-text-only": {}, hybrid: {} }
      const contextOf: Record<Variant, Record<number, number>> = { "vector-only": {}, "full-text-only": {}, hybrid: {} }
      for (const variant of variants) {
        for (const k of ks) {
          const found = yield* retrieveWith(variant, question.question, k)
          recallOf[variant][k] = recall(question.answers, found)
          contextOf[variant][k] = found.size
        }
      }
      rows.push({ question, recall: recallOf, context: contextOf })
    }

    const mean = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)
    yield* out(
      `\n-- ${label}: embedder ${llm.embedder}; ${evalMessages.length} messages -> ${counts.total} chunks ` +
        `(${counts.embedded} embedded in ${embedSeconds.toFixed(2)} s); ${evalQuestions.length} questions, ` +
        `${mean(evalQuestions.map((q) => q.answers.length)).toFixed(1)} answer messages each on average`
    )
    yield* out(
      `${"variant".padEnd(16)} ${"recall@10".padStart(9)} ${"all@10".padStart(7)} ${"any@10".padStart(7)} ` +
        `${"msgs@10".padStart(8)} ${"recall@6".padStart(9)} ${"msgs@6".padStart(7)}`
    )
    const summary = new Map<Variant, number>()
    for (const variant of variants) {
      const r10 = rows.map((row) => row.recall[variant][10] ?? 0)
      const r6 = rows.map((row) => row.recall[variant][6] ?? 0)
      summary.set(variant, mean(r10))
      yield* out(
        `${variant.padEnd(16)} ${mean(r10).toFixed(3).padStart(9)} ` +
          `${String(r10.filter((r) => r === 1).length).padStart(7)} ${String(r10.filter((r) => r > 0).length).padStart(7)} ` +
          `${mean(rows.map((row) => row.context[variant][10] ?? 0)).toFixed(1).padStart(8)} ` +
          `${mean(r6).toFixed(3).padStart(9)} ${mean(rows.map((row) => row.context[variant][6] ?? 0)).toFixed(1).padStart(7)}`
      )
    }
    yield* out(
      "(all@10 / any@10: questions with every / at least one answer message found; msgs@k: mean messages retrieved)"
    )
    const hybrid = summary.get("hybrid") ?? 0
    const vectorOnly = summary.get("vector-only") ?? 0
    const textOnly = summary.get("full-text-only") ?? 0
    const worse = rows.filter((row) =>
      (row.recall.hybrid[10] ?? 0) < Math.max(row.recall["vector-only"][10] ?? 0, row.recall["full-text-only"][10] ?? 0)
    )
    yield* out(
      `hybrid recall@10 ${hybrid.toFixed(3)} vs vector-only ${vectorOnly.toFixed(3)} and full-text-only ` +
        `${textOnly.toFixed(3)}: hybrid ${hybrid > vectorOnly && hybrid > textOnly ? "beats both" : "does NOT beat both"}; ` +
        `hybrid below the better single retriever on ${worse.length} of ${rows.length} questions`
    )
    if (perQuestion) {
      yield* out(`${"topic".padEnd(16)} ${"vec@10".padStart(6)} ${"fts@10".padStart(6)} ${"hyb@10".padStart(6)}  question`)
      for (const row of rows) {
        yield* out(
          `${row.question.topic.padEnd(16)} ${(row.recall["vector-only"][10] ?? 0).toFixed(2).padStart(6)} ` +
            `${(row.recall["full-text-only"][10] ?? 0).toFixed(2).padStart(6)} ${(row.recall.hybrid[10] ?? 0).toFixed(2).padStart(6)}  ` +
            row.question.question
        )
      }
    }
  })

// ---------------------------------------------------------------------------------------------
// 2 and 3. A large generated chat: embedding throughput and retrieval latency
// ---------------------------------------------------------------------------------------------

const largeChat = Effect.gen(function*() {
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
  for (const question of questions.slice(0, 10)) yield* retrieval.retrieve({ chatId, userId, question })
  for (const k of [6, 10]) {
    const latencies: Array<number> = []
    let hits = 0
    let found = 0
    for (const question of questions) {
      const started = performance.now()
      const result = yield* retrieval.retrieve({ chatId, userId, question, k })
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
    const query = anyWordQuery(question, isFunctionWord)
    const textHits = query === null
      ? []
      : yield* timed("full text (chunks)", repo.fullTextChunks({ chatId, embedder: llm.embedder, query, k: 10 }))
    const [queryVector] = yield* timed("embed question", llm.embed([question], "query"))
    const vectorHits = yield* timed(
      "vector search",
      vector.search({ chatId, userId, embedder: llm.embedder, vector: queryVector ?? [], k: 10 })
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

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/** The retrieval services over one `Llm`; the SQL client, the chats and the `Vector` store come from outside. */
const ragServices = <E>(llm: Layer.Layer<Llm, E>) =>
  Layer.mergeAll(Retrieval.Default, ChunksRepo.Default, RetrievalRepo.Default).pipe(Layer.provideMerge(llm))

const bench = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`INSERT INTO users (id, name) VALUES (${userId}, 'Bench')`

  yield* out(`== 1. Retrieval quality: ${evalQuestions.length} questions about a fictional chat ==`)
  yield* out(`definition: ${recallDefinition}`)
  const evalChatId = yield* storeChat("Leeds crew (fictional)", evalParticipants, evalMessages)
  yield* evaluate("offline", evalChatId).pipe(Effect.provide(ragServices(OfflineLive)))
  if (yield* geminiKeyIsSet) {
    yield* evaluate("gemini", evalChatId).pipe(Effect.provide(ragServices(GeminiLive)))
  } else {
    yield* out("\n-- gemini: skipped, GEMINI_API_KEY is not set (the Gemini embedder needs it)")
  }

  yield* largeChat.pipe(Effect.provide(ragServices(OfflineLive)))
})

const program = withScratchDatabase(
  database,
  bench.pipe(
    Effect.provide(
      Layer.mergeAll(VectorPostgres, ChatsRepo.Default, ChatAccess.Default).pipe(
        Layer.provideMerge(DatabaseOnPool),
        Layer.provide(scratchPool(database))
      )
    ),
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )
)

NodeRuntime.runMain(program)
