/**
 * bench:rag, part 1: retrieval quality on the evaluation chat (bench/fixtures/rag-eval.ts). Each question
 * that names its answer messages is asked of three retrievers, vector only, full text only and the hybrid
 * `Retrieval.retrieve`, and recall@10 is printed per category. `--sweep` prints the fusion weights grid
 * the defaults of src/Rag/Fusion.ts were chosen from.
 */
import { SqlClient } from "@effect/sql"
import { Console, Effect } from "effect"
import { Llm } from "../src/Llm.js"
import type { ChunkHit, TextHit } from "../src/Rag/ChunksRepo.js"
import { ChunksRepo } from "../src/Rag/ChunksRepo.js"
import { candidatesPerList, defaultFusionWeights, fuseHybrid, type FusionWeights } from "../src/Rag/Fusion.js"
import { Retrieval } from "../src/Rag/Retrieval.js"
import { type Category, evalQuestions } from "./fixtures/rag-eval.js"
import { benchUserId, embedChat } from "./rag-store.js"

const out = (line: string) => Console.log(line)

/** Categories whose questions name their answer messages, in the order printed. */
export const retrievalCategories: ReadonlyArray<Category> = ["fact", "paraphrase", "who", "first-last"]

/**
 * recall@k of one question = |A ∩ R| / |A|, where A is the set of the question's answer messages and R
 * the set of messages covered by the top-k chunks (every text or edited message from each chunk's first
 * to its last, as `RetrievalRepo.messagesOfChunks` reads them: what the answer model is given). Printed:
 * the mean over questions, each weighing the same.
 */
export const recallDefinition =
  "recall@k = |answer messages ∩ messages covered by the top-k chunks| / |answer messages|, averaged over questions"

const recall = (answers: ReadonlyArray<number>, found: ReadonlySet<number>) =>
  answers.length === 0 ? 1 : answers.filter((seq) => found.has(seq)).length / answers.length

const mean = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)

const k = 10
const deepest = 20

interface Row {
  readonly category: Category
  readonly topic: string
  readonly question: string
  readonly answers: ReadonlyArray<number>
  readonly vectorHits: ReadonlyArray<ChunkHit>
  readonly textHits: ReadonlyArray<TextHit>
  readonly vector: number
  readonly text: number
  readonly hybrid: number
}

export interface QualitySummary {
  readonly embedder: string
  readonly byCategory: ReadonlyMap<Category | "all", { readonly vector: number; readonly text: number; readonly hybrid: number }>
}

