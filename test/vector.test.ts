// Over 400 lines on purpose: one contract suite run on three layers, and the Qdrant layer's own setup and outage cases, sharing its fixtures.
/**
 * The `Vector` contract, one set of behaviour tests run against both live layers and the in-memory test layer: pgvector on a fresh
 * database and Qdrant on a test double that holds every request to Qdrant's OpenAPI contract.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, layer, type Vitest } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Layer } from "effect"
import { randomUUID } from "node:crypto"
import * as Net from "node:net"
import { UpstreamUnavailable } from "../src/Domain/Errors.js"
import { type ChunkVector, Vector } from "../src/Vector.js"
import { VectorMemory } from "../src/Vector/Memory.js"
import { VectorLive } from "../src/Vector/Live.js"
import { VectorPostgres } from "../src/Vector/Postgres.js"
import { indexedFields, VectorQdrant } from "../src/Vector/Qdrant.js"
import { SpecRouter } from "./support/qdrantContract.js"
import { makeQdrantDouble, QdrantDouble, qdrantDouble, QdrantDoubleLive } from "./support/qdrantDouble.js"
import { TestConfig, TestDatabase } from "./support/TestApp.js"

/** The contract runs at 768, the size the configured Qdrant collection keeps (other sizes: vector-sizes.test.ts). */
const dimensions = 768
const embedder = "test-embedder@768"
const otherEmbedder = "other-embedder@768"

/** Where chunks come from: rows in `chunks` for PostgreSQL, fresh ids for Qdrant (which keeps no rows). */
class Fixtures extends Context.Tag("test/VectorFixtures")<Fixtures, {
  /** A new chat of `userId` (made along with the user when needed). */
  readonly chat: (userId: string) => Effect.Effect<string>
  /** `count` chunk ids of a chat, made by `embedder`. */
  readonly chunks: (chat: { readonly chatId: string; readonly userId: string }, count: number, embedder: string) => Effect.Effect<ReadonlyArray<string>>
}>() {}

const PostgresFixtures = Layer.effect(
  Fixtures,
  Effect.map(SqlClient.SqlClient, (sql) => ({
    chat: (userId: string) =>
      Effect.gen(function*() {
        yield* sql`INSERT INTO users (id) VALUES (${userId}) ON CONFLICT (id) DO NOTHING`
        const rows = yield* sql<{ readonly id: string }>`
          INSERT INTO chats (user_id, display_name, content_hash) VALUES (${userId}, 'test chat', ${randomUUID()})
          RETURNING id::text AS id`
        return rows[0]?.id ?? ""
      }).pipe(Effect.orDie),
    chunks: ({ chatId, userId }: { readonly chatId: string; readonly userId: string }, count: number, made: string) =>
      Effect.gen(function*() {
        const rows = yield* sql<{ readonly id: string; readonly seq: number }>`
          INSERT INTO chunks (chat_id, user_id, seq, first_message_id, last_message_id, text, token_count, embedder)
          SELECT ${chatId}::uuid, ${userId}, s, 0, 0, 'text', 3, ${made} FROM generate_series(0, ${count - 1}) AS s
          RETURNING id::text AS id, seq`
        // Message ids the tests can predict from the chunk id: "<id>1" and "<id>9", as vectorOf claims.
        yield* sql`UPDATE chunks SET first_message_id = id * 10 + 1, last_message_id = id * 10 + 9
                   WHERE chat_id = ${chatId}::uuid AND embedder = ${made}`
        return [...rows].sort((a, b) => a.seq - b.seq).map((row) => row.id)
      }).pipe(Effect.orDie)
  }))
)

let nextPointId = 1
const QdrantFixtures = Layer.succeed(Fixtures, {
  chat: () => Effect.sync(() => randomUUID()),
  chunks: (_chat, count) => Effect.sync(() => Array.from({ length: count }, () => String(nextPointId++)))
})

/** The unit vector along axis `i`. */
const axis = (i: number, sign = 1): Array<number> => Array.from({ length: dimensions }, (_, j) => (j === i ? sign : 0))
/** A normalised mix of axes: `weights[i]` along axis i. */
const mix = (weights: Record<number, number>): Array<number> => {
  const v = Array.from({ length: dimensions }, (_, j) => weights[j] ?? 0)
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0))
  return v.map((x) => x / norm)
}

