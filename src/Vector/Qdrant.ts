/**
 * The `Vector` store on Qdrant: one collection of cosine points per vector size (QDRANT_COLLECTION for
 * 768, where Chatsight has always kept them, `<QDRANT_COLLECTION>_<size>` for any other, made on first
 * use), whose point ids are the `chunks` row ids, filtered by chat, user and embedder through keyword
 * payload indexes.
 */
import { QdrantClient, type Schemas } from "@qdrant/js-client-rest"
import { Config, Data, Duration, Effect, HashSet, Layer, Option, Redacted, Ref, Schema } from "effect"
import { backoff } from "../Backoff.js"
import { duration } from "../Config.js"
import { UpstreamUnavailable } from "../Domain/Errors.js"
import {
  checkVector,
  type ChunkVector,
  dimensionsOf,
  Vector,
  type VectorHit,
  type VectorQuery,
  type VectorStore
} from "../Vector.js"

export const QdrantConfig = Config.all({
  url: Config.string("QDRANT_URL").pipe(Config.withDefault("http://127.0.0.1:6333")),
  apiKey: Config.option(Config.redacted("QDRANT_API_KEY")),
  collection: Config.string("QDRANT_COLLECTION").pipe(Config.withDefault("chatsight_chunks")),
  timeout: duration("QDRANT_TIMEOUT", "10 seconds")
})

/** The size kept in the configured collection itself (gemini-embedding-001's): older deployments keep their points. */
export const namedCollectionSize = 768

/** The collection that holds vectors of `size`. */
export const collectionFor = (name: string, size: number): string =>
  size === namedCollectionSize ? name : `${name}_${size}`

/** The vector size of one of our collections, from its name; none for any other collection. */
const sizeOfCollection = (name: string, collection: string): number | undefined => {
  if (collection === name) return namedCollectionSize
  const rest = collection.startsWith(`${name}_`) ? collection.slice(name.length + 1) : ""
  return /^[1-9]\d{0,4}$/.test(rest) ? Number(rest) : undefined
}

/** Payload fields every search and delete filters on; each gets a keyword index. */
export const indexedFields = ["chatId", "userId", "embedder"] as const

/** Points per upsert request: large enough to amortise the round trip, small enough for Qdrant's body limit. */
const upsertBatch = 256

/** A failed client call, kept with its HTTP status (when Qdrant answered) to decide on retries. */
class QdrantFailure extends Data.TaggedError("QdrantFailure")<{
  readonly operation: string
  readonly status: number | undefined
  readonly cause: unknown
}> {}

const statusOf = (cause: unknown): number | undefined =>
  typeof cause === "object" && cause !== null && "status" in cause && typeof cause.status === "number"
    ? cause.status
    : undefined

const explain = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  const inner: unknown = cause.cause
  const data: unknown = typeof cause === "object" && "data" in cause ? cause.data : undefined
  return [
    `${cause.name}: ${cause.message}`,
    inner instanceof Error ? `caused by ${inner.name}: ${inner.message}` : undefined,
    data === undefined ? undefined : `answer: ${JSON.stringify(data).slice(0, 500)}`
  ].filter((part) => part !== undefined).join("; ")
}

/** Network errors, timeouts, 408, 429 and 5xx may pass; any other answer would only repeat itself. */
const isTransient = (failure: QdrantFailure) =>
  failure.status === undefined || failure.status === 408 || failure.status === 429 || failure.status >= 500

/** Two quick retries: a store call sits inside a user's request. */
const retrySchedule = backoff({ base: "100 millis", retries: 2 })

const upstreamMessage = "The vector store (Qdrant) is unavailable; please retry shortly"

/**
 * Point ids are the `chunks` ids: unsigned integers, exact in a double up to 2^53. Any other id is a
 * bug of the caller, so it dies.
 */
const pointId = (chunkId: string): Effect.Effect<number> => {
  const id = Number(chunkId)
  return /^\d+$/.test(chunkId) && Number.isSafeInteger(id)
    ? Effect.succeed(id)
    : Effect.dieMessage(`chunk id ${chunkId} is not an unsigned integer`)
}

