/**
 * Merging a newer (or older) export into a stored chat: WhatsApp caps an export at its latest messages,
 * so people export the same chat again every few months. The messages already stored are recognised
 * (Merge.ts), only new ones are stored, in file order, and the chat's counts and statistics are
 * recomputed from every stored message; the embedding is brought up to date by its job. One merge at
 * a time per chat: the chat's row is locked for the whole of it.
 */
import { randomUUID } from "node:crypto"
import { Effect, Option } from "effect"
import { Chats } from "../Chats.js"
import { IngestConfig } from "../Config.js"
import { Database } from "../Database.js"
import { Conflict } from "../Domain/Errors.js"
import type { MessageColumns } from "../Ingest/Columns.js"
import { ParserThreads } from "../Ingest/ParserThreads.js"
import { storedWallClock } from "../Ingest/WallClock.js"
import { Users } from "../Users.js"
import { ChatAccess, chatNotFound } from "./Access.js"
import { ChatHooks } from "./Hooks.js"
import { mergedColumns, planMerge, tally } from "./Merge.js"
import { MergeRepo } from "./MergeRepo.js"
import { MessageStore } from "./MessageCopy.js"

export interface ImportRequest {
  readonly userId: string
  readonly chatId: string
  readonly filename: string
  readonly bytes: Uint8Array
  /** Overrides the day/month order; by default the stored chat's. */
  readonly dayFirst?: boolean | undefined
  /** Merge even when the export shares no message with the chat. */
  readonly force: boolean
}

export interface MergeCounts {
  readonly added: number
  readonly overlapping: number
  readonly conflicting: number
}

const noOverlap = (chatId: string) =>
  new Conflict({
    message: `The export shares no message with chat ${chatId}: it looks like another chat. ` +
      "Send force=true to merge it all the same."
  })

export class ChatImports extends Effect.Service<ChatImports>()("chatsight/ChatImports", {
  effect: Effect.gen(function*() {
    const db = yield* Database
    const repo = yield* MergeRepo
    const chats = yield* Chats
    const users = yield* Users
    const access = yield* ChatAccess
    const hooks = yield* ChatHooks
    const threads = yield* ParserThreads
    const messageStore = yield* MessageStore
    const config = yield* IngestConfig

    /** Runs under the chat's row lock: reads what is stored, plans, stores the difference. */
    const mergeLocked = (request: ImportRequest, columns: MessageColumns) =>
      Effect.gen(function*() {
        const locked = yield* repo.lockChat(request.userId, request.chatId)
        if (Option.isNone(locked)) return yield* chatNotFound(request.chatId)
        const timeZone = locked.value.time_zone ?? config.defaultTimeZone
        const stored = yield* repo.messagesOf(request.chatId)
        const plan = planMerge(stored, columns)
        const counts: MergeCounts = {
          added: plan.added.index.length,
          overlapping: plan.overlapping,
          conflicting: plan.conflicting
        }
        if (stored.length > 0 && plan.overlapping + plan.conflicting === 0 && !request.force) {
          return yield* noOverlap(request.chatId)
        }
        if (counts.added === 0) return counts

        yield* repo.park(request.chatId, plan.moved.ids, plan.moved.seq)
        yield* messageStore.store(request.chatId, timeZone, columns, {
          count: counts.added,
          index: (k) => plan.added.index[k]!,
          seq: (k) => plan.added.seq[k]!
        })
        yield* repo.unpark(request.chatId)

        // The chat as a single export holding every message would have given it.
        const merged = mergedColumns(stored, columns, plan.order)
        const statistics = yield* threads.statistics(merged, { silenceThresholdMinutes: config.silenceThresholdMinutes })
        const chat = tally(merged)
        yield* repo.updateChat(request.chatId, {
          participants: chat.participants,
          messageCount: chat.messages,
          firstMessageAt: chat.firstMessageAt === null ? null : storedWallClock(chat.firstMessageAt),
          lastMessageAt: chat.lastMessageAt === null ? null : storedWallClock(chat.lastMessageAt)
        })
        yield* repo.replaceStats(request.chatId, statistics)
        return counts
      })

    /**
     * Merges an export into the user's chat and answers what it found with the updated chat. 404 for a
     * chat that is not theirs; 409 when the export shares nothing with it, unless forced.
     */
    const merge = (request: ImportRequest) =>
      Effect.gen(function*() {
        yield* users.requireActive(request.userId)
        const chat = yield* access.owned(request.userId, request.chatId)
        const dayFirst = request.dayFirst ?? chat.parse_report?.day_first
        const parsed = yield* threads.read({
          bytes: request.bytes,
          filename: request.filename,
          export: { maxBytes: config.maxUploadBytes, ...(dayFirst === undefined ? {} : { dayFirst }) },
          statistics: { silenceThresholdMinutes: config.silenceThresholdMinutes }
        })
        const counts = yield* db.withLockRetry(mergeLocked(request, parsed.columns))
        if (counts.added > 0) {
          const mergeId = randomUUID()
          yield* Effect.forEach(hooks.stored, (hook) => hook({ chatId: request.chatId, userId: request.userId, mergeId }), {
            discard: true
          })
        }
        yield* Effect.logInfo("Export merged").pipe(Effect.annotateLogs({ chatId: request.chatId, ...counts }))
        return { ...counts, chat: yield* chats.get(request.userId, request.chatId) }
      }).pipe(
        Effect.withSpan("ChatImports.merge", { attributes: { chatId: request.chatId, bytes: request.bytes.length } })
      )

    return { merge } as const
  }),
  dependencies: [MergeRepo.Default, Chats.Default, ChatAccess.Default, Users.Default, ParserThreads.Default, MessageStore.Default]
}) {}