const vectorOf = (
  chat: { readonly chatId: string; readonly userId: string },
  chunkId: string,
  vector: ReadonlyArray<number>,
  made = embedder
): ChunkVector => ({
  chunkId,
  chatId: chat.chatId,
  userId: chat.userId,
  firstMessageId: `${chunkId}1`,
  lastMessageId: `${chunkId}9`,
  embedder: made,
  vector
})

/** A chat of a new user with `count` chunks by the default embedder. */
const newChat = (count: number, userId = `user-${randomUUID()}`) =>
  Effect.gen(function*() {
    const fixtures = yield* Fixtures
    const chat = { chatId: yield* fixtures.chat(userId), userId }
    const ids = yield* fixtures.chunks(chat, count, embedder)
    return { ...chat, ids }
  })

const near = (query: ReadonlyArray<number>, chat: { readonly chatId: string; readonly userId: string }, k = 10, made = embedder) =>
  Effect.flatMap(Vector, (store) => store.search({ chatId: chat.chatId, userId: chat.userId, embedder: made, vector: query, k }))

/** The behaviour every `Vector` layer must have. `more` adds tests that share the same layer. */
const behaves = <Extra = never>(
  name: string,
  live: Layer.Layer<Vector | Fixtures | Extra, unknown>,
  more: (it: Vitest.MethodsNonLive<Vector | Fixtures | Extra, true>) => void = () => {}
) =>
  // Live clock: Qdrant retries sleep for real, and under the TestClock they would wait forever.
  layer(live, { excludeTestServices: true, timeout: "60 seconds" })(`Vector on ${name}`, (it) => {
    it.effect("search returns the chat's nearest chunks, closest first, with cosine scores in [-1, 1]", () =>
      Effect.gen(function*() {
        const store = yield* Vector
        const chat = yield* newChat(4)
        const [a = "", b = "", c = "", d = ""] = chat.ids
        yield* store.upsert([
          vectorOf(chat, c, axis(1)),
          vectorOf(chat, a, axis(0)),
          vectorOf(chat, d, axis(0, -1)),
          vectorOf(chat, b, mix({ 0: 2, 1: 1 }))
        ])
        const hits = yield* near(axis(0), chat)
        expect(hits.map((h) => h.chunkId)).toEqual([a, b, c, d])
        expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((x, y) => y - x))
        for (const hit of hits) {
          expect(hit.score).toBeGreaterThanOrEqual(-1.000001)
          expect(hit.score).toBeLessThanOrEqual(1.000001)
        }
        expect(hits[0]?.score).toBeCloseTo(1, 5)
        expect(hits[1]?.score).toBeCloseTo(2 / Math.sqrt(5), 5)
        expect(hits[2]?.score).toBeCloseTo(0, 5)
        expect(hits[3]?.score).toBeCloseTo(-1, 5)
        expect(hits[0]).toEqual({ chunkId: a, firstMessageId: `${a}1`, lastMessageId: `${a}9`, score: hits[0]?.score })
      }))

    it.effect("search never returns another chat's, another user's or another embedder's vectors", () =>
      Effect.gen(function*() {
        const store = yield* Vector
        const fixtures = yield* Fixtures
        const mine = yield* newChat(1)
        const sibling = yield* newChat(1, mine.userId)
        const stranger = yield* newChat(1)
        const [otherModel = ""] = yield* fixtures.chunks(mine, 1, otherEmbedder)
        // All four sit exactly on the query.
        yield* store.upsert([
          vectorOf(mine, mine.ids[0] ?? "", axis(7)),
          vectorOf(sibling, sibling.ids[0] ?? "", axis(7)),
          vectorOf(stranger, stranger.ids[0] ?? "", axis(7)),
          vectorOf(mine, otherModel, axis(7), otherEmbedder)
        ])
        expect((yield* near(axis(7), mine)).map((h) => h.chunkId)).toEqual(mine.ids)
        expect((yield* near(axis(7), mine, 10, otherEmbedder)).map((h) => h.chunkId)).toEqual([otherModel])
        // The right chat asked for by the wrong user finds nothing.
        expect(yield* near(axis(7), { chatId: mine.chatId, userId: stranger.userId })).toEqual([])
        expect(yield* near(axis(7), { chatId: randomUUID(), userId: mine.userId })).toEqual([])
      }))

    it.effect("k limits the results to the k closest", () =>
      Effect.gen(function*() {
        const store = yield* Vector
        const chat = yield* newChat(6)
        // Chunk i leans less and less towards axis 0.
        yield* store.upsert(chat.ids.map((id, i) => vectorOf(chat, id, mix({ 0: 6 - i, 1: i + 1 }))))
        const two = yield* near(axis(0), chat, 2)
        expect(two.map((h) => h.chunkId)).toEqual(chat.ids.slice(0, 2))
        expect((yield* near(axis(0), chat, 1)).map((h) => h.chunkId)).toEqual(chat.ids.slice(0, 1))
        expect(yield* near(axis(0), chat, 100)).toHaveLength(6)
        expect(yield* near(axis(0), chat, 0)).toEqual([])
      }))

    it.effect("re-upserting a chunk replaces its vector: no duplicates", () =>
      Effect.gen(function*() {
        const store = yield* Vector
        const chat = yield* newChat(2)
        const [a = "", b = ""] = chat.ids
        yield* store.upsert([vectorOf(chat, a, axis(0)), vectorOf(chat, b, axis(1))])
        yield* store.upsert([vectorOf(chat, a, axis(2))])
        yield* store.upsert([vectorOf(chat, a, axis(2))])
        const hits = yield* near(axis(2), chat)
        expect(hits.map((h) => h.chunkId)).toEqual([a, b])
        expect(hits[0]?.score).toBeCloseTo(1, 5)
        expect((yield* near(axis(0), chat))[0]?.score).toBeCloseTo(0, 5)
      }))

    it.effect("deleteChat removes that chat's vectors and leaves the other chats", () =>
      Effect.gen(function*() {
        const store = yield* Vector
        const gone = yield* newChat(2)
        const kept = yield* newChat(1, gone.userId)
        yield* store.upsert([...gone.ids.map((id) => vectorOf(gone, id, axis(3))), vectorOf(kept, kept.ids[0] ?? "", axis(3))])
        expect(yield* near(axis(3), gone)).toHaveLength(2)
        yield* store.deleteChat(gone.chatId)
        expect(yield* near(axis(3), gone)).toEqual([])
        expect((yield* near(axis(3), kept)).map((h) => h.chunkId)).toEqual(kept.ids)
        // Deleting what is already gone is fine.
        yield* store.deleteChat(gone.chatId)
      }))

    it.effect("deleteUser removes the vectors of all that user's chats and no one else's", () =>
      Effect.gen(function*() {
        const store = yield* Vector
        const first = yield* newChat(1)
        const second = yield* newChat(2, first.userId)
        const other = yield* newChat(1)
        yield* store.upsert([
          ...[first, second, other].flatMap((chat) => chat.ids.map((id) => vectorOf(chat, id, axis(4))))
        ])
        yield* store.deleteUser(first.userId)
        expect(yield* near(axis(4), first)).toEqual([])
        expect(yield* near(axis(4), second)).toEqual([])
        expect((yield* near(axis(4), other)).map((h) => h.chunkId)).toEqual(other.ids)
      }))

    it.effect("upserts larger than one batch are all stored", () =>
      Effect.gen(function*() {
        const store = yield* Vector
        const chat = yield* newChat(300)
        yield* store.upsert(chat.ids.map((id, i) => vectorOf(chat, id, mix({ 0: 1, [1 + (i % 700)]: 1 + i / 100 }))))
        expect(yield* near(axis(0), chat, 1000)).toHaveLength(300)
      }))

    it.effect("health is up", () =>
      Effect.gen(function*() {
        const store = yield* Vector
        expect(yield* store.health).toEqual({ status: "up", backend: store.backend })
      }))

    more(it)
  })

