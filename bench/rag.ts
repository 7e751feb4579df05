/**
 * `npm run bench:rag`: questions about a chat, on the local PostgreSQL with pgvector.
 *
 * 1. Retrieval quality: the fictional chat of bench/fixtures/rag-eval.ts is stored, embedded by the
 *    real embedding job (`EmbedChat`), and each of its questions is asked of three retrievers: vector
 *    only, full text only, and the hybrid `Retrieval.retrieve`. Prints recall@10 (and @6, the k the
 *    service uses) for the offline embedder, and for Gemini when GEMINI_API_KEY is set.
 * 2. Latency of `Retrieval.retrieve` (everything but the answer model) on a generated 40,000-message
 *    chat, over ~200 varied questions: p50 and p95.
 * 3. Throughput of the embedding job on that chat (offline embedder): chunks/s and messages/s.
 *
 * Prints figures; asserts nothing. BENCH_DATABASE_URL names the server (default: the local one); a
 * scratch database is created and dropped afterwards, also on failure. `--per-question` lists every
 * question's recall; `--messages N` changes the size of the generated chat.
 */
import { NodeRuntime } from "@effect/platform-node"
import { cpus, loadavg } from "node:os"
import { SqlClient } from "@effect/sql"
import { Console, Effect, Layer, Logger, LogLevel } from "effect"
import { DatabaseOnPool } from "../src/Database.js"
import { Llm } from "../src/Llm.js"
import { GeminiLive } from "../src/Llm/Gemini.js"
import { geminiKeyIsSet } from "../src/Llm/Live.js"
import { OfflineLive } from "../src/Llm/Offline.js"
import { EmbedChat } from "../src/Rag/Embedding.js"
import { isFunctionWord } from "../src/Llm/Offline.js"
import { anyWordQuery } from "../src/Rag/Fusion.js"
import { type ChunkHit, RagRepo, RetrievalRepo } from "../src/Rag/Repo.js"
import { Retrieval } from "../src/Rag/Retrieval.js"
import { Vector } from "../src/Vector.js"
import { VectorPostgres } from "../src/Vector/Postgres.js"
import type { RunningJob } from "../src/Worker.js"
import { percentile, scratchPool, withScratchDatabase } from "./support.js"
import { evalMessages, evalParticipants, type EvalQuestion, evalQuestions } from "./fixtures/rag-eval.js"

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
// Storing a chat (direct SQL, as `ChatsRepo.insert`/`insertMessages` would, without the parser)
// ---------------------------------------------------------------------------------------------

interface StoredMessage {
  readonly seq: number
  /** `YYYY-MM-DDTHH:MM:SS`, wall clock as written (read as UTC). */
  readonly sentAt: string
  readonly author: string | null
  readonly text: string
  readonly kind: "text" | "media" | "system" | "deleted" | "edited"
}

const insertBatch = 5000

