/**
 * Questions about a chat. Questions with an exact answer (counts, rankings, firsts and lasts, busiest
 * times, silences, reply times) are answered by the chat tools from SQL; the others by the language
 * model from retrieved messages, with the same tools offered to a model that can call functions. Every answer cites
 * only messages that were given to it, and the exchange is kept in a conversation for follow-ups.
 */
import { Effect, Option } from "effect"
import { ChatAccess } from "./Chats/Access.js"
import { orDatabaseError } from "./Database.js"
import { NotFound, ValidationError } from "./Domain/Errors.js"
import { limitOf, type PageRequest, toPage } from "./Domain/Pagination.js"
import {
  type AnswerMode,
  type CitedMessage,
  type ConversationCursor,
  maxQuestionLength,
  type VectorStatus
} from "./Domain/Rag.js"
import { type ContextMessage, Llm } from "./Llm.js"
import { ChunksRepo } from "./Rag/ChunksRepo.js"
import { ConversationsRepo } from "./Rag/ConversationsRepo.js"
import { Retrieval } from "./Rag/Retrieval.js"
import type { RankedMessage } from "./Rag/RetrievalRepo.js"
import { ChatTools } from "./Rag/ChatToolsRun.js"
import { Jobs } from "./Worker/Jobs.js"
import { embedJobKey } from "./Rag/Keys.js"
import { orFail } from "./Domain/Found.js"

export interface QueryInput {
  readonly userId: string
  readonly chatId: string
  readonly question: string
  readonly conversationId?: string | undefined
}

const conversationNotFound = (id: string) => new NotFound({ message: `No conversation ${id}` })


const toContext = (message: RankedMessage): ContextMessage => ({
  messageId: message.message_id,
  author: message.author,
  sentAt: message.sent_at,
  text: message.text,
  rank: message.rank
})

/** A retrieved message as cited: without its retrieval rank. */
const toCitation = ({ rank: _rank, ...message }: RankedMessage): CitedMessage => message


