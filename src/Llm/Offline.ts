/**
 * The offline language model, used when no Gemini key is set: Universal Sentence Encoder Lite as the
 * embedder (`use-lite-v1@512`, in a worker thread, see UseLite.ts), extractive answers that quote the
 * most relevant messages, and insight reports built from the statistics (`OfflineInsight.ts`).
 */
import { Effect, Layer } from "effect"
import { type Answer, type ContextMessage, type LanguageModel, Llm, type Turn } from "../Llm.js"
import { offlineReport } from "./OfflineInsight.js"
import { rankMessages } from "./Ranking.js"
import { shortTime } from "./Prompts.js"
import { useLiteEmbedder, UseLiteThreads } from "./UseLite.js"

/** Stored with every vector the offline model makes. */
export const offlineEmbedder = useLiteEmbedder

// ---------------------------------------------------------------------------------------------
// Extractive answers
// ---------------------------------------------------------------------------------------------

const QUOTE_LIMIT = 280

const quote = (message: ContextMessage): string => {
  const text = message.text.replace(/\s+/g, " ").trim()
  const clipped = text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT - 1).trimEnd()}…` : text
  return `${message.author ?? "Unknown"} (${shortTime(message.sentAt)}): ${clipped}`
}

/** At most this many messages are quoted. */
const MAX_QUOTES = 3
/** A message is quoted only if it scores at least this share of the best message's score. */
const RELATIVE_CUTOFF = 0.34

/** Said once, after the answer: the answer's `mode` says the rest. */
export const offlineNotice = "(Offline: quoted from the chat, not written by a language model.)"

/**
 * The extractive answer: leads with the best-supported message, quoted with its author and time, then
 * up to two more that support it (or says nothing was found), citing their ids; the offline note comes
 * last. The conversation history is not used: an extractive answer can only quote, not resolve follow-ups.
 */
export const extractiveAnswer = (input: {
  readonly question: string
  readonly context: ReadonlyArray<ContextMessage>
  readonly history: ReadonlyArray<Turn>
}, nearest: ReadonlyArray<ContextMessage> = []): Answer => {
  if (input.context.length === 0) {
    return {
      text: `No messages in this chat were found about that.\n${offlineNotice}`,
      citedMessageIds: [],
      mode: "offline"
    }
  }
  const ranked = rankMessages(input.question, input.context)
  const best = ranked[0]!.score
  const chosen = best > 0
    ? ranked.filter(({ score }) => score > 0 && score >= best * RELATIVE_CUTOFF).slice(0, MAX_QUOTES)
    // No shared words: the messages nearest in meaning, when the caller found them.
    : (nearest.length > 0 ? nearest : [ranked[0]!.message]).slice(0, MAX_QUOTES).map((message) => ({ message }))
  const [first, ...more] = chosen.map(({ message }) => quote(message))
  const lines = [
    first ?? "",
    ...(best > 0 ? [] : [
      `(No message shares words with your question: ${chosen.length > 1 ? "these are" : "this is"} the closest in meaning found.)`
    ]),
    ...(more.length > 0 ? ["Also:", ...more.map((line) => `- ${line}`)] : []),
    offlineNotice
  ]
  return {
    text: lines.join("\n"),
    citedMessageIds: chosen.map(({ message }) => message.messageId),
    mode: "offline"
  }
}

/**
 * Messages compared with the question by meaning, best-ranked chunks first: at most this many (a chunk's
 * vector blurs its messages, so the best chunk alone often misses the message; this caps the cost, one
 * embedding call of this many short texts).
 */
const MAX_NEAREST = 32
/** A message is quoted beside the nearest only if its cosine is at least this share of the nearest's. */
const NEAREST_CUTOFF = 0.85

/**
 * When no message shares a word with the question, the messages nearest to it in meaning (at most
 * MAX_QUOTES, best first) among those of the best-ranked retrieved chunks: the question and those
 * messages are embedded together, and USE-lite vectors are unit length, so the dot product is the
 * cosine. Nothing to do otherwise.
 */
const nearestInMeaning = (
  question: string,
  context: ReadonlyArray<ContextMessage>,
  embed: LanguageModel["embed"]
) => {
  if (context.length === 0 || rankMessages(question, context)[0]!.score > 0) {
    return Effect.succeed<ReadonlyArray<ContextMessage>>([])
  }
  const candidates = [...context]
    .sort((a, b) => (a.rank ?? 1) - (b.rank ?? 1))
    .slice(0, MAX_NEAREST)
  return Effect.map(embed([question, ...candidates.map((message) => message.text)], "query"), ([asked, ...vectors]): ReadonlyArray<ContextMessage> => {
    const scored = vectors.map((vector, i) => {
      let cosine = 0
      for (let d = 0; d < vector.length; d++) cosine += vector[d]! * (asked?.[d] ?? 0)
      return { message: candidates[i]!, cosine }
    }).sort((a, b) => b.cosine - a.cosine)
    const best = scored[0]?.cosine ?? 0
    return scored.filter(({ cosine }) => cosine > 0 && cosine >= best * NEAREST_CUTOFF).slice(0, MAX_QUOTES)
      .map(({ message }) => message)
  })
}

/** The offline model as a service value, embedding with `embed` (the USE-lite thread). */
export const offlineModel = (embed: LanguageModel["embed"]): LanguageModel => ({
  mode: "offline",
  embedder: offlineEmbedder,
  // USE-lite embeds questions and documents alike; the purpose decides who goes first (UseLite.ts).
  embed: (texts, purpose) =>
    embed(texts, purpose).pipe(
      Effect.withSpan("Llm.embed", {
        attributes: { count: texts.length, embedder: offlineEmbedder, model: "offline", purpose }
      })
    ),
  answer: (input) =>
    nearestInMeaning(input.question, input.context, embed).pipe(
      Effect.map((nearest) => extractiveAnswer(input, nearest)),
      Effect.tap((answer) => Effect.annotateCurrentSpan("cited", answer.citedMessageIds.length)),
      Effect.withSpan("Llm.answer", { attributes: { model: "offline", context: input.context.length } })
    ),
  generateInsight: (input) =>
    Effect.sync(() => offlineReport(input)).pipe(
      Effect.tap((report) => Effect.annotateCurrentSpan("findings", report.findings.length)),
      Effect.withSpan("Llm.generateInsight", {
        attributes: { model: "offline", insightType: input.typeId, evidence: input.evidence.length }
      })
    )
})

export const OfflineLive: Layer.Layer<Llm> = Layer.effect(
  Llm,
  Effect.gen(function*() {
    const threads = yield* UseLiteThreads
    yield* Effect.logInfo("language model: offline (set GEMINI_API_KEY to use Gemini)")
    return offlineModel(threads.embed)
  })
).pipe(Layer.provide(UseLiteThreads.Default))
