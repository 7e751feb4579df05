/**
 * The language model behind embeddings and answers: Gemini when a key is set, else an
 * offline mode (a feature-hashing embedder and extractive answers) that says it is offline.
 */
import { Context, type Effect } from "effect"
import type { UpstreamUnavailable } from "./Domain/Errors.js"

/** A message given to the model, always read from the `messages` table. */
export interface ContextMessage {
  readonly messageId: string
  readonly author: string | null
  /** Wall-clock time as written, `YYYY-MM-DDTHH:MM:SS`. */
  readonly sentAt: string
  readonly text: string
}

export interface Turn {
  readonly role: "user" | "assistant"
  readonly content: string
}

export interface Answer {
  readonly text: string
  /** Ids the model says it used; the caller keeps only those it was given. */
  readonly citedMessageIds: ReadonlyArray<string>
  readonly mode: "gemini" | "offline"
}

export interface LanguageModel {
  readonly mode: "gemini" | "offline"
  /** Names the embedder and its size, e.g. `gemini-embedding-001@768`; stored with every vector. */
  readonly embedder: string
  /** One vector per text, in order; `document` for stored chunks, `query` for questions. */
  readonly embed: (
    texts: ReadonlyArray<string>,
    purpose: "document" | "query"
  ) => Effect.Effect<ReadonlyArray<ReadonlyArray<number>>, UpstreamUnavailable>
  /** Answers a question from the given messages (and the conversation so far), citing message ids. */
  readonly answer: (input: {
    readonly question: string
    readonly context: ReadonlyArray<ContextMessage>
    readonly history: ReadonlyArray<Turn>
  }) => Effect.Effect<Answer, UpstreamUnavailable>
}

export class Llm extends Context.Tag("chatsight/Llm")<Llm, LanguageModel>() {}
