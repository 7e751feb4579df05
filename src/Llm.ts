/**
 * The language model behind embeddings, answers and insight reports: Gemini when a key is set, else an
 * offline mode (USE-lite embeddings, extractive answers, reports built from the statistics) that
 * says it is offline.
 */
import { Context, Data, type Effect } from "effect"
import type { UpstreamUnavailable } from "./Domain/Errors.js"
import type { Confidence, InsightMode } from "./Domain/Insights.js"
import type { ChatStatistics } from "./Domain/Statistics.js"

/** A message given to the model, always read from the `messages` table. */
export interface ContextMessage {
  readonly messageId: string
  readonly author: string | null
  /** Wall-clock time as written, `YYYY-MM-DDTHH:MM:SS`. */
  readonly sentAt: string
  readonly text: string
  /** For retrieved messages: the rank (from 1) of the best retrieved chunk that holds it. */
  readonly rank?: number
}

export interface Turn {
  readonly role: "user" | "assistant"
  readonly content: string
}

/** A function the model may call while answering (see src/Rag/ChatTools.ts); `parameters` is a JSON Schema. */
export interface ToolDeclaration {
  readonly name: string
  readonly description: string
  readonly parameters: unknown
}

/**
 * Tools offered to the model for one answer. A call's `response` goes back to the model as JSON; its
 * `evidence` are messages the model may then cite, as if they had been in the context.
 */
export interface AnswerTools<E> {
  readonly declarations: ReadonlyArray<ToolDeclaration>
  readonly call: (name: string, args: unknown) => Effect.Effect<
    { readonly response: Record<string, unknown>; readonly evidence: ReadonlyArray<ContextMessage> },
    E
  >
}

export interface Answer {
  readonly text: string
  /** Ids the model says it used; the caller keeps only those it was given. */
  readonly citedMessageIds: ReadonlyArray<string>
  readonly mode: "gemini" | "offline"
}

/** What an insight report is written from: the type's prompt, the exact statistics and the evidence. */
export interface InsightRequest {
  readonly typeId: string
  readonly name: string
  readonly description: string
  readonly prompt: string
  /** The stored statistics of the chat: every number of the report comes from here. */
  readonly statistics: ChatStatistics
  /** The messages chosen for this type, each with its id; only these may be cited. */
  readonly evidence: ReadonlyArray<ContextMessage>
  /** The words the evidence was searched with, for ranking it when there is no model. */
  readonly queries: ReadonlyArray<string>
}

export interface ReportFinding {
  readonly title: string
  readonly detail: string
  /** Only ids of the evidence, once each; a finding with none is dropped before it gets here. */
  readonly citedMessageIds: ReadonlyArray<string>
}

export interface InsightReport {
  readonly summary: string
  readonly findings: ReadonlyArray<ReportFinding>
  readonly confidence: Confidence
  readonly mode: InsightMode
  /** The chat model that wrote it, or `offline`. */
  readonly model: string
  readonly tokens: { readonly prompt: number; readonly output: number }
}

/** The model's replies for this type could not be read even after retries: the type fails, it is not an outage. */
export class InsightUnusable extends Data.TaggedError("InsightUnusable")<{ readonly reason: string }> {}

export interface LanguageModel {
  readonly mode: "gemini" | "offline"
  /** Names the embedder and its size, e.g. `gemini-embedding-001@768`; stored with every vector. */
  readonly embedder: string
  /** One vector per text, in order; `document` for stored chunks, `query` for questions. */
  readonly embed: (
    texts: ReadonlyArray<string>,
    purpose: "document" | "query"
  ) => Effect.Effect<ReadonlyArray<ReadonlyArray<number>>, UpstreamUnavailable>
  /**
   * Answers a question from the given messages (and the conversation so far), citing message ids. A
   * model that can call functions may use `tools` (and cite the messages they return); others ignore them.
   */
  readonly answer: <E = never>(input: {
    readonly question: string
    readonly context: ReadonlyArray<ContextMessage>
    readonly history: ReadonlyArray<Turn>
    readonly tools?: AnswerTools<E> | undefined
  }) => Effect.Effect<Answer, UpstreamUnavailable | E>
  /**
   * Writes one insight report from the statistics and the evidence. Findings cite only evidence ids;
   * a finding left without a valid citation is dropped. `InsightUnusable` when the replies stay unreadable.
   */
  readonly generateInsight: (input: InsightRequest) => Effect.Effect<InsightReport, UpstreamUnavailable | InsightUnusable>
}

export class Llm extends Context.Tag("chatsight/Llm")<Llm, LanguageModel>() {}
