/**
 * Every operation of the served OpenAPI document, walked with what a careless or hostile client sends:
 * no token, a bad token, another user's ids, and malformed path, query and body values (wrong types,
 * huge strings, negative numbers, NUL, invalid UTF-8, wrong content types, truncated JSON and
 * multipart). Everything is derived from the document, so a new route is walked without being listed;
 * only example valid values are kept here, by parameter or property name.
 *
 * Whatever the request, the answer is never a 5xx; a refusal is the one error shape, short, with no
 * stack trace or SQL in it; a missing or bad token is a 401; another user's resource is a 404.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import {
  call,
  type Reply,
  send,
  TestAppOnNodeServer,
  tokenFor,
  upload
} from "./support/TestApp.js"
import { paymentsEnv, startDoubles } from "./support/payments.js"

// ---------------------------------------------------------------------------------------------------
// The document, decoded as far as the walk reads it

const JsonSchemaObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
type JsonSchemaObject = typeof JsonSchemaObject.Type

const Parameter = Schema.Struct({
  name: Schema.String,
  in: Schema.Literal("path", "query", "header", "cookie"),
  required: Schema.optional(Schema.Boolean),
  schema: JsonSchemaObject
})
type Parameter = typeof Parameter.Type

const Operation = Schema.Struct({
  security: Schema.optional(Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) }))),
  parameters: Schema.optional(Schema.Array(Parameter)),
  requestBody: Schema.optional(Schema.Struct({
    content: Schema.Record({ key: Schema.String, value: Schema.Struct({ schema: JsonSchemaObject }) })
  })),
  responses: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
type Operation = typeof Operation.Type

const methods = ["get", "put", "post", "delete", "patch"] as const
type Method = (typeof methods)[number]
const verbs = { get: "GET", put: "PUT", post: "POST", delete: "DELETE", patch: "PATCH" } as const

const PathItem = Schema.Struct({
  get: Schema.optional(Operation),
  put: Schema.optional(Operation),
  post: Schema.optional(Operation),
  delete: Schema.optional(Operation),
  patch: Schema.optional(Operation)
})

const Document = Schema.Struct({
  paths: Schema.Record({ key: Schema.String, value: PathItem }),
  components: Schema.Struct({ schemas: Schema.Record({ key: Schema.String, value: JsonSchemaObject }) })
})
type Document = typeof Document.Type

interface Endpoint {
  readonly method: Method
  readonly path: string
  readonly operation: Operation
}

const endpointsOf = (doc: Document): ReadonlyArray<Endpoint> =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    methods.flatMap((method) => {
      const operation = item[method]
      return operation === undefined ? [] : [{ method, path, operation }]
    })
  )

// ---------------------------------------------------------------------------------------------------
// Reading JSON Schema

const isRecord = (u: unknown): u is JsonSchemaObject => typeof u === "object" && u !== null && !Array.isArray(u)

/** Follows `$ref` and single-member `allOf` to the schema itself. */
const resolve = (doc: Document, schema: JsonSchemaObject): JsonSchemaObject => {
  const ref = schema.$ref
  if (typeof ref === "string") {
    const target = doc.components.schemas[ref.replace("#/components/schemas/", "")]
    return target === undefined ? schema : resolve(doc, { ...schema, ...target, $ref: undefined })
  }
  const allOf = schema.allOf
  if (Array.isArray(allOf) && allOf.length === 1 && isRecord(allOf[0])) {
    return resolve(doc, { ...schema, ...allOf[0], allOf: undefined })
  }
  return schema
}

const members = (doc: Document, schema: JsonSchemaObject): ReadonlyArray<JsonSchemaObject> => {
  const resolved = resolve(doc, schema)
  const anyOf = resolved.anyOf ?? resolved.oneOf
  return Array.isArray(anyOf) ? anyOf.filter(isRecord).flatMap((member) => members(doc, member)) : [resolved]
}

const propertiesOf = (doc: Document, schema: JsonSchemaObject): ReadonlyArray<readonly [string, JsonSchemaObject]> => {
  const properties = resolve(doc, schema).properties
  return isRecord(properties) ? Object.entries(properties).flatMap(([name, value]) => isRecord(value) ? [[name, value] as const] : []) : []
}

const requiredOf = (doc: Document, schema: JsonSchemaObject): ReadonlyArray<string> => {
  const required = resolve(doc, schema).required
  return Array.isArray(required) ? required.filter((name): name is string => typeof name === "string") : []
}

const typeOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value === "number" ? (Number.isInteger(value) ? "integer" : "number") : typeof value