// ---------------------------------------------------------------------------------------------------

behaves<SqlClient.SqlClient>(
  "PostgreSQL (pgvector)",
  Layer.mergeAll(VectorPostgres, PostgresFixtures).pipe(Layer.provideMerge(TestDatabase())),
  (it) => {
    it.effect("vectors of unknown chunks are not stored (the embedding job inserts the rows first)", () =>
      Effect.gen(function*() {
        const store = yield* Vector
        const chat = yield* newChat(1)
        yield* store.upsert([vectorOf(chat, "999999999", axis(11)), vectorOf(chat, chat.ids[0] ?? "", axis(11))])
        expect((yield* near(axis(11), chat)).map((h) => h.chunkId)).toEqual(chat.ids)
        // A vector addressed to the right chunk id under another user's name lands nowhere.
        const other = yield* newChat(1)
        yield* store.upsert([vectorOf({ chatId: other.chatId, userId: chat.userId }, other.ids[0] ?? "", axis(12))])
        expect(yield* near(axis(12), other)).toEqual([])
      }))

    it.effect("VECTOR_BACKEND chooses the layer: postgres by default, qdrant on request", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const chosen = (config: Record<string, string>) =>
          Layer.build(VectorLive.pipe(Layer.provide(TestConfig(config)), Layer.provide(Layer.succeed(SqlClient.SqlClient, sql)))).pipe(
            Effect.map((context) => Context.get(context, Vector).backend)
          )
        expect(yield* chosen({})).toBe("postgres")
        expect(yield* chosen({ VECTOR_BACKEND: "postgres" })).toBe("postgres")
        const double = yield* makeQdrantDouble
        expect(yield* chosen({ VECTOR_BACKEND: "qdrant", QDRANT_URL: double.url })).toBe("qdrant")
        // It looked for its collections at start; they are made on first use.
        expect(double.requests.map((r) => r.operationId)).toEqual(["get_collections"])
        expect(yield* Effect.flip(chosen({ VECTOR_BACKEND: "faiss" }))).toMatchObject({ _op: "InvalidData" })
      }).pipe(Effect.scoped))
  }
)

