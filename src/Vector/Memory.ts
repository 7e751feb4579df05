/**
 * The `Vector` test layer: an in-memory store with exact cosine search, for tests of code that uses
 * vectors without a database or a Qdrant. It passes the same behaviour tests as the live layers.
 */
import { Effect, Layer } from "effect"
import { type ChunkVector, Vector, type VectorHit } from "../Vector.js"

const cosine = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i] ?? 0
    dot += x * y
    na += x * x
    nb += y * y
  }
  // A zero vector is like nothing: similarity 0, as the live stores treat it.
  return na === 0 || nb === 0 ? 0 : Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)))
}

export const VectorMemory = Layer.sync(Vector, () => {
  const points = new Map<string, ChunkVector>()
  const removeWhere = (predicate: (point: ChunkVector) => boolean) =>
    Effect.sync(() => {
      for (const [id, point] of points) if (predicate(point)) points.delete(id)
    })
  return Vector.of({
    backend: "memory",
    upsert: (vectors) =>
      Effect.sync(() => {
        for (const vector of vectors) points.set(vector.chunkId, vector)
      }),
    search: (query) =>
      Effect.sync(() =>
        [...points.values()]
          .filter((p) => p.chatId === query.chatId && p.userId === query.userId && p.embedder === query.embedder)
          .map((p): VectorHit => ({
            chunkId: p.chunkId,
            firstMessageId: p.firstMessageId,
            lastMessageId: p.lastMessageId,
            score: cosine(query.vector, p.vector)
          }))
          .sort((a, b) => b.score - a.score || Number(a.chunkId) - Number(b.chunkId))
          .slice(0, query.k)
      ),
    deleteChat: (chatId) => removeWhere((point) => point.chatId === chatId),
    retainEmbedder: (chatId, embedder) => removeWhere((point) => point.chatId === chatId && point.embedder !== embedder),
    deleteChunks: (chatId, chunkIds) => removeWhere((point) => point.chatId === chatId && chunkIds.includes(point.chunkId)),
    deleteUser: (userId) => removeWhere((point) => point.userId === userId),
    health: Effect.succeed({ status: "up" as const, backend: "memory" as const })
  })
})