const storeChat = (name: string, participants: ReadonlyArray<string>, messages: ReadonlyArray<StoredMessage>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const first = messages[0]?.sentAt ?? null
    const last = messages[messages.length - 1]?.sentAt ?? null
    const rows = yield* sql<{ readonly id: string }>`
      INSERT INTO chats (user_id, display_name, content_hash, participants, message_count,
                         first_message_at, last_message_at, status)
      VALUES (${userId}, ${name}, ${`bench-${name}-${messages.length}`}, ${JSON.stringify(participants)}::jsonb,
              ${messages.length}, ${first}::timestamp, ${last}::timestamp, 'ready')
      RETURNING id::text AS id`
    const chatId = rows[0]?.id
    if (chatId === undefined) return yield* Effect.dieMessage("the chat was not stored")
    for (let start = 0; start < messages.length; start += insertBatch) {
      const batch = messages.slice(start, start + insertBatch)
      yield* sql`INSERT INTO messages (chat_id, seq, sent_at_local, sent_at, author, text, kind)
        SELECT ${chatId}::uuid, u.seq, u.local, u.local AT TIME ZONE 'UTC', u.author, u.text, u.kind
        FROM unnest(${batch.map((m) => m.seq)}::int[], ${batch.map((m) => m.sentAt)}::timestamp[],
                    ${batch.map((m) => m.author)}::text[], ${batch.map((m) => m.text)}::text[],
                    ${batch.map((m) => m.kind)}::text[]) AS u(seq, local, author, text, kind)`
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
    const chunks = yield* RagRepo
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
            Effect.map((hits) =>
              hits.map((hit): ChunkHit => ({
                id: hit.chunkId,
                first_message_id: hit.firstMessageId,
                last_message_id: hit.lastMessageId
              }))
            ),
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

/** A small deterministic generator, so every run stores the same chat. */
const rng = (seed: number) => () => {
  seed = (seed * 1664525 + 1013904223) >>> 0
  return seed / 2 ** 32
}

const AUTHORS = ["Amelia Hartfield", "Bruno Castellane", "Chidi Okonkwo", "Daria Volkova"]

/** Topics a long chat drifts between; each conversation mostly keeps to one. */
const TOPICS: ReadonlyArray<ReadonlyArray<string>> = [
  "flat move boxes van landlord deposit rent keys removal lease viewing neighbourhood bedroom garden parking council tax".split(" "),
  "dog vet walk lead park puppy treats allergy kennel groomer fleas collar rescue greyhound biscuit".split(" "),
  "wedding venue dress suit invitation rsvp caterer speech ring honeymoon bridesmaid reception ceremony flowers".split(" "),
  "job interview offer salary notice manager contract startup promotion meeting deadline team recruiter onboarding".split(" "),
  "laptop screen keyboard charger battery repair warranty backup files update password printer wifi router".split(" "),
  "recipe dinner lentils curry pasta oven bread sourdough garlic onions chilli lasagne soup roast dessert".split(" "),
  "flight hotel airbnb passport beach museum train tickets luggage itinerary lisbon porto rome airport".split(" "),
  "car insurance tyre petrol mot garage brakes parking ticket motorway service mileage diesel dashboard".split(" "),
  "football match score league training goal referee season stadium penalty striker keeper tickets".split(" "),
  "birthday party cake present gift balloons surprise restaurant booking candles card celebration".split(" "),
  "book novel chapter author library podcast series episode film cinema trailer soundtrack review".split(" "),
  "doctor dentist appointment prescription pharmacy cold flu headache gym running marathon yoga stretch".split(" ")
]
const FILLER =
  "i you we it that this the a to and but so just really maybe tomorrow today tonight later yes no ok sure lol haha " +
  "think know need want going got see said was is are be have had will can could should about with for on at in"
const FILLER_WORDS = FILLER.split(" ")

const pick = <A>(random: () => number, items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!

const pad = (n: number) => (n < 10 ? `0${n}` : `${n}`)
const wallClock = (ms: number) => {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${
    pad(d.getUTCMinutes())
  }:${pad(d.getUTCSeconds())}`
}

/** `count` messages in conversations of 3 to 60 messages, hours to days apart, over a few years. */
const generateChat = (count: number): ReadonlyArray<StoredMessage> => {
  const random = rng(7)
  const messages: Array<StoredMessage> = []
  let t = Date.UTC(2021, 0, 1, 8, 0)
  while (messages.length < count) {
    const topic = pick(random, TOPICS)
    const length = 3 + Math.floor(random() * 58)
    for (let i = 0; i < length && messages.length < count; i++) {
      t += Math.floor(15_000 + random() * 300_000)
      const roll = random()
      const seq = messages.length
      const author = pick(random, AUTHORS)
      if (roll < 0.04) messages.push({ seq, sentAt: wallClock(t), author, text: "<Media omitted>", kind: "media" })
      else if (roll < 0.05) messages.push({ seq, sentAt: wallClock(t), author, text: "This message was deleted", kind: "deleted" })
      else {
        const words = 3 + Math.floor(random() * 18)
        const body: Array<string> = []
        for (let w = 0; w < words; w++) {
          body.push(random() < 0.45 ? pick(random, topic) : random() < 0.1 ? pick(random, pick(random, TOPICS)) : pick(random, FILLER_WORDS))
        }
        messages.push({ seq, sentAt: wallClock(t), author, text: body.join(" "), kind: roll > 0.99 ? "edited" : "text" })
      }
    }
    // The next conversation starts 1.5 hours to 3 days later.
    t += Math.floor(90 * 60_000 + random() * 3 * 24 * 3_600_000)
  }
  return messages
}

/** ~200 questions: the evaluation's, and generated ones in the shapes people ask in. */
const latencyQuestions = (total: number): ReadonlyArray<string> => {
  const random = rng(11)
  const shapes: ReadonlyArray<(a: string, b: string, who: string) => string> = [
    (a, b) => `When did we talk about the ${a} and the ${b}?`,
    (a, _b, who) => `What did ${who.split(" ")[0]} say about the ${a}?`,
    (a, b) => `How much was the ${a} for the ${b}?`,
    (a) => `Who sorted out the ${a} in the end?`,
    (a, b) => `Why did the ${a} go wrong with the ${b}?`,
    (a) => `${a}?`,
    (a, b, who) => `Did ${who.split(" ")[0]} ever mention a ${a}, or was it the ${b}`,
    () => "What did we do last summer?",
    () => "Who is the funniest person in this chat? 😂"
  ]
  const questions = evalQuestions.map((q) => q.question)
  while (questions.length < total) {
    const topic = pick(random, TOPICS)
    questions.push(pick(random, shapes)(pick(random, topic), pick(random, topic), pick(random, AUTHORS)))
  }
  return questions
}

const largeChat = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const chunks = yield* RagRepo
  const repo = yield* RetrievalRepo
  const vector = yield* Vector
  const llm = yield* Llm
  const retrieval = yield* Retrieval

  yield* out(`\n== 2, 3. Generated chat of ${generatedCount.toLocaleString("en")} messages (offline embedder) ==`)
  const messages = generateChat(generatedCount)
  const storeStarted = performance.now()
  const chatId = yield* storeChat("Large generated chat", AUTHORS, messages)
  yield* sql`ANALYZE messages`
  yield* out(`stored in ${((performance.now() - storeStarted) / 1000).toFixed(1)} s (direct SQL inserts of ${insertBatch} rows)`)

  const embedStarted = performance.now()
  yield* embedChat(chatId)
  const embedSeconds = (performance.now() - embedStarted) / 1000
  const counts = yield* chunks.chunkCount(chatId, llm.embedder)
  yield* sql`ANALYZE chunks`
  yield* out(
    `embedding job (chunk + embed + Vector.upsert + markEmbedded): ${counts.embedded.toLocaleString("en")} chunks in ` +
      `${embedSeconds.toFixed(1)} s = ${(counts.embedded / embedSeconds).toFixed(0)} chunks/s, ` +
      `${(messages.length / embedSeconds).toFixed(0)} messages/s`
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

/** The retrieval services over one `Llm`; the SQL client and the `Vector` store come from outside. */
const ragServices = <E>(llm: Layer.Layer<Llm, E>) =>
  Layer.mergeAll(Retrieval.Default, RagRepo.Default, RetrievalRepo.Default).pipe(Layer.provideMerge(llm))

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
    Effect.provide(VectorPostgres.pipe(Layer.provideMerge(DatabaseOnPool), Layer.provide(scratchPool(database)))),
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )
)

NodeRuntime.runMain(program)
