/**
 * bench:rag, part 2: every question of the evaluation asked of the real `Rag.query` (router, exact
 * answers, retrieval, the offline or Gemini answer), as a user would. Per category: how many answers are
 * right, how many cite one of the messages that answer the question, and the latency of the whole query.
 * - count and first-last: right when `mode` is "exact" and the answer states the expected value;
 * - who: right when the answer names the person (any mode);
 * - unanswerable: right when it is not answered exactly (nothing in the chat to count or quote exactly);
 * - fact and paraphrase: no single expected text; only citations are scored.
 */
import { Console, Effect } from "effect"
import { Rag } from "../src/Rag.js"
import { answerStates, type Category, evalQuestions } from "./fixtures/rag-eval.js"
import { benchUserId } from "./rag-store.js"
import { percentile } from "./support.js"

const out = (line: string) => Console.log(line)

const categories: ReadonlyArray<Category> = ["fact", "paraphrase", "count", "first-last", "who", "unanswerable"]

interface Asked {
  readonly category: Category
  readonly topic: string
  readonly question: string
  /** Whether the answer is right, or null where the category has no expected answer. */
  readonly right: boolean | null
  /** Whether a citation is one of the answer messages, or null when the question names none. */
  readonly cites: boolean | null
  readonly mode: string
  readonly ms: number
  readonly answer: string
}

export const evaluateAnswers = (chatId: string, seqOfMessage: ReadonlyMap<string, number>, options: { readonly perQuestion: boolean }) =>
  Effect.gen(function*() {
    const rag = yield* Rag
    // Warm-up: the first queries prepare statements and load the model; they are not counted.
    for (const question of evalQuestions.slice(0, 3)) {
      yield* rag.query({ userId: benchUserId, chatId, question: question.question })
    }
    const asked: Array<Asked> = []
    for (const question of evalQuestions) {
      const started = performance.now()
      const answer = yield* rag.query({ userId: benchUserId, chatId, question: question.question })
      const ms = performance.now() - started
      const exactly = answer.mode === "exact"
      const right = question.category === "unanswerable"
        ? !exactly
        : question.expected === undefined
        ? null
        : question.category === "who"
        ? answerStates(question.expected, answer.answer)
        : exactly && answerStates(question.expected, answer.answer)
      const cited = new Set(answer.citations.flatMap((c) => seqOfMessage.get(c.message_id) ?? []))
      asked.push({
        category: question.category,
        topic: question.topic,
        question: question.question,
        right,
        cites: question.answers.length === 0 ? null : question.answers.some((seq) => cited.has(seq)),
        mode: answer.mode,
        ms,
        answer: answer.answer
      })
    }

    yield* out(`\n-- answers: ${asked.length} questions asked of Rag.query`)
    yield* out(
      `${"category".padEnd(12)} ${"questions".padStart(9)} ${"right".padStart(11)} ${"cites".padStart(11)} ${"exact".padStart(6)} ` +
        `${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)}`
    )
    const share = (values: ReadonlyArray<boolean | null>) => {
      const scored = values.filter((v): v is boolean => v !== null)
      return scored.length === 0 ? "-" : `${scored.filter(Boolean).length}/${scored.length}`
    }
    for (const category of [...categories, "all" as const]) {
      const of = asked.filter((a) => category === "all" || a.category === category)
      const sorted = of.map((a) => a.ms).sort((a, b) => a - b)
      yield* out(
        `${category.padEnd(12)} ${String(of.length).padStart(9)} ${share(of.map((a) => a.right)).padStart(11)} ` +
          `${share(of.map((a) => a.cites)).padStart(11)} ${String(of.filter((a) => a.mode === "exact").length).padStart(6)} ` +
          `${percentile(sorted, 50).toFixed(1).padStart(8)} ${percentile(sorted, 95).toFixed(1).padStart(8)}`
      )
    }
    yield* out(
      "(right: count and first-last answered exactly with the expected value; who: the person named; unanswerable: " +
        "not answered exactly. cites: a citation is one of the answer messages. exact: answers in mode \"exact\")"
    )
    const wrong = asked.filter((a) => a.right === false && (a.category === "count" || a.category === "first-last"))
    if (options.perQuestion || wrong.length > 0) {
      yield* out(options.perQuestion ? "every answer:" : "countable questions not answered exactly and right:")
      for (const a of options.perQuestion ? asked : wrong) {
        const verdict = a.right === null ? "    " : a.right ? "ok  " : "MISS"
        yield* out(`  ${verdict} ${a.category.padEnd(11)} ${a.topic.padEnd(20)} [${a.mode}] ${a.question}\n       -> ${a.answer.replace(/\s+/g, " ").slice(0, 220)}`)
      }
    }
    return asked
  })
