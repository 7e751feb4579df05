/**
 * Brings a chat's chunks for one embedder in line with its messages. The first time that stores every
 * chunk; after a merge added messages, the chunks that come out the same (same first and last message,
 * same text) are kept with their vectors, the ones that changed are replaced by chunks without a
 * vector yet, and the rest are renumbered, so the embedding job embeds only what is new. Idempotent: a
 * chat whose chunks already match its messages is left as it is.
 */
import { Effect } from "effect"
import { Database } from "../Database.js"
import { Vector } from "../Vector.js"
import { chunkMessages } from "./Chunker.js"
import { ChunksRepo } from "./ChunksRepo.js"

export interface ChunkTarget {
  readonly chatId: string
  readonly userId: string
  readonly embedder: string
}

const keyOf = (first: string, last: string, text: string) => `${first}\u0000${last}\u0000${text}`

export const syncChunks = (target: ChunkTarget) =>
  Effect.gen(function*() {
    // READ COMMITTED, not the REPEATABLE READ of `Database.transaction`: each statement sees what was
    // committed before it, so the messages read after the lock is granted are the latest.
    const { sql } = yield* Database
    const repo = yield* ChunksRepo
    const vector = yield* Vector
    const { chatId, embedder } = target
    const replaced = yield* sql.withTransaction(Effect.gen(function*() {
      // One sync of a chat at a time: two jobs (an upload's and a merge's) may run together. The messages
      // are read once the lock is held, so the last sync to run sees the last merge.
      yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`chunks:${chatId}:${embedder}`}))`
      const chunks = chunkMessages(yield* repo.messagesOf(chatId))
      yield* Effect.annotateCurrentSpan("chunks", chunks.length)
      const stored = yield* sql<{ id: string; seq: number; first: string; last: string; text: string }>`
        SELECT id::text AS id, seq, first_message_id::text AS first, last_message_id::text AS last, text
        FROM chunks WHERE chat_id = ${chatId}::uuid AND embedder = ${embedder} ORDER BY seq`
      const byKey = new Map<string, Array<{ id: string; seq: number }>>()
      for (const row of stored) {
        const key = keyOf(row.first, row.last, row.text)
        const list = byKey.get(key)
        if (list === undefined) byKey.set(key, [{ id: row.id, seq: row.seq }])
        else list.push({ id: row.id, seq: row.seq })
      }
      const kept = new Set<string>()
      const moved: { ids: Array<string>; seqs: Array<number> } = { ids: [], seqs: [] }
      const fresh = chunks.filter((chunk) => {
        const same = byKey.get(keyOf(chunk.firstMessageId, chunk.lastMessageId, chunk.text))?.shift()
        if (same === undefined) return true
        kept.add(same.id)
        if (same.seq !== chunk.seq) {
          moved.ids.push(same.id)
          moved.seqs.push(chunk.seq)
        }
        return false
      })
      const stale = stored.filter((row) => !kept.has(row.id)).map((row) => row.id)
      if (stale.length === 0 && moved.ids.length === 0 && fresh.length === 0) return stale
      // With pgvector their vectors live in these rows and go with them.
      if (stale.length > 0) yield* sql`DELETE FROM chunks WHERE id = ANY(${stale}::bigint[])`
      // Through negative seqs, so UNIQUE (chat_id, embedder, seq) never sees two chunks on one seq.
      if (moved.ids.length > 0) {
        yield* sql`UPDATE chunks c SET seq = -1 - u.seq FROM unnest(${moved.ids}::bigint[], ${moved.seqs}::int[]) AS u(id, seq)
                   WHERE c.id = u.id`
      }
      yield* repo.insertChunks(target, fresh)
      yield* sql`UPDATE chunks SET seq = -1 - seq WHERE chat_id = ${chatId}::uuid AND embedder = ${embedder} AND seq < 0`
      yield* Effect.logInfo("Chunks brought up to date").pipe(
        Effect.annotateLogs({ chatId, kept: kept.size, replaced: stale.length, added: fresh.length })
      )
      return stale
    }))
    // Once the rows are gone for good: a store outside the database (Qdrant) drops their vectors too. A
    // crash in between leaves vectors no chunk names, never a chunk without its vector.
    if (replaced.length > 0) yield* vector.deleteChunks(chatId, replaced)
  }).pipe(Effect.withSpan("Rag.syncChunks", { attributes: { chatId: target.chatId } }))
