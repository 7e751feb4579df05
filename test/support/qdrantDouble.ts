/**
 * A Qdrant stand-in for tests: an in-memory HTTP server that answers the part of Qdrant's REST API our
 * client uses, and checks every request (and its own answers) against Qdrant's published OpenAPI contract.
 */
import { Context, Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import * as Http from "node:http"

/** The contract the double holds requests to; a copy of Qdrant 1.19's openapi.json. */
export const specPath = process.env.QDRANT_OPENAPI_SPEC ?? "/work/shared/reference/qdrant-openapi-1.19.json"

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
type JsonObject = { readonly [key: string]: Json }

const isObject = (u: unknown): u is JsonObject => typeof u === "object" && u !== null && !Array.isArray(u)
const isArray = (u: unknown): u is ReadonlyArray<Json> => Array.isArray(u)

/** Reads JSON text; `JSON.parse` can only produce JSON values, which this spells out for the compiler. */
const parseJson = (text: string): Json => {
  const toJson = (u: unknown): Json =>
    u === null || typeof u === "boolean" || typeof u === "number" || typeof u === "string"
      ? u
      : Array.isArray(u)
      ? u.map(toJson)
      : typeof u === "object"
      ? Object.fromEntries(Object.entries(u).map(([k, v]) => [k, toJson(v)]))
      : null
  return toJson(JSON.parse(text))
}

// ---------------------------------------------------------------------------------------------------
// A small JSON-schema validator for the OpenAPI 3.0 dialect the Qdrant spec is written in. It knows
// every keyword the spec uses and refuses any other, so an unfamiliar schema cannot pass unchecked.
// ---------------------------------------------------------------------------------------------------

/** Keywords that only annotate. */
const annotations = new Set(["description", "example", "examples", "default", "deprecated", "title", "readOnly", "writeOnly"])
/** Keywords that constrain (`nullable` is handled with `type`). */
const constraints = new Set([
  "$ref", "type", "format", "nullable", "properties", "required", "additionalProperties", "items", "anyOf", "oneOf",
  "allOf", "enum", "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "uniqueItems"
])

const integerFormats: Record<string, readonly [number, number]> = {
  uint: [0, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
  uint32: [0, 4_294_967_295],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]
}
const uuidPattern = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i

const typeOf = (value: Json): string =>
  value === null ? "null" : isArray(value) ? "array" : typeof value === "number" && Number.isInteger(value) ? "integer" : typeof value

const deepEqual = (a: Json, b: Json): boolean => JSON.stringify(a) === JSON.stringify(b)

export class SchemaValidator {
  constructor(private readonly spec: JsonObject) {}

  /** The schema a `#/...` reference points at. */
  resolve(ref: string): JsonObject {
    if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`)
    let node: Json = this.spec
    for (const part of ref.slice(2).split("/")) {
      node = isObject(node) ? (node[part] ?? null) : null
    }
    if (!isObject(node)) throw new Error(`unresolved $ref ${ref}`)
    return node
  }

  /** The problems of `value` against `schema`, each with its JSON path; empty when valid. */
  validate(schema: Json, value: Json, path = "$"): Array<string> {
    const errors: Array<string> = []
    this.check(schema, value, path, errors)
    return errors
  }

  private check(schema: Json, value: Json, path: string, errors: Array<string>): void {
    if (schema === true) return
    if (!isObject(schema)) {
      errors.push(`${path}: unsupported schema ${JSON.stringify(schema)}`)
      return
    }
    for (const key of Object.keys(schema)) {
      if (!annotations.has(key) && !constraints.has(key)) errors.push(`${path}: schema keyword '${key}' is not supported by the double`)
    }
    const ref = schema["$ref"]
    if (typeof ref === "string") {
      this.check(this.resolve(ref), value, path, errors)
      return
    }
    const nullable = schema["nullable"] === true
    const constraining = Object.keys(schema).filter((key) => constraints.has(key) && key !== "nullable")
    // schemars writes "or null" as anyOf [X, { nullable: true }]: a schema that is only `nullable` means null.
    if (nullable && constraining.length === 0) {
      if (value !== null) errors.push(`${path}: expected null`)
      return
    }
    if (value === null && nullable) return

    const type = schema["type"]
    if (typeof type === "string") {
      const actual = typeOf(value)
      const matches = actual === type || (type === "number" && actual === "integer")
      if (!matches) {
        errors.push(`${path}: expected ${type}${nullable ? " or null" : ""}, got ${actual}`)
        return
      }
    }
    const format = schema["format"]
    if (typeof format === "string") {
      const range = integerFormats[format]
      if (range !== undefined && typeof value === "number" && (value < range[0] || value > range[1])) {
        errors.push(`${path}: ${value} is out of range for ${format}`)
      }
      if (format === "uuid" && typeof value === "string" && !uuidPattern.test(value)) {
        errors.push(`${path}: '${value}' is not a uuid`)
      }
      if ((format === "float" || format === "double") && typeof value === "number" && !Number.isFinite(value)) {
        errors.push(`${path}: not a finite number`)
      }
    }
    const enumeration = schema["enum"]
    if (isArray(enumeration) && !enumeration.some((candidate) => deepEqual(candidate, value))) {
      errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(enumeration)}`)
    }
    if (typeof value === "number") {
      const minimum = schema["minimum"]
      const maximum = schema["maximum"]
      if (typeof minimum === "number" && value < minimum) errors.push(`${path}: ${value} < minimum ${minimum}`)
      if (typeof maximum === "number" && value > maximum) errors.push(`${path}: ${value} > maximum ${maximum}`)
    }
    if (typeof value === "string") {
      const minLength = schema["minLength"]
      const maxLength = schema["maxLength"]
      if (typeof minLength === "number" && value.length < minLength) errors.push(`${path}: shorter than ${minLength}`)
      if (typeof maxLength === "number" && value.length > maxLength) errors.push(`${path}: longer than ${maxLength}`)
    }
    if (isArray(value)) {
      const minItems = schema["minItems"]
      const maxItems = schema["maxItems"]
      if (typeof minItems === "number" && value.length < minItems) errors.push(`${path}: fewer than ${minItems} items`)
      if (typeof maxItems === "number" && value.length > maxItems) errors.push(`${path}: more than ${maxItems} items`)
      if (schema["uniqueItems"] === true && new Set(value.map((item) => JSON.stringify(item))).size !== value.length) {
        errors.push(`${path}: items are not unique`)
      }
      const items = schema["items"]
      if (items !== undefined) value.forEach((item, index) => this.check(items, item, `${path}[${index}]`, errors))
    }
    if (isObject(value)) {
      const properties = isObject(schema["properties"]) ? schema["properties"] : {}
      const required = schema["required"]
      if (isArray(required)) {
        for (const name of required) {
          if (typeof name === "string" && !(name in value)) errors.push(`${path}: missing required '${name}'`)
        }
      }
      const additional = schema["additionalProperties"]
      for (const [name, child] of Object.entries(value)) {
        const declared = properties[name]
        if (declared !== undefined) this.check(declared, child, `${path}.${name}`, errors)
        else if (additional === false) errors.push(`${path}: unknown property '${name}'`)
        else if (isObject(additional)) this.check(additional, child, `${path}.${name}`, errors)
      }
    }
    const anyOf = schema["anyOf"]
    if (isArray(anyOf)) {
      const branches = anyOf.map((branch) => this.validate(branch, value, path))
      if (!branches.some((branch) => branch.length === 0)) {
        errors.push(`${path}: matches none of anyOf (${branches.map((branch) => branch[0] ?? "").join(" | ")})`)
      }
    }
    const oneOf = schema["oneOf"]
    if (isArray(oneOf)) {
      const passing = oneOf.filter((branch) => this.validate(branch, value, path).length === 0).length
      if (passing !== 1) errors.push(`${path}: matches ${passing} branches of oneOf, not exactly one`)
    }
    const allOf = schema["allOf"]
    if (isArray(allOf)) allOf.forEach((branch) => this.check(branch, value, path, errors))
  }
}