/** Whether `value` breaks what the document says of it (loosely: type, format, pattern, lengths, bounds, enum). */
const breaks = (doc: Document, schema: JsonSchemaObject, value: unknown): boolean =>
  members(doc, schema).every((member) => {
    const type = member.type
    const actual = typeOf(value)
    if (typeof type === "string" && type !== actual && !(type === "number" && actual === "integer")) return true
    if (Array.isArray(member.enum) && !member.enum.includes(value)) return true
    if (typeof value === "string") {
      const length = [...value].length
      if (member.format === "uuid" && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return true
      if (typeof member.pattern === "string" && !new RegExp(member.pattern, "u").test(value)) return true
      if (typeof member.maxLength === "number" && length > member.maxLength) return true
      if (typeof member.minLength === "number" && length < member.minLength) return true
    }
    if (typeof value === "number") {
      if (typeof member.minimum === "number" && value < member.minimum) return true
      if (typeof member.maximum === "number" && value > member.maximum) return true
    }
    return false
  })

// ---------------------------------------------------------------------------------------------------
// Valid values, by name; everything else is derived from the schema

interface World {
  readonly owner: string
  readonly stranger: string
  readonly chatId: string
  readonly conversationId: string
  readonly categoryId: string
  readonly orderId: string
  readonly exportId: string
}

/** Example valid values by parameter or property name; `owned` ones belong to the owner (a stranger gets 404). */
const examples = (world: World): Record<string, { readonly value: unknown; readonly owned?: boolean }> => ({
  chat_id: { value: world.chatId, owned: true },
  conversation_id: { value: world.conversationId, owned: true },
  category_id: { value: world.categoryId },
  order_id: { value: world.orderId, owned: true },
  export_id: { value: world.exportId, owned: true },
  erasure_id: { value: randomUUID() },
  // Not the owner's: every malformed erasure is refused, and the owner is erased only by the last, valid call.
  confirm: { value: "not-this-account" },
  package_id: { value: "starter" },
  currency: { value: "USD" },
  question: { value: "Who has the shed key?" },
  display_name: { value: "Walked" },
  // Valid calls run after the malformed ones: false leaves the owner's chat private, so that its
  // public page is a 404 for everyone when that route is walked.
  enabled: { value: false },
  limit: { value: "5" },
  author: { value: "Ines Duarte" },
  q: { value: "key" },
  from: { value: "2021-01-01" },
  to: { value: "2031-12-31" }
})

/** A valid value for `name` of `schema`, from the table or else the schema; fails for one it cannot make. */
const exampleOf = (doc: Document, world: World, name: string, schema: JsonSchemaObject): unknown => {
  const known = examples(world)[name]
  if (known !== undefined) return known.value
  const [first] = members(doc, schema).filter((member) => member.type !== "null")
  if (first === undefined) return null
  if (Array.isArray(first.enum) && first.enum.length > 0) return first.enum[0]
  if (first.format === "uuid") return randomUUID()
  if (first.type === "boolean") return true
  if (first.type === "integer" || first.type === "number") return typeof first.minimum === "number" ? first.minimum : 1
  if (first.type === "array") return []
  if (first.type === "object") return Object.fromEntries(requiredOf(doc, first).map((key) => [key, exampleOf(doc, world, key, first)]))
  if (first.type === "string" && first.pattern === undefined) return "x".repeat(typeof first.minLength === "number" ? first.minLength : 1)
  return expect.fail(`add an example value for "${name}" (${JSON.stringify(first)}) to the table in openapi-walk.test.ts`)
}

const isOwned = (world: World, name: string) => examples(world)[name]?.owned === true

// ---------------------------------------------------------------------------------------------------
// Requests

interface Request {
  readonly label: string
  readonly path: string
  readonly query: ReadonlyArray<readonly [string, string]>
  readonly token: string | undefined
  readonly body?: string | Uint8Array
  readonly contentType?: string
}

/** The path with its parameters as given: values are sent as written (already encoded). */
const pathOf = (template: string, pathValues: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => pathValues[name] ?? "")

const leaks = [/\n\s+at /, /\bat \S+:\d+:\d+/, /node_modules/, /\.(ts|js|mjs):\d+/, /\bsql\b/i, /\bSELECT\b/, /\bINSERT INTO\b/, /\bFROM \w+ WHERE\b/]

/** What every reply must be, whatever was sent: no 5xx; a refusal in the one short error shape. */
const checkReply = (label: string, reply: Reply) => {
  const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body)
  expect(reply.status, `${label}: ${text.slice(0, 300)}`).toBeLessThan(500)
  if (reply.status < 400) return
  expect(reply.body, label).toMatchObject({
    error: { code: expect.any(String), message: expect.any(String), request_id: reply.headers["x-request-id"] }
  })
  // Beside those three, only the documented numbers of a 402 (what was required, what the balance was).
  const body = reply.body
  const error = typeof body === "object" && body !== null && "error" in body && typeof body.error === "object" ? body.error : null
  const extra = Object.keys(error ?? {}).filter((key) => !["code", "message", "request_id"].includes(key))
  expect(extra.filter((key) => !["required", "balance"].includes(key)), label).toEqual([])
  expect(text.length, `${label}: an error body is short`).toBeLessThan(1500)
  for (const leak of leaks) expect(text, `${label}: ${text}`).not.toMatch(leak)
}

