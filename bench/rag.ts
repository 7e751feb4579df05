/**
 * `npm run bench:rag`: questions about a chat, on the local PostgreSQL with pgvector.
 *
 * 0. The evaluation's own check: each countable question's written answer is recounted from the fixture,
 *    paraphrases share no content word with their answers, chatter shares none with a question.
 * 1. Retrieval quality (bench/rag-quality.ts): the evaluation chat of bench/fixtures/rag-eval.ts (3,000+
 *    messages over a year, six people, 130+ questions) is stored, embedded by the real job, and recall@10
 *    of vector only, full text only and hybrid is printed per category; the fusion weights against plain
 *    RRF (`--sweep`: the whole grid). Offline embedder, and Gemini's when GEMINI_API_KEY is set.
 * 2. Answers (bench/rag-answers.ts): every question asked of the real `Rag.query`: exact-answer accuracy,
 *    citations, latency p50/p95 per category.
 * 3. A generated 40,000-message chat (bench/rag-large.ts): embedding throughput, event-loop delay while
 *    embedding, `Retrieval.retrieve` latency.
 *
 * Prints figures; asserts nothing. BENCH_DATABASE_URL names the server (default: the local one); a
 * scratch database is created and dropped afterwards, also on failure. Options: `--per-question` (every
 * question's recall and answer), `--sweep`, `--messages N` (size of the generated chat), `--skip-answers`,
 * `--skip-large`.
 */
import { NodeRuntime } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Console, Effect, Layer, Logger, LogLevel } from "effect"
import { ChatAccess } from "../src/Chats/Access.js"
import { ChatsRepo } from "../src/Chats/Repo.js"
import { DatabaseOnPool } from "../src/Database.js"
import type { Llm } from "../src/Llm.js"
import { GeminiLive } from "../src/Llm/Gemini.js"
import { geminiKeyIsSet } from "../src/Llm/Live.js"
import { OfflineLive } from "../src/Llm/Offline.js"
import { Rag } from "../src/Rag.js"
import { ChunksRepo } from "../src/Rag/ChunksRepo.js"
import { Retrieval } from "../src/Rag/Retrieval.js"
import { RetrievalRepo } from "../src/Rag/RetrievalRepo.js"
import { VectorPostgres } from "../src/Vector/Postgres.js"
import { evalMessages, evalParticipants, evalQuestions, fixtureProblems } from "./fixtures/rag-eval.js"
import { evaluateAnswers } from "./rag-answers.js"
import { largeChat } from "./rag-large.js"
import { evaluateRetrieval, recallDefinition } from "./rag-quality.js"
import { benchUserId, storeChat } from "./rag-store.js"
import { scratchPool, withScratchDatabase } from "./support.js"

const database = `chatsight_bench_rag_${process.pid}`
const options = {
  perQuestion: process.argv.includes("--per-question"),
  sweep: process.argv.includes("--sweep"),
  skipLarge: process.argv.includes("--skip-large"),
  skipAnswers: process.argv.includes("--skip-answers")
}
const generatedCount = (() => {
  const at = process.argv.indexOf("--messages")
  const n = at < 0 ? NaN : Number(process.argv[at + 1])
  return Number.isSafeInteger(n) && n > 0 ? n : 40_000
})()

const out = (line: string) => Console.log(line)

/** The question services over one `Llm`; the SQL client, the chats and the `Vector` store come from outside. */
const ragServices = <E>(llm: Layer.Layer<Llm, E>) =>
  Layer.mergeAll(Rag.Default, Retrieval.Default, ChunksRepo.Default, RetrievalRepo.Default).pipe(Layer.provideMerge(llm))

const bench = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`INSERT INTO users (id, name) VALUES (${benchUserId}, 'Bench')`

  const byCategory = new Map<string, number>()
  for (const question of evalQuestions) byCategory.set(question.category, (byCategory.get(question.category) ?? 0) + 1)
  const days = new Set(evalMessages.map((m) => m.sentAt.slice(0, 10))).size
  yield* out(
    `== 1. The evaluation: ${evalMessages.length.toLocaleString("en")} messages by ${evalParticipants.length} people on ${days} days ` +
      `(${evalMessages[0]?.sentAt.slice(0, 10)} to ${evalMessages[evalMessages.length - 1]?.sentAt.slice(0, 10)}); ` +
      `${evalQuestions.length} questions: ${[...byCategory].map(([c, n]) => `${n} ${c}`).join(", ")} ==`
  )
  const problems = fixtureProblems()
  yield* out(
    problems.length === 0
      ? "fixture check: every expected answer recounted from the chat; paraphrases share no content word with their answers"
      : `fixture check FAILED:\n  ${problems.join("\n  ")}`
  )
  yield* out(`definition: ${recallDefinition}`)
  const evalChatId = yield* storeChat("Leeds crew (fictional)", evalParticipants, evalMessages)
  yield* sql`ANALYZE messages`
  const ids = yield* sql<{ readonly id: string; readonly seq: number }>`
    SELECT id::text AS id, seq FROM messages WHERE chat_id = ${evalChatId}::uuid`
  const seqOfMessage = new Map(ids.map((row) => [row.id, row.seq]))

  yield* Effect.gen(function*() {
    yield* evaluateRetrieval("offline", evalChatId, options)
    if (options.skipAnswers) return yield* out("\n== 2. skipped (--skip-answers) ==")
    yield* out("\n== 2. Answers (offline) ==")
    yield* evaluateAnswers(evalChatId, seqOfMessage, options)
  }).pipe(Effect.provide(ragServices(OfflineLive)))
  if (yield* geminiKeyIsSet) {
    yield* Effect.gen(function*() {
      yield* evaluateRetrieval("gemini", evalChatId, options)
      if (!options.skipAnswers) yield* evaluateAnswers(evalChatId, seqOfMessage, options)
    }).pipe(Effect.provide(ragServices(GeminiLive)))
  } else {
    yield* out("\n-- gemini: skipped, GEMINI_API_KEY is not set")
  }

  if (options.skipLarge) return yield* out("\n== 3. skipped (--skip-large) ==")
  yield* largeChat(generatedCount).pipe(Effect.provide(ragServices(OfflineLive)))
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