// ---------------------------------------------------------------------------------------------------
// Routing against the spec: the path template and method must exist, query parameters must be declared
// and well typed, the body must match the operation's requestBody schema.
// ---------------------------------------------------------------------------------------------------

interface Operation {
  readonly template: string
  readonly method: string
  readonly operationId: string
  readonly params: Record<string, string>
  readonly definition: JsonObject
}

const literalSegments = (template: string) => template.split("/").filter((part) => part !== "" && !part.startsWith("{")).length

export class SpecRouter {
  readonly validator: SchemaValidator
  private readonly paths: ReadonlyArray<readonly [string, RegExp, JsonObject]>

  constructor(readonly spec: JsonObject) {
    this.validator = new SchemaValidator(spec)
    const paths = isObject(spec["paths"]) ? spec["paths"] : {}
    this.paths = Object.entries(paths).flatMap(([template, item]) =>
      isObject(item)
        ? [[template, new RegExp(`^${template.replace(/\{[^}]+\}/g, "([^/]+)")}$`), item] as const]
        : []
    )
  }

  static load(path: string = specPath): SpecRouter {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"))
    if (!isObject(parsed)) throw new Error(`${path} is not an OpenAPI document`)
    return new SpecRouter(parsed)
  }

  /** The operation a request names; real routers prefer the template with more literal segments. */
  find(method: string, pathname: string): Operation | undefined {
    const candidates = this.paths.flatMap(([template, pattern, item]) => {
      const match = pattern.exec(pathname)
      const definition = item[method.toLowerCase()]
      if (match === null || !isObject(definition)) return []
      const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? "")
      const params: Record<string, string> = {}
      names.forEach((name, index) => {
        params[name] = decodeURIComponent(match[index + 1] ?? "")
      })
      const operationId = typeof definition["operationId"] === "string" ? definition["operationId"] : template
      return [{ template, method: method.toLowerCase(), operationId, params, definition }]
    })
    return candidates.sort((a, b) => literalSegments(b.template) - literalSegments(a.template))[0]
  }

  /** Problems of the query string against the operation's declared parameters. */
  checkQuery(operation: Operation, query: URLSearchParams): Array<string> {
    const declared = isArray(operation.definition["parameters"]) ? operation.definition["parameters"] : []
    const errors: Array<string> = []
    const known = new Map<string, JsonObject>()
    for (const parameter of declared) {
      if (isObject(parameter) && parameter["in"] === "query" && typeof parameter["name"] === "string") {
        known.set(parameter["name"], parameter)
      }
    }
    for (const [name, raw] of query) {
      const parameter = known.get(name)
      if (parameter === undefined) {
        errors.push(`query parameter '${name}' is not declared for ${operation.operationId}`)
        continue
      }
      const schema = parameter["schema"] ?? true
      const resolved = isObject(schema) && typeof schema["$ref"] === "string" ? this.validator.resolve(schema["$ref"]) : schema
      const type = isObject(resolved) ? resolved["type"] : undefined
      let value: Json = raw
      if (type === "boolean") value = raw === "true" ? true : raw === "false" ? false : raw
      else if ((type === "integer" || type === "number") && raw.trim() !== "" && !Number.isNaN(Number(raw))) value = Number(raw)
      errors.push(...this.validator.validate(schema, value, `query.${name}`))
    }
    for (const [name, parameter] of known) {
      if (parameter["required"] === true && !query.has(name)) errors.push(`missing required query parameter '${name}'`)
    }
    return errors
  }

  /** Problems of the body against the operation's requestBody. */
  checkBody(operation: Operation, contentType: string | undefined, text: string): { errors: Array<string>; body: Json } {
    const requestBody = operation.definition["requestBody"]
    if (!isObject(requestBody)) {
      return { errors: text.length > 0 ? [`${operation.operationId} takes no body`] : [], body: null }
    }
    if (text.length === 0) {
      return { errors: requestBody["required"] === true ? ["a body is required"] : [], body: null }
    }
    const content = isObject(requestBody["content"]) ? requestBody["content"] : {}
    const media = content["application/json"]
    if (!isObject(media)) return { errors: ["the operation takes no JSON body"], body: null }
    if (contentType === undefined || !contentType.includes("application/json")) {
      return { errors: [`content-type must be application/json, got ${contentType ?? "none"}`], body: null }
    }
    let body: Json
    try {
      body = parseJson(text)
    } catch {
      return { errors: ["the body is not JSON"], body: null }
    }
    return { errors: this.validator.validate(media["schema"] ?? true, body, "body"), body }
  }

  /** Problems of an answer against the operation's response schema for that status. */
  checkResponse(operation: Operation, status: number, body: Json): Array<string> {
    const responses = isObject(operation.definition["responses"]) ? operation.definition["responses"] : {}
    const response = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses["default"]
    const schema = isObject(response) && isObject(response["content"]) ? response["content"]["application/json"] : undefined
    if (!isObject(schema)) return [`no response ${status} is declared for ${operation.operationId}`]
    return this.validator.validate(schema["schema"] ?? true, body, "response")
  }
}

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
