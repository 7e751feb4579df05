/**
 * A Qdrant stand-in for tests: an in-memory HTTP server that answers the part of Qdrant's REST API our
 * client uses, and checks every request (and its own answers) against Qdrant's published OpenAPI contract.
 */
import { Context, Effect, Layer } from "effect"
import * as Http from "node:http"
import { deepEqual, isArray, isObject, type Json, type JsonObject, SpecRouter } from "./qdrantContract.js"

// ---------------------------------------------------------------------------------------------------
// The in-memory Qdrant.
// ---------------------------------------------------------------------------------------------------

export interface StoredPoint {
  readonly id: number | string
  readonly vector: ReadonlyArray<number>
  readonly payload: JsonObject
}

export interface StoredCollection {
  readonly size: number
  readonly distance: string
  /** Payload indexes: field name to schema type. */
  readonly payloadIndexes: Map<string, string>
  readonly points: Map<string, StoredPoint>
}

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly query: string
  readonly operationId: string | undefined
  readonly body: Json
  readonly status: number
  /** The `api-key` header as sent. */
  readonly apiKey: string | undefined
  /** Why the request (or the double's answer to it) broke the contract; empty when it kept it. */
  readonly problems: ReadonlyArray<string>
}

class Reply {
  constructor(readonly status: number, readonly result: Json, readonly error?: string) {}
}

const notFound = (name: string) => new Reply(404, null, `Not found: Collection \`${name}\` doesn't exist!`)
const badRequest = (message: string) => new Reply(400, null, `Bad request: ${message}`)

const cosine = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0
    const y = b[i] ?? 0
    dot += x * y
    na += x * x
    nb += y * y
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}

/** Whether a point's payload satisfies a filter; `undefined` for a condition the double does not implement. */
const matches = (filter: Json, payload: JsonObject): boolean | undefined => {
  if (!isObject(filter)) return undefined
  const list = (clause: Json | undefined): ReadonlyArray<Json> =>
    clause === undefined || clause === null ? [] : isArray(clause) ? clause : [clause]
  const condition = (c: Json): boolean | undefined => {
    if (!isObject(c)) return undefined
    if ("must" in c || "should" in c || "must_not" in c) return matches(c, payload)
    const key = c["key"]
    const match = c["match"]
    if (typeof key !== "string" || !isObject(match)) return undefined
    const actual = payload[key]
    const values = isArray(actual) ? actual : [actual ?? null]
    if ("value" in match) return values.some((v) => deepEqual(v, match["value"] ?? null))
    const any = match["any"]
    if (isArray(any)) return values.some((v) => any.some((candidate) => deepEqual(v, candidate)))
    return undefined
  }
  const all = (clauses: ReadonlyArray<Json>) => clauses.map(condition)
  const must = all(list(filter["must"]))
  const should = all(list(filter["should"]))
  const mustNot = all(list(filter["must_not"]))
  if ([...must, ...should, ...mustNot].some((r) => r === undefined) || filter["min_should"] != null) return undefined
  return must.every(Boolean) && (should.length === 0 || should.some(Boolean)) && !mustNot.some(Boolean)
}

export interface QdrantDoubleService {
  /** Base URL for `QdrantClient({ url })`. */
  readonly url: string
  readonly port: number
  readonly collections: Map<string, StoredCollection>
  readonly requests: ReadonlyArray<RecordedRequest>
  /** The requests that broke the contract (the tests expect none). */
  readonly invalid: () => ReadonlyArray<RecordedRequest>
  /** The next `count` requests answer `status` (a 503, say) before being looked at. */
  readonly failNext: (count: number, status: number) => void
  /** Closes the server: later requests find nothing listening. */
  readonly stop: Effect.Effect<void>
}

export class QdrantDouble extends Context.Tag("test/QdrantDouble")<QdrantDouble, QdrantDoubleService>() {}

const startedAt = process.hrtime.bigint()

/**
 * Starts the double on 127.0.0.1 on a free port; it stops with the scope. With `apiKey`, requests
 * without that `api-key` header answer 401, as Qdrant's do.
 */
