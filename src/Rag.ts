/**
 * Questions about a chat. Questions with an exact answer (counts, first and last messages) are
 * answered by SQL; the others by the language model from retrieved messages. Every answer cites
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
import { type RankedMessage, RetrievalRepo } from "./Rag/RetrievalRepo.js"
import { type ExactQuestion, routeQuestion } from "./Rag/Router.js"
import { Jobs } from "./Worker/Jobs.js"
import { embedJobKey } from "./Rag/Keys.js"
import { orFail } from "./Domain/Found.js"
import { plural } from "./Words.js"

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
    const exact = yield* RetrievalRepo
    const chunks = yield* ChunksRepo
    const retrieval = yield* Retrieval
    const llm = yield* Llm
    const jobs = yield* Jobs

    /** The SQL filters of a count or a ranking, and how its answer names them. */
    const countFilters = (chatId: string, route: Extract<ExactQuestion, { kind: "count" | "rank" }>) => ({
      filters: { chatId, from: route.range?.from ?? null, to: route.range?.to ?? null, kind: route.messageKind },
      what: route.messageKind ?? "",
      when: route.range === null ? "in this chat" : route.range.label
    })

    const answerExactly = (chatId: string, route: ExactQuestion) =>
      Effect.gen(function*() {
        if (route.kind === "rank") {
          const { filters, what, when } = countFilters(chatId, route)
          const counts = yield* exact.countByAuthor(filters)
          const ordered = route.fewest ? [...counts].reverse() : counts
          const [top, ...others] = ordered
          const messages = `${what} messages`.trim()
          if (top === undefined) return { text: `Nobody sent any ${messages} ${when}.`, citations: [] }
          const samples = yield* exact.edgeMessages({ ...filters, author: top.author, last: false, limit: 3 })
          const rest = others.slice(0, 4).map((row) => `${row.author} ${row.n}`).join(", ")
          return {
            text: `${top.author} sent the ${route.fewest ? "fewest" : "most"} ${messages} ${when}: ${top.n}` +
              `${rest === "" ? "" : ` (then ${rest})`} (counted exactly from the chat).`,
            citations: samples
          }
        }
        const author = route.author
        if (route.kind === "count") {
          const { filters, what, when } = countFilters(chatId, route)
          const n = yield* exact.countMessages({ ...filters, author })
          const samples = yield* exact.edgeMessages({ ...filters, author, last: false, limit: 3 })
          const who = author ?? "Everyone together"
          return { text: `${who} sent ${plural(n, `${what} message`.trim())} ${when} (counted exactly from the chat).`, citations: samples }
        }
        const [message] = yield* exact.edgeMessages({ chatId, author, from: null, to: null, kind: null, last: route.kind === "last", limit: 1 })
        if (message === undefined) return { text: "There is no such message in this chat.", citations: [] }
        return {
          text: `The ${route.kind} message${author === null ? "" : ` from ${author}`} was sent on ${
            message.sent_at.replace("T", " at ")
          }${message.author === null ? "" : ` by ${message.author}`}: "${message.text}"`,
          citations: [message]
        }
      })

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

        const latestYear = chat.last_message_at === null ? null : Number(chat.last_message_at.slice(0, 4))
        const route = routeQuestion(question, chat.participants, latestYear)
        const result: { text: string; citations: ReadonlyArray<CitedMessage>; mode: AnswerMode } = route !== null
          ? { ...(yield* answerExactly(chat.id, route)), mode: "exact" }
          : yield* Effect.gen(function*() {
            const found = yield* retrieval.retrieve({ chatId: chat.id, userId: input.userId, question })
            const answer = yield* llm.answer({ question, context: found.messages.map(toContext), history })
            // Only messages that were given to the model can be cited; invented ids are dropped.
            const given = new Map(found.messages.map((message) => [message.message_id, toCitation(message)]))
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
        const job = yield* jobs.statusByKey(embedJobKey(chatId, llm.embedder))
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
    RetrievalRepo.Default,
    ChunksRepo.Default,
    Retrieval.Default,
    Jobs.Default
  ]
}) {}
