/**
 * The messages an insight type is judged on: hybrid retrieval with the type's own queries, plus a spread
 * over the chat's whole time range, each message once, capped by a token budget and given in file order.
 */
import { Effect } from "effect"
import type { ContextMessage } from "../Llm.js"
import { Retrieval } from "../Rag/Retrieval.js"
import { InsightsRepo } from "./Repo.js"

/** Evidence tokens per type: room for the prompt and statistics within a small model's context, and a cost bound. */
export const evidenceTokenBudget = 6000
/** Messages retrieved per query, and spread over the chat. */
const perQuery = 12
const spreadSize = 40

/** What each type is searched with; a type not listed is searched with its name and description. */
const queriesOf: Readonly<Record<string, ReadonlyArray<string>>> = {
  "who-reaches-out": ["hey how are you", "are you there, did you see my message", "miss you, long time"],
  "power-balance": ["let us decide, what do you want", "fine, okay, whatever you prefer", "we should, I think we must"],
  "reciprocity": ["how about you, and you", "thank you so much", "tell me about your day"],
  "closeness-over-time": ["love you, miss you", "thank you for being there", "remember when"],
  "response-rhythm": ["sorry for the late reply", "good morning", "good night"],
  "message-style": ["haha lol", "photo video link", "ok sure"],
  "questions-and-curiosity": ["what do you think? how was it?", "why, when, where", "tell me more"],
  "what-goes-unsaid": ["never mind, forget it", "we need to talk", "okay"],
  "conflict-triggers": ["annoyed, upset, angry", "why did you", "you always, you never"],
  "repair-attempts": ["sorry, I apologise", "let us make up", "I did not mean it"],
  "support-in-hard-times": ["sad, hard day, stressed", "I am here for you", "hope you feel better"],
  "celebrating-wins": ["congratulations, amazing news", "so proud of you", "well done"],
  "check-ins": ["how are you doing", "did you get home safe", "thinking of you"],
  "inside-jokes": ["haha remember", "lol classic", "again, as always"],
  "plans-and-follow-through": ["let us meet on Friday", "book a table, tickets", "see you tomorrow"],
  "everyday-logistics": ["pick up, drop off, key", "shopping list, groceries", "what time"],
  "shared-memories": ["remember when we", "that trip, that day", "photos from"],
  "hopes-and-future": ["one day we will", "next year, future", "I hope, I wish"]
}

export const queriesFor = (type: { readonly id: string; readonly name: string; readonly description: string }) =>
  queriesOf[type.id] ?? [type.name, type.description]

/** A rough token count of a message line: about four characters a token, plus the id and author. */
const tokensOf = (message: ContextMessage) => Math.ceil((message.text.length + (message.author?.length ?? 0)) / 4) + 8

const byFileOrder = (a: ContextMessage, b: ContextMessage) => {
  const x = BigInt(a.messageId)
  const y = BigInt(b.messageId)
  return x < y ? -1 : x > y ? 1 : 0
}

/** Retrieved messages first (they are chosen for the type), then the spread, within the budget. */
export const gatherEvidence = (input: {
  readonly chatId: string
  readonly userId: string
  readonly queries: ReadonlyArray<string>
}) =>
  Effect.gen(function*() {
    const retrieval = yield* Retrieval
    const repo = yield* InsightsRepo
    const found = yield* Effect.forEach(
      input.queries,
      (question) => retrieval.retrieve({ chatId: input.chatId, userId: input.userId, question, k: perQuery }),
      { concurrency: 2 }
    )
    const spread = yield* repo.spread({ chatId: input.chatId, k: spreadSize })
    const candidates = [...found.flatMap((result) => result.messages), ...spread].map((message): ContextMessage => ({
      messageId: message.message_id,
      author: message.author,
      sentAt: message.sent_at,
      text: message.text
    }))
    const chosen = new Map<string, ContextMessage>()
    let tokens = 0
    for (const message of candidates) {
      if (chosen.has(message.messageId)) continue
      const cost = tokensOf(message)
      if (tokens + cost > evidenceTokenBudget) continue
      chosen.set(message.messageId, message)
      tokens += cost
    }
    return { messages: [...chosen.values()].sort(byFileOrder), tokens }
  })
