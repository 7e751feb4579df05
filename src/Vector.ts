/**
 * The vector store behind questions about a chat: one interface, two live layers chosen by config
 * (pgvector in our own PostgreSQL by default, Qdrant to scale out), and the same behaviour tests for
 * both. Vectors are looked up inside one chat of one user; their texts always come from `messages`.
 */
import { Context, Effect } from "effect"
import type { DatabaseError, UpstreamUnavailable } from "./Domain/Errors.js"

/**
 * An embedder's id names its model and the size of its vectors, `name@dimensions` (e.g.
 * `gemini-embedding-001@768`, `use-lite-v1@512`): the size is a property of the embedder, and every
 * store reads it from the id a vector is stored or searched under.
 */
export const embedderId = (name: string, dimensions: number): string => `${name}@${dimensions}`

/** The size of the vectors of `embedder`; an id without a size is a bug of the caller, so it dies. */
export const dimensionsOf = (embedder: string): Effect.Effect<number> => {
  const match = /@(\d{1,5})$/.exec(embedder)
  const size = match === null ? 0 : Number(match[1])
  return size > 0 ? Effect.succeed(size) : Effect.dieMessage(`embedder id ${embedder} does not end in @<dimensions>`)
}

/** One chunk's vector and what it points at. */
export interface ChunkVector {
  /** The `chunks` row id (a bigint, as text). */
  readonly chunkId: string
  readonly chatId: string
  readonly userId: string
  readonly firstMessageId: string
  readonly lastMessageId: string
  /** The embedder that made the vector, e.g. `use-lite-v1@512`; its size is the vector's. */
  readonly embedder: string
  readonly vector: ReadonlyArray<number>
}

export interface VectorHit {
  readonly chunkId: string
  readonly firstMessageId: string
  readonly lastMessageId: string
  /** Cosine similarity, higher is closer. */
  readonly score: number
}

export interface VectorQuery {
  readonly chatId: string
  readonly userId: string
  readonly embedder: string
  readonly vector: ReadonlyArray<number>
  readonly k: number
}

export type VectorError = DatabaseError | UpstreamUnavailable

/**
 * What every store demands of a vector it is given: as many finite numbers as its embedder's size.
 * Anything else is a bug of the caller, not a failure of the store, so it dies.
 */
export const checkVector = (vector: ReadonlyArray<number>, embedder: string, what: string): Effect.Effect<void> =>
  Effect.flatMap(dimensionsOf(embedder), (dimensions) =>
    vector.length === dimensions && vector.every(Number.isFinite)
      ? Effect.void
      : Effect.dieMessage(`${what} must have ${dimensions} finite numbers (${embedder}), got ${vector.length}`))

export interface VectorStore {
  readonly backend: "postgres" | "qdrant" | "memory"
  /** Stores (or replaces) vectors; idempotent by chunk id. */
  readonly upsert: (vectors: ReadonlyArray<ChunkVector>) => Effect.Effect<void, VectorError>
  /** The `k` closest chunks of one chat of one user, made by `embedder`, closest first. */
  readonly search: (query: VectorQuery) => Effect.Effect<ReadonlyArray<VectorHit>, VectorError>
  /** Removes every vector of a chat. */
  readonly deleteChat: (chatId: string) => Effect.Effect<void, VectorError>
  /**
   * Removes a chat's vectors made by any embedder but `embedder`: once a chat is fully embedded by the
   * configured embedder, those of the previous one are dead weight.
   */
  readonly retainEmbedder: (chatId: string, embedder: string) => Effect.Effect<void, VectorError>
  /** Removes the vectors of some chunks of a chat (chunks a merge replaced). */
  readonly deleteChunks: (chatId: string, chunkIds: ReadonlyArray<string>) => Effect.Effect<void, VectorError>
  /** Removes every vector of a user (account erasure). */
  readonly deleteUser: (userId: string) => Effect.Effect<void, VectorError>
  readonly health: Effect.Effect<{ readonly status: "up" | "down"; readonly backend: "postgres" | "qdrant" | "memory" }>
}

export class Vector extends Context.Tag("chatsight/Vector")<Vector, VectorStore>() {}
