/**
 * Runs chat tool calls against the database, whoever made them: the offline router (`route` then
 * `answer`, which words the result) or a language model's function calls (`forModel`, which returns the
 * result as JSON with the messages it rests on, so the model can cite them).
 */
import { Clock, Data, Effect, Either } from "effect"
import type { CitedMessage } from "../Domain/Rag.js"
import type { AnswerTools, ContextMessage } from "../Llm.js"
import { type MessageFilters, type ToolCall, toolCallOf, toolDeclarations } from "./ChatTools.js"
import { answerText, describe, type Described, filterPhrase, type ToolResult } from "./ChatToolsAnswer.js"
import { nicknameCandidates, participantNamed } from "./ChatToolsNames.js"
import { monthDays } from "./ChatToolsPeriods.js"
import { ChatToolsRepo, mentionPattern, type ResolvedFilters } from "./ChatToolsRepo.js"
import { type Routed, routeQuestion } from "./Router.js"

/** The chat a tool runs on, as `ChatAccess.owned` returns it. */
export interface ToolChat {
  readonly id: string
  readonly participants: ReadonlyArray<string>
  /** Wall clock `YYYY-MM-DDTHH:MM:SS` of the last message. */
  readonly last_message_at: string | null
}

/** A call naming someone who is not in the chat (or several people): said back to the model. */
export class UnknownParticipant extends Data.TaggedError("UnknownParticipant")<{ readonly written: string }> {}

/** The silence threshold of chats whose statistics do not record one (the statistics' default). */
const defaultThresholdMinutes = 240

const samplesLimit = 3

const todayOf = (millis: number) => new Date(millis).toISOString().slice(0, 10)

const toContext = (message: CitedMessage): ContextMessage => ({
  messageId: message.message_id,
  author: message.author,
  sentAt: message.sent_at,
  text: message.text
})

/** The messages a result rests on: what its answer cites. */
const evidenceOf = (result: ToolResult): ReadonlyArray<CitedMessage> => {
  switch (result.tool) {
    case "find_message":
      return result.message === null ? [] : [result.message]
    case "longest_silence":
      return result.silence === null ? [] : [result.silence.before, result.silence.after]
    case "reply_times":
      return []
    default:
      return result.samples
  }
}

/** A result as a model reads it: the figures, the filters in words, and the messages with their ids. */
const modelResponse = (result: ToolResult, d: Described): Record<string, unknown> => {
  const messages = evidenceOf(result).map((m) => ({ id: m.message_id, author: m.author, sent_at: m.sent_at, text: m.text }))
  const { samples: _, ...figures } = "samples" in result ? result : { ...result, samples: [] }
  return { filters: filterPhrase(d), answer: answerText(result, d), result: figures, messages }
}

