/**
 * The offline language model, used when no Gemini key is set: a deterministic feature-hashing
 * embedder (`offline-hash-v1@768`), extractive answers that quote the most relevant messages, and
 * insight reports built from the statistics (`OfflineInsight.ts`).
 */
import { Effect, Layer } from "effect"
import { type Answer, type ContextMessage, type LanguageModel, Llm, type Turn } from "../Llm.js"
import { dimensions } from "../Vector.js"
import { isFunctionWord, words } from "../Words.js"
import { offlineReport } from "./OfflineInsight.js"
import { rankMessages } from "./Ranking.js"
import { shortTime } from "./Prompts.js"

/** Stored with every vector; a change to the features or weights below must change this name. */
export const offlineEmbedder = `offline-hash-v1@${dimensions}`

// ---------------------------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------------------------

/**
 * FNV-1a over the UTF-16 code units, finished with murmur3's fmix32 so that the low bits (which pick
 * the index) are well mixed even for short, similar strings. 32-bit unsigned.
 */
export const hash32 = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

// ---------------------------------------------------------------------------------------------
// The embedder
// ---------------------------------------------------------------------------------------------

/** Per-occurrence weights by feature kind: whole words say more than their fragments. */
const WEIGHT = {
  word: 1,
  functionWord: 0.25,
  bigram: 0.6,
  charGram: 0.2
} as const

/** Adds one occurrence of a feature; features are namespaced so a word and a trigram never coincide. */
const count = (features: Map<string, { tf: number; weight: number }>, key: string, weight: number) => {
  const seen = features.get(key)
  if (seen === undefined) features.set(key, { tf: 1, weight })
  else seen.tf += 1
}

const charGrams = (features: Map<string, { tf: number; weight: number }>, word: string) => {
  const marked = `<${word}>`
  for (const n of [3, 4]) {
    for (let i = 0; i + n <= marked.length; i++) count(features, `c:${marked.slice(i, i + n)}`, WEIGHT.charGram)
  }
}

/**
 * The offline embedding of one text: word unigrams, word bigrams, and the 3- and 4-grams of each
 * word with `<` `>` boundary marks, each hashed to one of `dimensions` indexes with a hashed sign
 * (so collisions cancel out on average instead of piling up), weighted `kind * (1 + ln tf)`, and
 * scaled to unit length. Deterministic across runs and machines.
 *
 * A text without letters or digits (empty, only emoji or punctuation) has the zero vector; its
 * cosine similarity with anything is then 0 (stores must treat a zero norm as similarity 0, not NaN).
 */
export const embedText = (text: string): Array<number> => {
  const vector = new Array<number>(dimensions).fill(0)
  const tokens = words(text)
  if (tokens.length === 0) return vector
  const features = new Map<string, { tf: number; weight: number }>()
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i]!
    count(features, `w:${word}`, isFunctionWord(word) ? WEIGHT.functionWord : WEIGHT.word)
    const next = tokens[i + 1]
    if (next !== undefined) count(features, `b:${word} ${next}`, WEIGHT.bigram)
    charGrams(features, word)
  }
  for (const [key, { tf, weight }] of features) {
    const h = hash32(key)
    const index = (h & 0x7fffffff) % dimensions
    const sign = h >>> 31 === 0 ? 1 : -1
    vector[index]! += sign * weight * (1 + Math.log(tf))
  }
  let norm = 0
  for (const value of vector) norm += value * value
  norm = Math.sqrt(norm)
  // Every feature could in principle cancel out; a zero norm then stays the zero vector.
  if (norm === 0) return vector
  for (let i = 0; i < dimensions; i++) vector[i] = vector[i]! / norm
  return vector
}

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

export const offlineNotice = "Offline mode (no language model is configured), so this is not a written answer."

/**
 * The extractive answer: quotes the best 1-3 messages (or says nothing was found), citing their ids.
 * The conversation history is not used: an extractive answer can only quote, not resolve follow-ups.
 */
export const extractiveAnswer = (input: {
  readonly question: string
  readonly context: ReadonlyArray<ContextMessage>
  readonly history: ReadonlyArray<Turn>
}): Answer => {
  if (input.context.length === 0) {
    return {
      text: `${offlineNotice} No messages in this chat were found about that.`,
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
  const lead = best > 0
    ? chosen.length === 1 ? "The most relevant message:" : "The most relevant messages:"
    : "No message shares words with your question; the closest one found:"
  const lines = chosen.map(({ message }) => `- ${quote(message)}`)
  return {
    text: [`${offlineNotice} ${lead}`, ...lines].join("\n"),
    citedMessageIds: chosen.map(({ message }) => message.messageId),
    mode: "offline"
  }
}

/** The offline model as a service value. */
export const offlineModel: LanguageModel = {
  mode: "offline",
  embedder: offlineEmbedder,
  embed: (texts, purpose) =>
    Effect.sync(() => texts.map(embedText)).pipe(
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
}

export const OfflineLive: Layer.Layer<Llm> = Layer.effect(
  Llm,
  Effect.as(Effect.logInfo("language model: offline (set GEMINI_API_KEY to use Gemini)"), offlineModel)
)
