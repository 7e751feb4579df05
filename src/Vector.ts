/**
 * The vector store behind questions about a chat: one interface, two live layers chosen by config
 * (pgvector in our own PostgreSQL by default, Qdrant to scale out), and the same behaviour tests for
 * both. Vectors are looked up inside one chat of one user; their texts always come from `messages`.
 */
import { Context, Effect } from "effect"
import type { DatabaseError, UpstreamUnavailable } from "./Domain/Errors.js"

/** Dimensions of every stored vector (gemini-embedding-001 at 768, and the offline embedder). */
export const dimensions = 768

/** One chunk's vector and what it points at. */
export interface ChunkVector {
  /** The `chunks` row id (a bigint, as text). */
  readonly chunkId: string
  readonly chatId: string
  readonly userId: string
  readonly firstMessageId: string
  readonly lastMessageId: string
  /** The embedder that made the vector, e.g. `offline-hash-v1@768`. */
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
 * What every store demands of a vector it is given: `dimensions` finite numbers. Anything else is a
 * bug of the caller, not a failure of the store, so it dies.
 */
export const checkVector = (vector: ReadonlyArray<number>, what: string): Effect.Effect<void> =>
  vector.length === dimensions && vector.every(Number.isFinite)
    ? Effect.void
    : Effect.dieMessage(`${what} must have ${dimensions} finite numbers, got ${vector.length}`)

export interface VectorStore {
  readonly backend: "postgres" | "qdrant" | "memory"
  /** Stores (or replaces) vectors; idempotent by chunk id. */
  readonly upsert: (vectors: ReadonlyArray<ChunkVector>) => Effect.Effect<void, VectorError>
  /** The `k` closest chunks of one chat of one user, made by `embedder`, closest first. */
  readonly search: (query: VectorQuery) => Effect.Effect<ReadonlyArray<VectorHit>, VectorError>
  /** Removes every vector of a chat. */
  readonly deleteChat: (chatId: string) => Effect.Effect<void, VectorError>
  /** Removes every vector of a user (account erasure). */
  readonly deleteUser: (userId: string) => Effect.Effect<void, VectorError>
  readonly health: Effect.Effect<{ readonly status: "up" | "down"; readonly backend: "postgres" | "qdrant" | "memory" }>
}

export class Vector extends Context.Tag("chatsight/Vector")<Vector, VectorStore>() {}