/** The Qdrant layer configured to talk to the double in context. */
const qdrantOnDouble = (config: Record<string, string> = {}) =>
  Layer.unwrapEffect(
    Effect.map(QdrantDouble, (double) => VectorQdrant.pipe(Layer.provide(TestConfig({ QDRANT_URL: double.url, ...config }))))
  ).pipe(Layer.orDie)

behaves("the in-memory test layer", Layer.merge(VectorMemory, QdrantFixtures))

behaves<QdrantDouble>(
  "Qdrant (contract-checked double)",
  Layer.mergeAll(qdrantOnDouble(), QdrantFixtures).pipe(Layer.provideMerge(QdrantDoubleLive)),
  (it) => {
    it.effect("the collection was made with 768 dimensions and Cosine, with keyword indexes on the filtered fields", () =>
      Effect.gen(function*() {
        const double = yield* QdrantDouble
        const collection = double.collections.get("chatsight_chunks")
        expect(collection?.size).toBe(dimensions)
        expect(collection?.distance).toBe("Cosine")
        expect(Object.fromEntries(collection?.payloadIndexes ?? [])).toEqual(
          Object.fromEntries(indexedFields.map((field) => [field, "keyword"]))
        )
        expect([...double.collections.keys()]).toEqual(["chatsight_chunks"])
      }))

    it.effect("a transient 503 is retried and the call succeeds", () =>
      Effect.gen(function*() {
        const store = yield* Vector
        const double = yield* QdrantDouble
        const chat = yield* newChat(1)
        const before = double.requests.length
        double.failNext(1, 503)
        yield* store.upsert([vectorOf(chat, chat.ids[0] ?? "", axis(9))])
        expect(double.requests.slice(before).map((r) => r.status)).toEqual([503, 200])
        expect((yield* near(axis(9), chat)).map((h) => h.chunkId)).toEqual(chat.ids)
      }))

    it.effect("a chunk id that is not an unsigned integer is a defect, and nothing is sent", () =>
      Effect.gen(function*() {
        const store = yield* Vector
        const double = yield* QdrantDouble
        const chat = yield* newChat(1)
        const before = double.requests.length
        const exit = yield* Effect.exit(store.upsert([vectorOf(chat, "12a", axis(0))]))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect(double.requests.length).toBe(before)
      }))

    it.effect("every request the client sent was valid against Qdrant's OpenAPI contract", () =>
      Effect.gen(function*() {
        const double = yield* QdrantDouble
        const used = new Set(double.requests.map((r) => r.operationId))
        for (const operation of ["collection_exists", "get_collection", "create_collection", "create_field_index", "upsert_points", "query_points", "delete_points"]) {
          expect(used).toContain(operation)
        }
        expect(double.invalid()).toEqual([])
      }))
  }
)

// ---------------------------------------------------------------------------------------------------