export class ChatTools extends Effect.Service<ChatTools>()("chatsight/ChatTools", {
  effect: Effect.gen(function*() {
    const repo = yield* ChatToolsRepo

    /** Nicknames among the words of `text` that the others write in the chat as names (see ChatToolsNames.ts). */
    const nicknamesIn = (chat: ToolChat, text: string) =>
      Effect.gen(function*() {
        const found = new Map<string, string>()
        for (const { nickname, participant } of nicknameCandidates(text, chat.participants)) {
          if (yield* repo.writtenAsName(chat.id, nickname, participant)) found.set(nickname, participant)
        }
        return found
      })

    const resolveAuthor = (chat: ToolChat, written: string | undefined) =>
      Effect.gen(function*() {
        if (written === undefined) return null
        const named = participantNamed(written, chat.participants, yield* nicknamesIn(chat, written))
        return named ?? (yield* new UnknownParticipant({ written }))
      })

    const resolve = (filters: MessageFilters, author: string | null): ResolvedFilters => ({
      author,
      from: filters.from ?? null,
      to: filters.to ?? null,
      pattern: filters.mentions === undefined ? null : mentionPattern(filters.mentions),
      kind: filters.kind ?? null
    })

    const isMediaKind = (kind: ResolvedFilters["kind"]) =>
      kind !== null && kind !== "media" && kind !== "deleted" && kind !== "edited" && kind !== "links"

    /** The queries of one call, under filters already resolved. */
    const execute = (chat: ToolChat, call: ToolCall, period: ResolvedFilters, author: string | null) => {
      switch (call.tool) {
        case "count_messages":
          return Effect.gen(function*() {
            const count = yield* repo.count(chat.id, period)
            const unknownMedia = isMediaKind(period.kind) ? yield* repo.mediaOfUnknownKind(chat.id, period) : 0
            const samples = yield* repo.edge(chat.id, period, false, samplesLimit)
            return { tool: "count_messages", count, unknownMedia, samples } as const
          })
        case "rank_authors": {
          const { order } = call.input
          return Effect.gen(function*() {
            const counts = yield* repo.countByAuthor(chat.id, period)
            // Everyone who took part is ranked, those with none too: "who sent the fewest" may be nobody's zero.
            const zero = chat.participants.filter((p) => !counts.some((row) => row.author === p)).map((p) => ({ author: p, n: 0 }))
            const all = [...counts, ...zero]
            const ranking = order === "most" ? all : [...all].sort((a, b) => a.n - b.n || a.author.localeCompare(b.author))
            const top = ranking[0]
            const samples = top === undefined || top.n === 0
              ? []
              : yield* repo.edge(chat.id, { ...period, author: top.author }, false, samplesLimit)
            return { tool: "rank_authors", order, ranking, samples } as const
          })
        }
        case "find_message": {
          const { which } = call.input
          return repo.edge(chat.id, period, which === "last", 1).pipe(
            Effect.map(([message]) => ({ tool: "find_message", which, message: message ?? null }) as const)
          )
        }
        case "busiest": {
          const { unit } = call.input
          return Effect.gen(function*() {
            const top = yield* repo.busiest(chat.id, period, unit, 3)
            const best = top[0]
            const within = best === undefined || unit === "hour"
              ? null
              : unit === "day"
              ? { from: best.key, to: best.key }
              : monthDays(best.key)
            const samples = within === null ? [] : yield* repo.edge(chat.id, { ...period, ...within }, false, samplesLimit)
            return { tool: "busiest", unit, top, samples } as const
          })
        }
        case "longest_silence":
          return repo.longestSilence(chat.id, period.from, period.to).pipe(
            Effect.map((silence) => ({ tool: "longest_silence", silence }) as const)
          )
        case "reply_times": {
          const { order } = call.input
          return Effect.gen(function*() {
            const thresholdMinutes = (yield* repo.silenceThreshold(chat.id)) ?? defaultThresholdMinutes
            const times = yield* repo.replyTimes(chat.id, period.from, period.to, thresholdMinutes * 60)
            return { tool: "reply_times", order, author, thresholdMinutes, times } as const
          })
        }
      }
    }

    /** Runs one call; its result, and the filters as the answer names them. */
    const run = (chat: ToolChat, call: ToolCall, label: string | null) =>
      Effect.gen(function*() {
        const input = call.input
        const author = yield* resolveAuthor(chat, "author" in input ? input.author : undefined)
        // A silence and reply times take a period only: the other filters do not apply to them.
        const periodOnly = call.tool === "longest_silence" || call.tool === "reply_times"
        const filters = periodOnly ? { from: input.from, to: input.to } : input
        const period = resolve(filters, author)
        const described = describe(filters, author, label)
        const result: ToolResult = yield* execute(chat, call, period, author)
        return { result, described }
      }).pipe(Effect.withSpan("ChatTools.run", { attributes: { tool: call.tool, chatId: chat.id } }))

    /** The question as a tool call when the router understands all of it, else null. */
    const route = (chat: ToolChat, question: string) =>
      Effect.gen(function*() {
        const today = todayOf(yield* Clock.currentTimeMillis)
        const nicknames = yield* nicknamesIn(chat, question)
        const latest = chat.last_message_at === null ? today : chat.last_message_at.slice(0, 10)
        return routeQuestion(question, { participants: chat.participants, nicknames, latest, today })
      }).pipe(Effect.withSpan("ChatTools.route", { attributes: { chatId: chat.id } }))

    /** A routed question answered in words, citing the messages the answer rests on. */
    const answer = (chat: ToolChat, routed: Routed) =>
      run(chat, routed.call, routed.period).pipe(
        Effect.map(({ described, result }) => ({ text: answerText(result, described), citations: evidenceOf(result) })),
        // The router only names participants of the chat.
        Effect.catchTag("UnknownParticipant", (error) => Effect.die(error))
      )

    /**
     * The tools as a model is offered them for one question. Each call's reply is JSON; `cited` collects
     * the messages the replies carried, which the model's answer may then cite.
     */
    const forModel = (chat: ToolChat) => {
      const cited = new Map<string, CitedMessage>()
      const tools: AnswerTools<ResultError> = {
        declarations: toolDeclarations,
        call: (name, args) =>
          Either.match(toolCallOf(name, args), {
            onLeft: (problem) => Effect.succeed({ response: { error: problem }, evidence: [] }),
            onRight: (call) =>
              run(chat, call, null).pipe(
                Effect.map(({ described, result }) => {
                  const evidence = evidenceOf(result)
                  for (const message of evidence) cited.set(message.message_id, message)
                  return { response: modelResponse(result, described), evidence: evidence.map(toContext) }
                }),
                Effect.catchTag("UnknownParticipant", (error) =>
                  Effect.succeed({
                    response: { error: `no participant is called "${error.written}"; the participants are ${chat.participants.join(", ")}` },
                    evidence: []
                  }))
              )
          })
      }
      return { tools, cited } as const
    }

    return { route, answer, forModel } as const
  }),
  dependencies: [ChatToolsRepo.Default]
}) {}

/** What running a tool may fail with besides a refusal: the database. */
type ResultError = Effect.Effect.Error<ReturnType<ChatToolsRepo["count"]>>
