/**
 * Statistics stored before the chart fields existed (the weekday-by-hour grid, the answer-time buckets)
 * are recomputed once from the chat's stored messages, in the background at start, so the shared page
 * and the charts of older chats draw every chart without anyone uploading again (and nothing is
 * recomputed per view). Each chat is recomputed under its row lock, as a merge would, and only if its
 * statistics still lack the grid, so instances starting together do the work once.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import { IngestConfig } from "../Config.js"
import { Database } from "../Database.js"
import { ParserThreads } from "../Ingest/ParserThreads.js"
import { storedColumns } from "./Merge.js"
import { MergeRepo } from "./MergeRepo.js"

/** Chats recomputed per batch: each holds its lock only for its own recomputation. */
const BATCH = 20

export const backfillChartStatistics = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const db = yield* Database
  const repo = yield* MergeRepo
  const threads = yield* ParserThreads
  const { silenceThresholdMinutes } = yield* IngestConfig
  const lacking = sql`s.stats #> '{totals,activity,by_weekday_hour}' IS NULL`

  const recompute = (chat: { readonly chat_id: string; readonly user_id: string }) =>
    db.withLockRetry(Effect.gen(function*() {
      const locked = yield* repo.lockChat(chat.user_id, chat.chat_id)
      if (Option.isNone(locked)) return false
      const [still] = yield* sql`SELECT 1 AS one FROM chat_stats s WHERE s.chat_id = ${chat.chat_id}::uuid AND ${lacking}`
      if (still === undefined) return false
      const stored = yield* repo.messagesOf(chat.chat_id)
      yield* repo.replaceStats(chat.chat_id, yield* threads.statistics(storedColumns(stored), { silenceThresholdMinutes }))
      return true
    }))

  let recomputed = 0
  let after = ""
  while (true) {
    const batch = yield* sql<{ chat_id: string; user_id: string }>`
      SELECT c.id::text AS chat_id, c.user_id FROM chat_stats s JOIN active_chats c ON c.id = s.chat_id
      WHERE ${lacking} AND c.id::text > ${after} ORDER BY c.id::text LIMIT ${BATCH}`
    for (const chat of batch) if (yield* recompute(chat)) recomputed++
    const last = batch.at(-1)
    if (last === undefined || batch.length < BATCH) break
    after = last.chat_id
  }
  if (recomputed > 0) yield* Effect.logInfo("Chart statistics recomputed for older chats").pipe(Effect.annotateLogs({ chats: recomputed }))
  return recomputed
}).pipe(Effect.withSpan("Chats.backfillChartStatistics"))