describe("Qdrant layer setup and outages", () => {
  layer(QdrantDoubleLive, { excludeTestServices: true })("on the double", (it) => {
    it.effect("a collection of another size stops the layer loudly", () =>
      Effect.gen(function*() {
        const double = yield* QdrantDouble
        double.collections.set("small", { size: 3, distance: "Cosine", payloadIndexes: new Map(), points: new Map() })
        const exit = yield* Effect.exit(Effect.scoped(Layer.build(qdrantOnDouble({ QDRANT_COLLECTION: "small" }))))
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) expect(Cause.pretty(exit.cause)).toMatch(/"small" holds 3-dimension Cosine vectors.*768/)
      }))

    it.effect("an existing collection of the right shape is kept and only missing indexes are added", () =>
      Effect.gen(function*() {
        const double = yield* QdrantDouble
        double.collections.set("existing", {
          size: dimensions,
          distance: "Cosine",
          payloadIndexes: new Map([["chatId", "keyword"]]),
          points: new Map()
        })
        const before = double.requests.length
        yield* Effect.scoped(Layer.build(qdrantOnDouble({ QDRANT_COLLECTION: "existing" })))
        const made = double.requests.slice(before).map((r) => r.operationId)
        expect(made).not.toContain("create_collection")
        expect(made.filter((op) => op === "create_field_index")).toHaveLength(2)
        expect([...(double.collections.get("existing")?.payloadIndexes.keys() ?? [])].sort()).toEqual(["chatId", "embedder", "userId"])
        expect(double.invalid()).toEqual([])
      }))

    it.effect("a stopped Qdrant yields UpstreamUnavailable and health down", () =>
      Effect.gen(function*() {
        const double = yield* makeQdrantDouble
        const context = yield* Layer.build(
          VectorQdrant.pipe(Layer.provide(TestConfig({ QDRANT_URL: double.url, QDRANT_TIMEOUT: "2 seconds" })))
        )
        const store = Context.get(context, Vector)
        const chat = { chatId: randomUUID(), userId: "u" }
        yield* store.upsert([vectorOf(chat, "1", axis(0))])
        yield* double.stop
        const error = yield* Effect.flip(store.upsert([vectorOf(chat, "2", axis(0))]))
        expect(error).toBeInstanceOf(UpstreamUnavailable)
        expect(error.message).toMatch(/Qdrant.*unavailable/)
        expect(yield* Effect.flip(near(axis(0), chat).pipe(Effect.provideService(Vector, store)))).toBeInstanceOf(UpstreamUnavailable)
        expect(yield* Effect.flip(store.deleteChat(chat.chatId))).toBeInstanceOf(UpstreamUnavailable)
        expect(yield* Effect.flip(store.deleteUser(chat.userId))).toBeInstanceOf(UpstreamUnavailable)
        expect(yield* store.health).toEqual({ status: "down", backend: "qdrant" })
      }).pipe(Effect.scoped))
  })

  layer(Layer.empty, { excludeTestServices: true })("credentials and a vanished collection", (it) => {
    it.effect("QDRANT_API_KEY is sent as api-key; a wrong key yields UpstreamUnavailable without retries", () =>
      Effect.gen(function*() {
        const double = yield* qdrantDouble({ apiKey: "s3cret" })
        const good = Context.get(yield* Layer.build(VectorQdrant.pipe(Layer.provide(TestConfig({ QDRANT_URL: double.url, QDRANT_API_KEY: "s3cret" })))), Vector)
        expect(yield* good.search({ chatId: randomUUID(), userId: "u", embedder, vector: axis(0), k: 1 })).toEqual([])
        expect(double.requests.every((r) => r.apiKey === "s3cret")).toBe(true)
        const bad = Context.get(yield* Layer.build(VectorQdrant.pipe(Layer.provide(TestConfig({ QDRANT_URL: double.url, QDRANT_API_KEY: "wrong" })))), Vector)
        const before = double.requests.length
        expect(yield* Effect.flip(bad.deleteUser("u"))).toBeInstanceOf(UpstreamUnavailable)
        expect(double.requests.slice(before).map((r) => r.status)).toEqual([401])
        expect(double.invalid()).toEqual([])
      }).pipe(Effect.scoped))

    it.effect("a collection deleted behind our back is made again by the next operation", () =>
      Effect.gen(function*() {
        const double = yield* makeQdrantDouble
        const store = Context.get(yield* Layer.build(VectorQdrant.pipe(Layer.provide(TestConfig({ QDRANT_URL: double.url })))), Vector)
        const chat = { chatId: randomUUID(), userId: "u" }
        yield* store.upsert([vectorOf(chat, "6", axis(0))])
        double.collections.clear()
        expect(yield* Effect.flip(store.upsert([vectorOf(chat, "7", axis(0))]))).toBeInstanceOf(UpstreamUnavailable)
        yield* store.upsert([vectorOf(chat, "7", axis(0))])
        expect((yield* near(axis(0), chat).pipe(Effect.provideService(Vector, store))).map((h) => h.chunkId)).toEqual(["7"])
        expect(double.collections.get("chatsight_chunks")?.payloadIndexes.size).toBe(3)
        expect(double.invalid()).toEqual([])
      }).pipe(Effect.scoped))
  })

  layer(Layer.empty, { excludeTestServices: true })("without a server", (it) => {
    it.effect("a closed port: the layer starts, health is down and operations fail with UpstreamUnavailable", () =>
      Effect.gen(function*() {
        const port = yield* freePort
        const context = yield* Layer.build(
          VectorQdrant.pipe(Layer.provide(TestConfig({ QDRANT_URL: `http://127.0.0.1:${port}`, QDRANT_TIMEOUT: "1 second" })))
        )
        const store = Context.get(context, Vector)
        expect(yield* store.health).toEqual({ status: "down", backend: "qdrant" })
        const error = yield* Effect.flip(
          store.search({ chatId: randomUUID(), userId: "u", embedder, vector: axis(0), k: 3 })
        )
        expect(error).toBeInstanceOf(UpstreamUnavailable)
        expect(error._tag).toBe("UpstreamUnavailable")
      }).pipe(Effect.scoped))
  })

  layer(Layer.empty, { excludeTestServices: true })("the double's own checks", (it) => {
    it.effect("requests that break the contract answer 400 and are recorded", () =>
      Effect.gen(function*() {
        const double = yield* makeQdrantDouble
        const send = (method: string, path: string, body?: unknown) =>
          Effect.promise(() =>
            fetch(`${double.url}${path}`, {
              method,
              headers: { "content-type": "application/json" },
              ...(body === undefined ? {} : { body: JSON.stringify(body) })
            }).then(async (r) => ({ status: r.status, body: await r.json() as unknown }))
          )
        const wrongType = yield* send("PUT", "/collections/c", { vectors: { size: "768", distance: "Cosine" } })
        expect(wrongType.status).toBe(400)
        expect(wrongType.body).toMatchObject({ status: { error: expect.stringContaining("size") } })
        expect((yield* send("PUT", "/collections/c", { vectors: { size: 4, distance: "cosine" } })).status).toBe(400)
        expect((yield* send("PUT", "/collections/c?wait=maybe", { vectors: { size: 4, distance: "Cosine" } })).status).toBe(400)
        expect((yield* send("POST", "/collections/c/points/delete", { filter: { must: [{ key: "a", match: { value: 1 } }], bogus: 1 } })).status).toBe(400)
        expect((yield* send("POST", "/collections/c/points/nonsense", {})).status).toBe(404)
        expect(double.invalid()).toHaveLength(5)
        // And a valid one passes, answered in the spec's envelope.
        const created = yield* send("PUT", "/collections/c", { vectors: { size: 4, distance: "Cosine" } })
        expect(created).toMatchObject({ status: 200, body: { result: true, status: "ok", time: expect.any(Number) } })
        const upserted = yield* send("PUT", "/collections/c/points?wait=true", { points: [{ id: "not-a-uuid", vector: [1, 0, 0, 0] }] })
        expect(upserted.status).toBe(400)
        expect(double.invalid()).toHaveLength(6)
      }).pipe(Effect.scoped))

    it("the validator knows every keyword of the schemas the client's operations use", () => {
      const router = SpecRouter.load()
      const problems = router.validator.validate({ $ref: "#/components/schemas/QueryRequest" }, {
        query: [0.1, 0.2],
        filter: { must: [{ key: "chatId", match: { value: "x" } }] },
        limit: 3,
        with_payload: true
      })
      expect(problems).toEqual([])
      expect(router.find("post", "/collections/x/points/query")?.operationId).toBe("query_points")
      expect(router.find("get", "/collections/x/exists")?.operationId).toBe("collection_exists")
      expect(router.find("get", "/nowhere")).toBeUndefined()
    })
  })
})

/** A port nothing listens on: bound, read and released. */
const freePort = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})