/**
 * The configured collection holds vectors of another shape: every write would fail, or worse, rank
 * with another metric. Raised as a defect at start, since only the operator can fix it.
 */
class CollectionMismatch extends Data.TaggedError("CollectionMismatch")<{ readonly message: string }> {}

const HitPayload = Schema.Struct({
  chatId: Schema.String,
  userId: Schema.String,
  embedder: Schema.String,
  firstMessageId: Schema.String,
  lastMessageId: Schema.String
})
const decodePayload = Schema.decodeUnknownOption(HitPayload)

const sameChat = (query: VectorQuery): Schemas["Filter"] => ({
  must: [
    { key: "chatId", match: { value: query.chatId } },
    { key: "userId", match: { value: query.userId } },
    { key: "embedder", match: { value: query.embedder } }
  ]
})

/** Builds the store on a client; each collection is checked (and made) before its first operation. */
export const makeQdrantStore = Effect.gen(function*() {
  const settings = yield* QdrantConfig
  const client = new QdrantClient({
    url: settings.url,
    apiKey: Option.getOrUndefined(Option.map(settings.apiKey, Redacted.value)),
    timeout: Duration.toMillis(settings.timeout),
    // The version check is a fire-and-forget request that writes to the console; we check what we use.
    checkCompatibility: false
  })

  // Each collection is checked once per process; a failed check (Qdrant down) is tried again by the
  // next operation, and so is every collection after one disappeared (404) after it was checked.
  const ready = yield* Ref.make(HashSet.empty<number>())
  const lock = yield* Effect.makeSemaphore(1)

  const attempt = <A>(operation: string, run: () => Promise<A>) =>
    Effect.tryPromise({
      try: run,
      catch: (cause) => new QdrantFailure({ operation, status: statusOf(cause), cause })
    })

  /** Logs why a call failed (the detail stays in the logs) and reports the store unavailable. */
  const unavailable = (failure: QdrantFailure) =>
    Effect.logError(
      failure.status === 401 || failure.status === 403 ? "Qdrant refused our credentials; check QDRANT_API_KEY" : "Qdrant call failed",
      explain(failure.cause)
    ).pipe(
      Effect.annotateLogs({ operation: failure.operation, status: failure.status ?? "none", url: settings.url }),
      Effect.zipRight(Effect.fail(new UpstreamUnavailable({ message: upstreamMessage })))
    )

  /** One client call with transient failures retried briefly, still failing with `QdrantFailure`. */
  const retried = <A>(operation: string, run: () => Promise<A>) =>
    attempt(operation, run).pipe(
      Effect.retry({ schedule: retrySchedule, while: isTransient }),
      Effect.tapError((failure) => failure.status === 404 ? Ref.set(ready, HashSet.empty()) : Effect.void)
    )

  /** One client call: transient failures retried briefly, then logged and reported as `UpstreamUnavailable`. */
  const call = <A>(operation: string, run: () => Promise<A>): Effect.Effect<A, UpstreamUnavailable> =>
    Effect.catchAll(retried(operation, run), unavailable)

  /** Makes the collection of `size` when missing, refuses one of another shape, and adds the missing payload indexes. */
  const ensureCollection = (size: number) => Effect.gen(function*() {
    const name = collectionFor(settings.collection, size)
    const { exists } = yield* call("collectionExists", () => client.collectionExists(name))
    if (!exists) {
      yield* retried("createCollection", () => client.createCollection(name, { vectors: { size, distance: "Cosine" } })).pipe(
        Effect.zipRight(Effect.logInfo("Created the Qdrant collection").pipe(Effect.annotateLogs({ collection: name, dimensions: size }))),
        // Another instance (or our own timed-out first attempt) made it in between, and Qdrant refuses a
        // second create with a 4xx ("already exists"): what was made is checked below like any other.
        Effect.catchIf((failure) => failure.status === 409 || failure.status === 400, () => Effect.void),
        Effect.catchAll(unavailable)
      )
    }
    const info = yield* call("getCollection", () => client.getCollection(name))
    const vectors = info.config.params.vectors
    const held = vectors !== undefined && "size" in vectors && typeof vectors.size === "number" ? vectors.size : undefined
    const distance = vectors !== undefined && "distance" in vectors ? vectors.distance : undefined
    if (held !== size || distance !== "Cosine") {
      // A collection of another shape would fail every write, or worse, rank with another metric.
      const message = `Qdrant collection "${name}" holds ${
        held === undefined ? "named or unknown" : `${held}-dimension ${String(distance)}`
      } vectors, but Chatsight stores one unnamed ${size}-dimension Cosine vector per point there; ` +
        "set QDRANT_COLLECTION to another name or recreate the collection"
      yield* Effect.logError(message)
      return yield* Effect.die(new CollectionMismatch({ message }))
    }
    const present = info.payload_schema
    for (const field of indexedFields) {
      if (present[field] === undefined) {
        yield* call("createPayloadIndex", () =>
          client.createPayloadIndex(name, { field_name: field, field_schema: "keyword", wait: true }))
      }
    }
    return name
  }).pipe(Effect.withSpan("Vector.ensureCollection", { attributes: { dimensions: size } }))

  /** The name of the collection of `size`, checked (and made) once. */
  const ensure = (size: number): Effect.Effect<string, UpstreamUnavailable> => {
    const name = collectionFor(settings.collection, size)
    const done = (checked: HashSet.HashSet<number>) => HashSet.has(checked, size)
    return Effect.flatMap(Ref.get(ready), (checked) =>
      done(checked) ? Effect.succeed(name) : lock.withPermits(1)(
        Effect.flatMap(Ref.get(ready), (again) =>
          done(again) ? Effect.succeed(name) : Effect.tap(ensureCollection(size), () => Ref.update(ready, HashSet.add(size))))
      ))
  }

  /** Our collections that exist now, each with its vector size. */
  const existing = call("getCollections", () => client.getCollections()).pipe(
    Effect.map(({ collections }) =>
      collections.flatMap(({ name }) => {
        const size = sizeOfCollection(settings.collection, name)
        return size === undefined ? [] : [{ name, size }]
      })
    )
  )

  const toPoint = (v: ChunkVector): Effect.Effect<Schemas["PointStruct"]> =>
    Effect.map(pointId(v.chunkId), (id) => ({
      id,
      vector: [...v.vector],
      payload: {
        chatId: v.chatId,
        userId: v.userId,
        firstMessageId: v.firstMessageId,
        lastMessageId: v.lastMessageId,
        embedder: v.embedder
      }
    }))

  const upsert = (vectors: ReadonlyArray<ChunkVector>) =>
    Effect.gen(function*() {
      if (vectors.length === 0) return
      yield* Effect.forEach(vectors, (v) => checkVector(v.vector, v.embedder, `the vector of chunk ${v.chunkId}`), { discard: true })
      // One job's batch has one embedder; grouping by size keeps any mix correct all the same.
      const bySize = new Map<number, Array<Schemas["PointStruct"]>>()
      for (const v of vectors) {
        const size = yield* dimensionsOf(v.embedder)
        const group = bySize.get(size) ?? []
        group.push(yield* toPoint(v))
        bySize.set(size, group)
      }
      for (const [size, points] of bySize) {
        const name = yield* ensure(size)
        for (let start = 0; start < points.length; start += upsertBatch) {
          const batch = points.slice(start, start + upsertBatch)
          yield* call("upsert", () => client.upsert(name, { wait: true, points: batch }))
        }
      }
    }).pipe(Effect.withSpan("Vector.upsert", { attributes: { count: vectors.length, backend: "qdrant" } }))

  const search = (query: VectorQuery) =>
    Effect.gen(function*() {
      const k = Math.floor(query.k)
      if (!(k > 0)) return []
      yield* checkVector(query.vector, query.embedder, "the query vector")
      const name = yield* ensure(yield* dimensionsOf(query.embedder))
      const { points } = yield* call("query", () =>
        client.query(name, { query: [...query.vector], filter: sameChat(query), limit: k, with_payload: true }))
      const hits: Array<VectorHit> = []
      for (const point of points) {
        const payload = decodePayload(point.payload)
        // The filter already did this; checking again keeps a misconfigured index from leaking another chat.
        if (
          Option.isNone(payload) || payload.value.chatId !== query.chatId || payload.value.userId !== query.userId ||
          payload.value.embedder !== query.embedder
        ) {
          yield* Effect.logWarning("Qdrant returned a point outside the query's chat; skipped").pipe(
            Effect.annotateLogs({ pointId: String(point.id) })
          )
          continue
        }
        hits.push({
          chunkId: String(point.id),
          firstMessageId: payload.value.firstMessageId,
          lastMessageId: payload.value.lastMessageId,
          // float32 rounding can put an exact match a hair above 1.
          score: Math.max(-1, Math.min(1, point.score))
        })
      }
      yield* Effect.annotateCurrentSpan("hits", hits.length)
      return hits
    }).pipe(Effect.withSpan("Vector.search", { attributes: { store: "qdrant", k: query.k } }))

  /** Deletes the points matching `filter` from every collection of ours (vectors of every size). */
  const deleteWhere = (operation: string, filter: Schemas["Filter"]) =>
    Effect.flatMap(existing, (collections) =>
      Effect.forEach(collections, ({ name }) => call(operation, () => client.delete(name, { wait: true, filter })), { discard: true }))

  const store: VectorStore = {
    backend: "qdrant",
    upsert,
    search,
    deleteChat: (chatId) =>
      deleteWhere("delete by chatId", { must: [{ key: "chatId", match: { value: chatId } }] }).pipe(
        Effect.withSpan("Vector.deleteChat", { attributes: { backend: "qdrant" } })
      ),
    retainEmbedder: (chatId, embedder) =>
      deleteWhere("delete other embedders", {
        must: [{ key: "chatId", match: { value: chatId } }],
        must_not: [{ key: "embedder", match: { value: embedder } }]
      }).pipe(Effect.withSpan("Vector.retainEmbedder", { attributes: { backend: "qdrant", embedder } })),
    // Chunk ids are unique across chats: the points are named outright.
    deleteChunks: (_chatId, chunkIds) =>
      (chunkIds.length === 0
        ? Effect.void
        : Effect.flatMap(Effect.all([Effect.forEach(chunkIds, pointId), existing]), ([ids, collections]) =>
          Effect.forEach(collections, ({ name }) => call("delete chunks", () => client.delete(name, { wait: true, points: ids })), {
            discard: true
          }))).pipe(
          Effect.withSpan("Vector.deleteChunks", { attributes: { backend: "qdrant", count: chunkIds.length } })
        ),
    deleteUser: (userId) =>
      deleteWhere("delete by userId", { must: [{ key: "userId", match: { value: userId } }] }).pipe(
        Effect.withSpan("Vector.deleteUser", { attributes: { backend: "qdrant" } })
      ),
    health: attempt("collectionExists", () => client.collectionExists(settings.collection)).pipe(
      Effect.timeout(settings.timeout),
      Effect.as({ status: "up" as const, backend: "qdrant" as const }),
      Effect.catchAll(() => Effect.succeed({ status: "down" as const, backend: "qdrant" as const })),
      Effect.withSpan("Vector.health", { attributes: { backend: "qdrant" } })
    )
  }

  // Our existing collections are checked at start so that one of the wrong shape stops the service at
  // once; the others are made on first use. Qdrant being down does not stop it: the service starts,
  // reports the store down, and checks again on first use.
  yield* Effect.flatMap(existing, (collections) => Effect.forEach(collections, ({ size }) => ensure(size), { discard: true })).pipe(
    Effect.catchTag("UpstreamUnavailable", () =>
      Effect.logWarning("Qdrant is unreachable at start; the collections will be checked on first use").pipe(
        Effect.annotateLogs({ url: settings.url, collection: settings.collection })
      ))
  )
  return store
})

/** `Vector` on Qdrant, configured by QDRANT_URL, QDRANT_API_KEY, QDRANT_COLLECTION and QDRANT_TIMEOUT. */
export const VectorQdrant = Layer.effect(Vector, makeQdrantStore)