export const evaluateRetrieval = (label: string, chatId: string, options: { readonly sweep: boolean; readonly perQuestion: boolean }) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const llm = yield* Llm
    const chunks = yield* ChunksRepo
    const retrieval = yield* Retrieval

    const embedStarted = performance.now()
    yield* embedChat(chatId)
    const embedSeconds = (performance.now() - embedStarted) / 1000
    const counts = yield* chunks.chunkCount(chatId, llm.embedder)

    // What each chunk covers, in message seqs, read once: recall is then counted without the database.
    const spans = yield* sql<{ readonly id: string; readonly first_seq: number; readonly last_seq: number }>`
      SELECT k.id::text AS id, f.seq AS first_seq, l.seq AS last_seq FROM chunks k
      JOIN messages f ON f.id = k.first_message_id JOIN messages l ON l.id = k.last_message_id
      WHERE k.chat_id = ${chatId}::uuid AND k.embedder = ${llm.embedder}`
    const written = yield* sql<{ readonly id: string; readonly seq: number }>`
      SELECT id::text AS id, seq FROM messages WHERE chat_id = ${chatId}::uuid AND kind IN ('text', 'edited') ORDER BY seq`
    const writtenSeqs = written.map((row) => row.seq)
    const seqOfId = new Map(written.map((row) => [row.id, row.seq]))
    // The written messages each chunk covers, from its first message's seq to its last's.
    const coveredBy = new Map(spans.map((span) => [span.id, writtenSeqs.filter((seq) => seq >= span.first_seq && seq <= span.last_seq)]))
    const covered = (hits: ReadonlyArray<ChunkHit>) => new Set(hits.flatMap((hit) => coveredBy.get(hit.id) ?? []))

    const rows: Array<Row> = []
    for (const question of evalQuestions) {
      if (!retrievalCategories.includes(question.category) || question.answers.length === 0) continue
      const lists = yield* retrieval.candidates({ chatId, userId: benchUserId, question: question.question, depth: deepest })
      const hybrid = yield* retrieval.retrieve({ chatId, userId: benchUserId, question: question.question, k })
      rows.push({
        category: question.category,
        topic: question.topic,
        question: question.question,
        answers: question.answers,
        vectorHits: lists.vectorHits,
        textHits: lists.textHits,
        vector: recall(question.answers, covered(lists.vectorHits.slice(0, k))),
        text: recall(question.answers, covered(lists.textHits.slice(0, k))),
        hybrid: recall(question.answers, new Set(hybrid.messages.flatMap((m) => seqOfId.get(m.message_id) ?? [])))
      })
    }

    yield* out(
      `\n-- ${label}: embedder ${llm.embedder}, full text "${counts.config}"; ${written.length} written messages -> ` +
        `${counts.total} chunks (${counts.embedded} embedded in ${embedSeconds.toFixed(1)} s); ${rows.length} questions with answer messages`
    )
    yield* out(`${"category".padEnd(12)} ${"questions".padStart(9)} ${"vector@10".padStart(10)} ${"text@10".padStart(8)} ${"hybrid@10".padStart(10)}`)
    const byCategory = new Map<Category | "all", { vector: number; text: number; hybrid: number }>()
    for (const category of [...retrievalCategories, "all" as const]) {
      const of = rows.filter((row) => category === "all" || row.category === category)
      const figures = { vector: mean(of.map((r) => r.vector)), text: mean(of.map((r) => r.text)), hybrid: mean(of.map((r) => r.hybrid)) }
      byCategory.set(category, figures)
      yield* out(
        `${category.padEnd(12)} ${String(of.length).padStart(9)} ${figures.vector.toFixed(3).padStart(10)} ` +
          `${figures.text.toFixed(3).padStart(8)} ${figures.hybrid.toFixed(3).padStart(10)}`
      )
    }
    const all = byCategory.get("all") ?? { vector: 0, text: 0, hybrid: 0 }
    const paraphrase = byCategory.get("paraphrase")?.hybrid ?? 0
    const worse = rows.filter((row) => row.hybrid < Math.max(row.vector, row.text))
    yield* out(
      `hybrid ${all.hybrid.toFixed(3)} vs vector-only ${all.vector.toFixed(3)} and full-text-only ${all.text.toFixed(3)}: ` +
        `${all.hybrid > all.vector && all.hybrid > all.text ? "beats both" : "does NOT beat both"}; below the better single ` +
        `retriever on ${worse.length} of ${rows.length} questions; paraphrase hybrid ${paraphrase.toFixed(3)} (target >= 0.6 ` +
        `${paraphrase >= 0.6 ? "holds" : "does NOT hold"})`
    )
    if (options.perQuestion) {
      yield* out(`${"category".padEnd(11)} ${"topic".padEnd(20)} ${"vec".padStart(5)} ${"fts".padStart(5)} ${"hyb".padStart(5)}  question`)
      for (const row of rows) {
        yield* out(
          `${row.category.padEnd(11)} ${row.topic.padEnd(20)} ${row.vector.toFixed(2).padStart(5)} ${row.text.toFixed(2).padStart(5)} ` +
            `${row.hybrid.toFixed(2).padStart(5)}  ${row.question}`
        )
      }
    }
    yield* sweep(rows, covered, options.sweep)
    return { embedder: llm.embedder, byCategory } satisfies QualitySummary
  })

/** Fusion weights tried by `--sweep`; plain RRF is { fullText 1, exponent 0, k 60, depth 10 }. */
const grid = (): ReadonlyArray<FusionWeights & { readonly depth: number }> =>
  [0.5, 1, 2, 3, 4, 6, 8].flatMap((fullText) =>
    [0, 0.5, 1, 2].flatMap((coverageExponent) =>
      [10, 60].flatMap((rankK) => [10, 20].map((depth) => ({ fullText, coverageExponent, k: rankK, depth })))
    )
  )

const sweep = (
  rows: ReadonlyArray<Row>,
  covered: (hits: ReadonlyArray<ChunkHit>) => ReadonlySet<number>,
  full: boolean
) =>
  Effect.gen(function*() {
    const score = (weights: FusionWeights & { readonly depth: number }) => {
      const recalls = rows.map((row) => ({
        category: row.category,
        recall: recall(
          row.answers,
          covered(fuseHybrid(row.vectorHits.slice(0, weights.depth), row.textHits.slice(0, weights.depth), weights).slice(0, k))
        )
      }))
      return {
        weights,
        all: mean(recalls.map((r) => r.recall)),
        paraphrase: mean(recalls.filter((r) => r.category === "paraphrase").map((r) => r.recall)),
        fact: mean(recalls.filter((r) => r.category === "fact").map((r) => r.recall))
      }
    }
    const describe = (s: ReturnType<typeof score>) =>
      `fullText ${String(s.weights.fullText).padStart(4)} exponent ${s.weights.coverageExponent} k ${String(s.weights.k).padStart(2)} ` +
      `depth ${String(s.weights.depth).padStart(2)}: all ${s.all.toFixed(3)}, fact ${s.fact.toFixed(3)}, paraphrase ${s.paraphrase.toFixed(3)}`
    yield* out("fusion (hybrid recall@10 by weights, from the same candidate lists):")
    yield* out(`  plain RRF        ${describe(score({ fullText: 1, coverageExponent: 0, k: 60, depth: 10 }))}`)
    yield* out(`  chosen (default) ${describe(score({ ...defaultFusionWeights, depth: candidatesPerList(k) }))}`)
    if (!full) return yield* out("  (the whole grid: -- --sweep)")
    const scored = grid().map(score).sort((a, b) => b.all - a.all || b.paraphrase - a.paraphrase)
    for (const s of scored) yield* out(`  ${describe(s)}`)
  })