/** `expected` is an exact status, "4xx", or "any" (not a 5xx; checked for every reply). */
type Expected = number | "4xx" | "any"

const expectStatus = (label: string, reply: Reply, expected: Expected) => {
  checkReply(label, reply)
  const text = JSON.stringify(reply.body).slice(0, 300)
  if (expected === "4xx") {
    expect(reply.status, `${label}: ${text}`).toBeGreaterThanOrEqual(400)
  } else if (typeof expected === "number") {
    expect(reply.status, `${label}: ${text}`).toBe(expected)
  }
}

// ---------------------------------------------------------------------------------------------------
// Malformed values

interface Malformed {
  readonly label: string
  /** As written on the wire (percent-encoded where it must be). */
  readonly wire: string
  /** As the server decodes it. */
  readonly decoded: string
  /** A status it must get whatever the schema, if any. */
  readonly always?: Expected
}

const malformedValues: ReadonlyArray<Malformed> = [
  { label: "a word", wire: "not-an-id", decoded: "not-an-id" },
  { label: "a negative number", wire: "-1", decoded: "-1" },
  { label: "a fraction", wire: "1.5", decoded: "1.5" },
  { label: "5,000 characters", wire: "x".repeat(5000), decoded: "x".repeat(5000) },
  { label: "NUL", wire: "a%00b", decoded: "a\u0000b", always: 400 },
  { label: "invalid UTF-8", wire: "%FF%FE%FD", decoded: "\uFFFD\uFFFD\uFFFD" },
  { label: "a broken percent-escape", wire: "%E0%A4%A", decoded: "%E0%A4%A" },
  { label: "a line longer than the server reads", wire: "y".repeat(20_000), decoded: "y".repeat(20_000), always: 431 }
]

// ---------------------------------------------------------------------------------------------------
// The walk

const group = new Uint8Array(readFileSync(new URL("./fixtures/whatsapp/android-24h-group.txt", import.meta.url)))