export const qdrantDouble = (options: { readonly apiKey?: string } = {}) => Effect.gen(function*() {
  const router = SpecRouter.load()
  const collections = new Map<string, StoredCollection>()
  const requests: Array<RecordedRequest> = []
  let failures: { count: number; status: number } = { count: 0, status: 503 }

  const collectionInfo = (c: StoredCollection): Json => ({
    status: "green",
    optimizer_status: "ok",
    indexed_vectors_count: 0,
    points_count: c.points.size,
    segments_count: 1,
    config: {
      params: { vectors: { size: c.size, distance: c.distance }, shard_number: 1, replication_factor: 1, write_consistency_factor: 1, on_disk_payload: true },
      hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000 },
      optimizer_config: { default_segment_number: 0, flush_interval_sec: 5 },
      wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 }
    },
    payload_schema: Object.fromEntries(
      [...c.payloadIndexes].map(([field, type]) => [
        field,
        { data_type: type, points: [...c.points.values()].filter((p) => p.payload[field] !== undefined).length }
      ])
    )
  })

  const completed: Json = { operation_id: 0, status: "completed" }

  /** The behaviour of each operation the double implements, by operationId; bodies are already valid. */
  const handlers: Record<string, (params: Record<string, string>, body: Json) => Reply> = {
    get_collections: () => new Reply(200, { collections: [...collections.keys()].map((name) => ({ name })) }),
    collection_exists: ({ collection_name = "" }) => new Reply(200, { exists: collections.has(collection_name) }),
    get_collection: ({ collection_name = "" }) => {
      const c = collections.get(collection_name)
      return c === undefined ? notFound(collection_name) : new Reply(200, collectionInfo(c))
    },
    create_collection: ({ collection_name = "" }, body) => {
      if (collections.has(collection_name)) {
        return new Reply(409, null, `Wrong input: Collection \`${collection_name}\` already exists!`)
      }
      const vectors = isObject(body) ? body["vectors"] : null
      const size = isObject(vectors) ? vectors["size"] : null
      const distance = isObject(vectors) ? vectors["distance"] : null
      if (typeof size !== "number" || typeof distance !== "string") return badRequest("the double keeps one unnamed dense vector")
      collections.set(collection_name, { size, distance, payloadIndexes: new Map(), points: new Map() })
      return new Reply(200, true)
    },
    create_field_index: ({ collection_name = "" }, body) => {
      const c = collections.get(collection_name)
      if (c === undefined) return notFound(collection_name)
      const field = isObject(body) ? body["field_name"] : null
      const schema = isObject(body) ? body["field_schema"] : null
      const type = typeof schema === "string" ? schema : isObject(schema) && typeof schema["type"] === "string" ? schema["type"] : null
      if (typeof field !== "string" || type === null) return badRequest("field_schema is required")
      c.payloadIndexes.set(field, type)
      return new Reply(200, completed)
    },
    upsert_points: ({ collection_name = "" }, body) => {
      const c = collections.get(collection_name)
      if (c === undefined) return notFound(collection_name)
      const points = isObject(body) ? body["points"] : null
      if (!isArray(points)) return badRequest("the double takes the PointsList form only")
      const staged: Array<StoredPoint> = []
      for (const point of points) {
        if (!isObject(point)) return badRequest("point is not an object")
        const id = point["id"]
        const vector = point["vector"]
        if (typeof id !== "number" && typeof id !== "string") return badRequest("bad id")
        if (!isArray(vector) || !vector.every((x): x is number => typeof x === "number")) return badRequest("the double keeps one unnamed dense vector")
        if (vector.length !== c.size) {
          return badRequest(`Wrong input: Vector dimension error: expected dim: ${c.size}, got ${vector.length}`)
        }
        const payload = point["payload"]
        staged.push({ id, vector, payload: isObject(payload) ? payload : {} })
      }
      for (const point of staged) c.points.set(String(point.id), point)
      return new Reply(200, completed)
    },
    query_points: ({ collection_name = "" }, body) => {
      const c = collections.get(collection_name)
      if (c === undefined) return notFound(collection_name)
      if (!isObject(body)) return badRequest("no query")
      const raw = body["query"]
      const vector = isObject(raw) && "nearest" in raw ? raw["nearest"] : raw
      if (!isArray(vector) || !vector.every((x): x is number => typeof x === "number")) {
        return badRequest("the double answers nearest-vector queries only")
      }
      if (vector.length !== c.size) return badRequest(`Wrong input: Vector dimension error: expected dim: ${c.size}, got ${vector.length}`)
      if (body["prefetch"] != null || body["using"] != null || body["lookup_from"] != null) return badRequest("not supported by the double")
      const filter = body["filter"] ?? null
      const limit = typeof body["limit"] === "number" ? body["limit"] : 10
      const offset = typeof body["offset"] === "number" ? body["offset"] : 0
      const threshold = typeof body["score_threshold"] === "number" ? body["score_threshold"] : undefined
      const withPayload = body["with_payload"] === true
      const withVector = body["with_vector"] === true
      const scored: Array<{ point: StoredPoint; score: number }> = []
      for (const point of c.points.values()) {
        const keep = filter === null ? true : matches(filter, point.payload)
        if (keep === undefined) return badRequest("filter not supported by the double")
        if (!keep) continue
        // Qdrant's cosine is the dot product of normalized float32 vectors.
        const score = Math.fround(cosine(point.vector, vector))
        if (threshold === undefined || score >= threshold) scored.push({ point, score })
      }
      scored.sort((a, b) => b.score - a.score || String(a.point.id).localeCompare(String(b.point.id)))
      return new Reply(200, {
        points: scored.slice(offset, offset + limit).map(({ point, score }) => ({
          id: point.id,
          version: 0,
          score,
          payload: withPayload ? point.payload : null,
          ...(withVector ? { vector: point.vector } : {})
        }))
      })
    },
    delete_points: ({ collection_name = "" }, body) => {
      const c = collections.get(collection_name)
      if (c === undefined) return notFound(collection_name)
      if (!isObject(body)) return badRequest("no selector")
      const ids = body["points"]
      if (isArray(ids)) {
        for (const id of ids) c.points.delete(String(id))
        return new Reply(200, completed)
      }
      for (const [key, point] of c.points) {
        const hit = matches(body["filter"] ?? null, point.payload)
        if (hit === undefined) return badRequest("filter not supported by the double")
        if (hit) c.points.delete(key)
      }
      return new Reply(200, completed)
    }
  }

  const handle = (request: Http.IncomingMessage, text: string): { reply: Reply; record: RecordedRequest } => {
    const url = new URL(request.url ?? "/", "http://double")
    const method = request.method ?? "GET"
    const header = request.headers["api-key"]
    const apiKey = typeof header === "string" ? header : undefined
    const base = { method, path: url.pathname, query: url.search, apiKey }
    if (options.apiKey !== undefined && apiKey !== options.apiKey) {
      const reply = new Reply(401, null, "Unauthorized: invalid API key or token")
      return { reply, record: { ...base, operationId: undefined, body: null, status: 401, problems: [] } }
    }
    if (failures.count > 0) {
      failures = { ...failures, count: failures.count - 1 }
      const reply = new Reply(failures.status, null, "Service unavailable (injected by the test)")
      return { reply, record: { ...base, operationId: undefined, body: null, status: reply.status, problems: [] } }
    }
    const operation = router.find(method, url.pathname)
    if (operation === undefined) {
      const reply = new Reply(404, null, `no operation ${method} ${url.pathname} in the spec`)
      return { reply, record: { ...base, operationId: undefined, body: null, status: 404, problems: [reply.error ?? ""] } }
    }
    const checked = router.checkBody(operation, request.headers["content-type"], text)
    const problems = [...router.checkQuery(operation, url.searchParams), ...checked.errors]
    if (problems.length > 0) {
      const reply = new Reply(400, null, `Format error in JSON body: ${problems.join("; ")}`)
      return { reply, record: { ...base, operationId: operation.operationId, body: checked.body, status: 400, problems } }
    }
    const handler = handlers[operation.operationId]
    const reply = handler === undefined
      ? new Reply(501, null, `${operation.operationId} is not implemented by the double`)
      : handler(operation.params, checked.body)
    const envelope = render(reply)
    const answerProblems = router.checkResponse(operation, reply.status, envelope).map((p) => `double's answer: ${p}`)
    if (handler === undefined) answerProblems.push(reply.error ?? "")
    return {
      reply,
      record: { ...base, operationId: operation.operationId, body: checked.body, status: reply.status, problems: answerProblems }
    }
  }

  const render = (reply: Reply): Json => {
    const time = Number(process.hrtime.bigint() - startedAt) / 1e9 % 1
    return reply.error === undefined
      ? { result: reply.result, status: "ok", time }
      : { status: { error: reply.error }, time, result: null }
  }

  const server = Http.createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const { reply, record } = handle(request, Buffer.concat(chunks).toString("utf8"))
      requests.push(record)
      const text = JSON.stringify(render(reply))
      response.writeHead(reply.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
      response.end(text)
    })
  })

  const port = yield* Effect.async<number>((resume) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resume(typeof address === "object" && address !== null ? Effect.succeed(address.port) : Effect.die("no port"))
    })
  })

  const stop = Effect.async<void>((resume) => {
    if (!server.listening) return resume(Effect.void)
    server.close(() => resume(Effect.void))
    // Kept-alive connections would otherwise hold the server (and the client's pool) open.
    server.closeAllConnections()
  })
  yield* Effect.addFinalizer(() => stop)

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    collections,
    requests,
    invalid: () => requests.filter((r) => r.problems.length > 0),
    failNext: (count, status) => {
      failures = { count, status }
    },
    stop
  } satisfies QdrantDoubleService
})

export const makeQdrantDouble = qdrantDouble()

/** The double as a layer, for tests that build the Qdrant `Vector` layer on top of it. */
export const QdrantDoubleLive = Layer.scoped(QdrantDouble, makeQdrantDouble)
