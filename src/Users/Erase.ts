/**
 * The purge of an erased account, on the worker: durable, resumable, idempotent. It waits for the
 * user's cancelled jobs to stop, purges each chat through the one chat purge path (vectors, then the
 * chat and all it holds), sweeps the vector store and every other table for what is left, and keeps
 * what accounting needs under a pseudonym. Counts are recorded as it goes; a rerun after a crash goes on
 * from what is left.
 */
import { Duration, Effect, Schema } from "effect"
import { purgeChat } from "../Chats/Purge.js"
import { WorkerConfig } from "../Config.js"
import { Database } from "../Database.js"
import { Vector } from "../Vector.js"
import { jobHandler } from "../Worker/Handler.js"
import { ErasureRepo } from "./ErasureRepo.js"

export type Counts = Record<string, number>

const added = (counts: Counts, more: Readonly<Record<string, number>>): Counts => {
  const sum = { ...counts }
  for (const [key, value] of Object.entries(more)) sum[key] = (sum[key] ?? 0) + value
  return sum
}

/** The user's cancelled jobs stop at their next step; a dead instance's lease lapses. Waits for both. */
const untilJobsStopped = (userId: string) =>
  Effect.gen(function*() {
    const repo = yield* ErasureRepo
    const { lease } = yield* WorkerConfig
    const deadline = Date.now() + Duration.toMillis(lease) + 5_000
    while ((yield* repo.stillRunning(userId)) > 0 && Date.now() < deadline) yield* Effect.sleep("250 millis")
  })

export const EraseAccount = jobHandler({
  kind: "user.erase",
  payload: Schema.Struct({ erasure_id: Schema.UUID }),
  run: ({ erasure_id }, job) =>
    Effect.gen(function*() {
      const repo = yield* ErasureRepo
      const db = yield* Database
      const found = yield* repo.find(erasure_id)
      if (found._tag === "None" || found.value.status === "done") return
      const userId = found.value.user_id
      let counts: Counts = { ...found.value.counts }
      const step = (more: Readonly<Record<string, number>>) => {
        counts = added(counts, more)
        return repo.setProgress(erasure_id, "purging", counts)
      }
      yield* step({})
      yield* untilJobsStopped(userId)
      for (const chatId of yield* repo.chatsOf(userId)) yield* step(yield* purgeChat(chatId))
      // Points no chat accounted for (a chat purged by hand, a late write), by the user's own filter.
      yield* Effect.flatMap(Vector, (vector) => vector.deleteUser(userId))
      yield* step(yield* repo.deleteRest(userId, job.id))
      const pseudonym = `erased:${erasure_id}`
      yield* db.transaction(Effect.gen(function*() {
        counts = added(counts, yield* repo.pseudonymise(userId, pseudonym))
        yield* repo.renameErasure(erasure_id, pseudonym)
        yield* repo.setProgress(erasure_id, "done", counts)
      }))
      yield* Effect.logInfo("Account purged").pipe(Effect.annotateLogs({ erasureId: erasure_id, ...counts }))
    }).pipe(Effect.withSpan("Users.purgeAccount", { attributes: { "erasure.id": erasure_id } }))
})