const multipart = (boundary: string, parts: ReadonlyArray<{ readonly name: string; readonly filename?: string; readonly content: string | Uint8Array }>, closed = true) =>
  Buffer.concat([
    ...parts.flatMap((part) => [
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="${part.name}"${part.filename === undefined ? "" : `; filename="${part.filename}"`}\r\n\r\n`
      ),
      Buffer.from(part.content),
      Buffer.from("\r\n")
    ]),
    Buffer.from(closed ? `--${boundary}--\r\n` : "")
  ])

const walk = (doc: Document, world: World, endpoint: Endpoint) =>
  Effect.gen(function*() {
    const { method, operation, path } = endpoint
    const name = `${method.toUpperCase()} ${path}`
    const secured = (operation.security ?? []).length > 0
    const parameters = operation.parameters ?? []
    const owned = parameters.some((parameter) => isOwned(world, parameter.name))
    const verb = verbs[method]

    const pathValues = (overrides: Record<string, string> = {}): Record<string, string> =>
      Object.fromEntries(parameters.filter((parameter) => parameter.in === "path").map((parameter) => [
        parameter.name,
        overrides[parameter.name] ?? encodeURIComponent(String(exampleOf(doc, world, parameter.name, parameter.schema)))
      ]))
    const queryValues = (overrides: Record<string, string> = {}): ReadonlyArray<readonly [string, string]> =>
      parameters.filter((parameter) => parameter.in === "query" && (parameter.required === true || parameter.name in overrides))
        .map((parameter) => [
          parameter.name,
          overrides[parameter.name] ?? encodeURIComponent(String(exampleOf(doc, world, parameter.name, parameter.schema)))
        ] as const)

    // The body: JSON, multipart, or none, with a valid example.
    const content = operation.requestBody?.content ?? {}
    const jsonSchema = Option.fromNullable(content["application/json"]?.schema)
    const formSchema = Option.fromNullable(content["multipart/form-data"]?.schema)
    const jsonExample = Option.map(jsonSchema, (schema) =>
      Object.fromEntries(requiredOf(doc, schema).map((key) => {
        const property = propertiesOf(doc, schema).find(([candidate]) => candidate === key)?.[1] ?? {}
        return [key, exampleOf(doc, world, key, property)]
      }))
    )
    const isFileField = (schema: JsonSchemaObject) => {
      const resolved = resolve(doc, schema)
      const items = isRecord(resolved.items) ? resolve(doc, resolved.items) : undefined
      return resolved.format === "binary" || items?.format === "binary"
    }
    const validBody = (): Pick<Request, "body" | "contentType"> =>
      Option.isSome(jsonExample)
        ? { body: JSON.stringify(jsonExample.value), contentType: "application/json" }
        : Option.isSome(formSchema)
        ? {
          body: multipart("walk", propertiesOf(doc, formSchema.value).filter(([, schema]) => isFileField(schema)).map(([field]) => ({
            name: field,
            filename: "chat.txt",
            content: group
          }))),
          contentType: "multipart/form-data; boundary=walk"
        }
        : {}

    const run = (request: Request, expected: Expected) =>
      Effect.gen(function*() {
        const reply = yield* send(verb, request.path + (request.query.length === 0 ? "" : `?${request.query.map(([k, v]) => `${k}=${v}`).join("&")}`), {
          ...(request.token === undefined ? {} : { token: request.token }),
          ...(request.body === undefined ? {} : { body: request.body }),
          ...(request.contentType === undefined ? {} : { contentType: request.contentType })
        }).pipe(
          // A request the server never answers is a failure of its own, named.
          Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error(`${name}, ${request.label}: no answer in 10 s`) }),
          Effect.orDie
        )
        expectStatus(`${name}, ${request.label}`, reply, expected)
        // And the document says this operation may answer so.
        expect(Object.keys(operation.responses), `${name}, ${request.label}: ${reply.status} is not documented`)
          .toContain(String(reply.status))
        return reply
      })

    const base = (label: string, token: string | undefined): Request => ({
      label,
      path: pathOf(path, pathValues()),
      query: queryValues(),
      token,
      ...validBody()
    })
    let requests = 0
    const count = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.tap(effect, () => Effect.sync(() => requests++))

    // Authentication: a missing, garbled, foreign or expired token is a 401.
    if (secured) {
      const forged = yield* tokenFor("walk-owner", { secret: Redacted.make("another-secret-that-is-long-enough-too") })
      const foreign = yield* tokenFor("walk-owner", { issuer: "someone-else" })
      const expired = yield* tokenFor("walk-owner", { expiresIn: Math.floor(Date.now() / 1000) - 60 })
      const tokens = [
        ["no token", undefined],
        ["a garbled token", "not.a.jwt"],
        ["a token signed with another key", forged],
        ["a token of another issuer", foreign],
        ["an expired token", expired]
      ] as const
      for (const [label, token] of tokens) {
        yield* count(run(base(label, token), 401))
      }
    }

    // Another user's resources are not found, whoever asks (a public page of a private chat too).
    const ownedInBody = Option.isSome(jsonExample) && Object.keys(jsonExample.value).some((key) => isOwned(world, key))
    if (owned || ownedInBody) {
      yield* count(run(base("another user's ids", secured ? world.stranger : undefined), 404))
    }

    // Each path and query parameter, malformed.
    for (const parameter of parameters.filter((each) => each.in === "path" || each.in === "query")) {
      for (const value of malformedValues) {
        const override = { [parameter.name]: value.wire }
        const request: Request = {
          ...base(`${parameter.in} ${parameter.name} as ${value.label}`, world.owner),
          path: pathOf(path, pathValues(parameter.in === "path" ? override : {})),
          query: queryValues(parameter.in === "query" ? override : {})
        }
        const expected = value.always ?? (breaks(doc, parameter.schema, value.decoded) ? "4xx" : "any")
        yield* count(run(request, expected))
      }
      if (parameter.in === "query") {
        yield* count(run({ ...base(`query ${parameter.name} twice`, world.owner), query: [...queryValues(), [parameter.name, "1"], [parameter.name, "2"]] }, "any"))
      }
    }

    // A JSON body, malformed.
    if (Option.isSome(jsonSchema) && Option.isSome(jsonExample)) {
      const schema = jsonSchema.value
      const valid = JSON.stringify(jsonExample.value)
      const json = (label: string, body: string | Uint8Array, contentType = "application/json"): Request => ({
        ...base(label, world.owner),
        body,
        contentType
      })
      yield* count(run(json("truncated JSON", valid.slice(0, Math.floor(valid.length / 2))), 400))
      yield* count(run(json("an empty body", ""), 400))
      yield* count(run(json("JSON that is an array", "[]"), 400))
      yield* count(run(json("JSON that is a string", "\"text\""), 400))
      yield* count(run(json("the body as text/plain", valid, "text/plain"), 415))
      yield* count(run(json("the body as a form", "a=1", "application/x-www-form-urlencoded"), 415))
      yield* count(run(json("JSON nested 10,000 deep", `${"[".repeat(10_000)}${"]".repeat(10_000)}`), 400))
      yield* count(run(json("an unknown property", JSON.stringify({ ...jsonExample.value, unexpected: "x" })), "any"))
      for (const [property, propertySchema] of propertiesOf(doc, schema)) {
        const withValue = (value: unknown) => JSON.stringify({ ...jsonExample.value, [property]: value })
        for (const value of [12345, -1, 1.5, true, "text", null, [], {}, { nested: ["x"] }]) {
          const expected = breaks(doc, propertySchema, value) ? "4xx" : "any"
          yield* count(run(json(`${property} as ${JSON.stringify(value)}`, withValue(value)), expected))
        }
        for (const [label, value] of [["100,000 characters", "z".repeat(100_000)], ["an empty string", ""]] as const) {
          yield* count(run(json(`${property} as ${label}`, withValue(value)), breaks(doc, propertySchema, value) ? "4xx" : "any"))
        }
        yield* count(run(json(`${property} with NUL`, withValue("a\u0000b")), 400))
        // Bytes that are not UTF-8 inside the string.
        const marker = "INVALID-UTF8-HERE"
        const [before = "", after = ""] = withValue(marker).split(marker)
        const bytes = Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(after)])
        yield* count(run(json(`${property} with invalid UTF-8`, new Uint8Array(bytes)), "any"))
      }
    }

    // A multipart body, malformed.
    if (Option.isSome(formSchema)) {
      const fields = propertiesOf(doc, formSchema.value)
      const fileFields = fields.filter(([, schema]) => isFileField(schema)).map(([field]) => field)
      const files = fileFields.map((field) => ({ name: field, filename: "chat.txt", content: group }))
      const form = (label: string, body: Uint8Array | string, contentType = "multipart/form-data; boundary=walk"): Request => ({
        ...base(label, world.owner),
        body: typeof body === "string" ? body : new Uint8Array(body),
        contentType
      })
      yield* count(run(form("the form as text/plain", "hello", "text/plain"), 415))
      yield* count(run(form("the form as JSON", "{}", "application/json"), 415))
      yield* count(run(form("multipart without a boundary", multipart("walk", files), "multipart/form-data"), 400))
      yield* count(run(form("multipart cut before its closing boundary", multipart("walk", files, false)), 400))
      yield* count(run(form("multipart with no parts", multipart("walk", [])), "4xx"))
      yield* count(run(form("multipart of garbage", "garbage without any boundary"), 400))
      yield* count(run(form("a file under another field name", multipart("walk", files.map((file) => ({ ...file, name: "other" })))), "4xx"))
      yield* count(run(form("a file of binary bytes and NUL", multipart("walk", files.map((file) => ({ ...file, content: new Uint8Array([0, 0xff, 0xfe, 0, 1, 2]) })))), "4xx"))
      for (const [field, fieldSchema] of fields.filter(([, schema]) => !isFileField(schema))) {
        const values: ReadonlyArray<{ readonly label: string; readonly content: string | Uint8Array; readonly decoded: string; readonly always?: Expected }> = [
          { label: "NUL", content: "a\u0000b", decoded: "a\u0000b", always: 400 },
          { label: "100,000 characters", content: "w".repeat(100_000), decoded: "w".repeat(100_000) },
          { label: "a word", content: "not-a-value", decoded: "not-a-value" },
          { label: "an empty string", content: "", decoded: "" },
          { label: "invalid UTF-8", content: new Uint8Array([0x61, 0xff, 0xfe, 0xc3]), decoded: "a\uFFFD\uFFFD\uFFFD" }
        ]
        for (const value of values) {
          const body = multipart("walk", [...files, { name: field, content: value.content }])
          const expected = value.always ?? (breaks(doc, fieldSchema, value.decoded) ? "4xx" : "any")
          yield* count(run(form(`field ${field} as ${value.label}`, body), expected))
        }
      }
    }
    // And the request as it should be, by the owner: the examples themselves are valid. A payment
    // webhook is valid only signed by its provider (payments-webhooks.test.ts sends those): unsigned, a 400.
    // The erasure is confirmed with the owner's id (the walk's owner has no email).
    const confirmed = path === "/api/users/delete-account" ? { body: JSON.stringify({ confirm: "walk-owner" }) } : {}
    const valid = yield* count(run({ ...base("valid, by its owner", world.owner), ...confirmed }, "any"))
    if (path.startsWith("/api/payments/webhooks/")) {
      expect(valid.body, `${name}, unsigned`).toMatchObject({ error: { code: "invalid_signature" } })
    } else {
      expect([400, 401, 415], `${name}, valid: ${JSON.stringify(valid.body).slice(0, 300)}`).not.toContain(valid.status)
    }
    return requests
  })

const fetchDocument = Effect.gen(function*() {
  const reply = yield* call("GET", "/docs/openapi.json")
  expect(reply.status).toBe(200)
  return yield* Schema.decodeUnknown(Document)(reply.body)
}).pipe(Effect.orDie)

/** The owner's chat and question, a stranger, and a category: everything the valid values name. */
const makeWorld = Effect.gen(function*() {
  const owner = yield* tokenFor("walk-owner")
  const stranger = yield* tokenFor("walk-stranger")
  for (const token of [owner, stranger]) expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
  const uploaded = yield* upload(owner, { name: "walk.txt", bytes: group })
  expect(uploaded.status).toBe(201)
  const chatId = Schema.decodeUnknownSync(Schema.Struct({ id: Schema.String }))(uploaded.body).id
  const asked = yield* call("POST", "/api/rag/query", { token: owner, json: { chat_id: chatId, question: "Who has the shed key?" } })
  expect(asked.status).toBe(200)
  const conversationId = Schema.decodeUnknownSync(Schema.Struct({ conversation_id: Schema.String }))(asked.body).conversation_id
  const categories = yield* call("GET", "/api/categories")
  const categoryId = Schema.decodeUnknownSync(Schema.Struct({ data: Schema.NonEmptyArray(Schema.Struct({ id: Schema.String })) }))(categories.body)
    .data[0].id
  const ordered = yield* call("POST", "/api/payments/orders", { token: owner, json: { package_id: "starter", provider: "stripe" } })
  expect(ordered.status).toBe(201)
  const orderId = Schema.decodeUnknownSync(Schema.Struct({ id: Schema.String }))(ordered.body).id
  const exported = yield* call("POST", "/api/users/export", { token: owner })
  expect(exported.status).toBe(202)
  const exportId = Schema.decodeUnknownSync(Schema.Struct({ id: Schema.String }))(exported.body).id
  return { owner, stranger, chatId, conversationId, categoryId, orderId, exportId }
})

// Rate limits off: the walk sends hundreds of requests as one user, and is about what each one gets.
// Payments on, against the providers' doubles, so that their routes are walked as they really serve.
const WalkedApp = Layer.unwrapScoped(
  Effect.map(startDoubles, (doubles) => TestAppOnNodeServer({ RATE_LIMITS: "false", ...paymentsEnv(doubles) }))
)

layer(WalkedApp, { excludeTestServices: true })("the OpenAPI document, walked", (it) => {
  it.effect("every operation refuses what it cannot take with a 4xx in the one error shape, never a 5xx", () =>
    Effect.gen(function*() {
      const doc = yield* fetchDocument
      const world = yield* makeWorld
      const endpoints = endpointsOf(doc)
      expect(endpoints.length).toBeGreaterThan(15)
      // Deleting first would leave the others nothing to read: deletions go last, and erasing the
      // owner's account (after which every token of it is refused) last of all.
      const erasure = (e: Endpoint) => e.path === "/api/users/delete-account"
      const ordered = [
        ...endpoints.filter((e) => e.method !== "delete"),
        ...endpoints.filter((e) => e.method === "delete" && !erasure(e)),
        ...endpoints.filter(erasure)
      ]
      let total = 0
      for (const endpoint of ordered) total += yield* walk(doc, world, endpoint)
      expect(total).toBeGreaterThan(300)
    }), 120_000)
})
