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
}): Answer => {
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
    // No shared words: the context came from vector search, whose first hit is the nearest one.
    : ranked.slice(0, 1)
  const [first, ...more] = chosen.map(({ message }) => quote(message))
  const lines = [
    first ?? "",
    ...(best > 0 ? [] : ["(No message shares words with your question: this is the closest one found.)"]),
    ...(more.length > 0 ? ["Also:", ...more.map((line) => `- ${line}`)] : []),
    offlineNotice
  ]
  return {
    text: lines.join("\n"),
    citedMessageIds: chosen.map(({ message }) => message.messageId),
    mode: "offline"
  }
}

/** The offline model as a service value, embedding with `embed` (the USE-lite thread). */
export const offlineModel = (embed: (texts: ReadonlyArray<string>) => ReturnType<LanguageModel["embed"]>): LanguageModel => ({
  mode: "offline",
  embedder: offlineEmbedder,
  // USE-lite embeds questions and documents alike: the purpose is only recorded.
  embed: (texts, purpose) =>
    embed(texts).pipe(
      Effect.withSpan("Llm.embed", {
        attributes: { count: texts.length, embedder: offlineEmbedder, model: "offline", purpose }
      })
    ),
  answer: (input) =>
    Effect.sync(() => extractiveAnswer(input)).pipe(
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