export class Rag extends Effect.Service<Rag>()("chatsight/Rag", {
  effect: Effect.gen(function*() {
    const access = yield* ChatAccess
    const conversations = yield* ConversationsRepo
    const tools = yield* ChatTools
    const chunks = yield* ChunksRepo
    const retrieval = yield* Retrieval
    const llm = yield* Llm
    const jobs = yield* Jobs

    /** Answers a question about one of the user's chats, citing the messages it rests on. */
    const query = (input: QueryInput) =>
      Effect.gen(function*() {
        const question = input.question.trim()
        if (question.length === 0) return yield* new ValidationError({ message: "question: must not be empty" })
        // Characters as people count them (an emoji is one), not UTF-16 units.
        if ([...question].length > maxQuestionLength) {
          return yield* new ValidationError({ message: `question: must be at most ${maxQuestionLength} characters` })
        }
        const chat = yield* access.owned(input.userId, input.chatId)
        const conversation = input.conversationId === undefined
          ? yield* conversations.create({ userId: input.userId, chatId: chat.id, title: Array.from(question).slice(0, 120).join("") })
          : yield* conversations.find({ userId: input.userId, conversationId: input.conversationId }).pipe(
            Effect.flatMap(Option.match({
              onNone: () => Effect.fail(conversationNotFound(input.conversationId ?? "")),
              onSome: (found) => found.chat_id === chat.id ? Effect.succeed(found) : Effect.fail(conversationNotFound(found.id))
            }))
          )
        const history = (yield* conversations.messages(conversation.id)).slice(-8)
          .map((turn) => ({ role: turn.role, content: turn.content }))

        // A question the router understands in full is answered by the chat tools; others by retrieval,
        // where a model that calls functions is offered the same tools.
        const routed = yield* tools.route(chat, question)
        const result: { text: string; citations: ReadonlyArray<CitedMessage>; mode: AnswerMode } = routed !== null
          ? { ...(yield* tools.answer(chat, routed)), mode: "exact" }
          : yield* Effect.gen(function*() {
            const found = yield* retrieval.retrieve({ chatId: chat.id, userId: input.userId, question })
            const toolbox = tools.forModel(chat)
            const answer = yield* llm.answer({ question, context: found.messages.map(toContext), history, tools: toolbox.tools })
            // Only messages that were given to the model (or that its tool calls returned) can be cited.
            const given = new Map([
              ...toolbox.cited,
              ...found.messages.map((message) => [message.message_id, toCitation(message)] as const)
            ])
            const citations = [...new Set(answer.citedMessageIds)].flatMap((id) => {
              const message = given.get(id)
              return message === undefined ? [] : [message]
            })
            const mode: AnswerMode = answer.mode === "offline" ? `offline-${found.mode}` : found.mode
            return { text: answer.text, citations, mode }
          })

        yield* conversations.append(conversation.id, { role: "user", content: question, citations: [], mode: null })
        yield* conversations.append(conversation.id, {
          role: "assistant",
          content: result.text,
          citations: result.citations,
          mode: result.mode
        })
        return {
          answer: result.text,
          citations: result.citations,
          conversation_id: conversation.id,
          mode: result.mode
        }
      }).pipe(
        // INSERT ... RETURNING always returns the conversation it made.
        Effect.catchTag("NoSuchElementException", (error) => Effect.die(error)),
        orDatabaseError,
        Effect.withSpan("Rag.query", { attributes: { "user.id": input.userId, chatId: input.chatId } })
      )

    const listConversations = (userId: string, chatId: string, page: PageRequest<typeof ConversationCursor.Type>) =>
      Effect.gen(function*() {
        yield* access.owned(userId, chatId)
        const after = page.starting_after === undefined ? null : { at: page.starting_after[0], id: page.starting_after[1] }
        const rows = yield* conversations.list({ userId, chatId, limit: limitOf(page), after })
        return toPage(rows, page, (row) => [row.updated_at, row.id] as const)
      }).pipe(orDatabaseError, Effect.withSpan("Rag.listConversations"))

    const getConversation = (userId: string, conversationId: string) =>
      Effect.gen(function*() {
        const conversation = yield* conversations.find({ userId, conversationId }).pipe(
          orFail(() => conversationNotFound(conversationId))
        )
        return { ...conversation, messages: yield* conversations.messages(conversation.id) }
      }).pipe(orDatabaseError, Effect.withSpan("Rag.getConversation"))

    const deleteConversation = (userId: string, conversationId: string) =>
      conversations.softDelete(userId, conversationId).pipe(
        Effect.flatMap((deleted) =>
          deleted ? Effect.succeed({ id: conversationId, deleted: true as const }) : Effect.fail(conversationNotFound(conversationId))
        ),
        orDatabaseError,
        Effect.withSpan("Rag.deleteConversation")
      )

    /** How far the chat's embedding has come, for the configured embedder. */
    const vectorStatus = (userId: string, chatId: string) =>
      Effect.gen(function*() {
        yield* access.owned(userId, chatId)
        const counts = yield* chunks.chunkCount(chatId, llm.embedder)
        // The newest embedding job of the chat: after a merge, the merge's own job (`…:merge:<id>`).
        const job = yield* jobs.latestStatusByKey(embedJobKey(chatId, llm.embedder))
        const status = Option.match(job, {
          onNone: (): VectorStatus["status"] => "pending",
          onSome: (j): VectorStatus["status"] =>
            j.status === "succeeded"
              ? "ready"
              : j.status === "failed" || j.status === "cancelled"
              ? "failed"
              : j.status === "running" || counts.total > 0
              ? "indexing"
              : "pending"
        })
        return {
          chat_id: chatId,
          status,
          embedder: llm.embedder,
          done: counts.embedded,
          total: counts.total,
          error: Option.match(job, { onNone: () => null, onSome: (j) => status === "failed" ? j.last_error : null })
        }
      }).pipe(orDatabaseError, Effect.withSpan("Rag.vectorStatus"))

    return { query, listConversations, getConversation, deleteConversation, vectorStatus } as const
  }),
  dependencies: [
    ChatAccess.Default,
    ConversationsRepo.Default,
    ChatTools.Default,
    ChunksRepo.Default,
    Retrieval.Default,
    Jobs.Default
  ]
}) {}
