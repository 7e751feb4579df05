/**
 * What a test file runs against: its own fresh database copied from the migrated template (PostgreSQL
 * or PGlite, see globalSetup.ts), the real HTTP application on a random port, and a client for it.
 */
import { PGlite } from "@electric-sql/pglite"
import { HttpClient, HttpClientRequest, type HttpClientResponse, type HttpMethod, HttpServer } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { ConfigProvider, Effect, HashMap, Layer, Logger, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { readFile } from "node:fs/promises"
import * as Pg from "pg"
import { expect, inject } from "vitest"
import { signToken } from "../../src/Auth.js"
import { WorkerLive } from "../../src/Background.js"
import { makeClient } from "../../src/Client.js"
import { DatabaseConfig } from "../../src/Config.js"
import { DatabaseOnPool } from "../../src/Database.js"
import { pgliteOptions } from "../../src/Database/Embedded.js"
import * as Pool from "../../src/Database/Pool.js"
import { HttpAppLive } from "../../src/Http.js"
import { nodeServerOn } from "../../src/Http/NodeServer.js"
import { withDatabase } from "./backend.js"

export const backend = inject("backend")
export const onPostgres = backend.kind === "postgres"
/** Why a test that needs a real PostgreSQL server did not run. */
export const needsPostgres = onPostgres ? "" : `needs a real PostgreSQL server: ${backend.kind === "pglite" ? backend.reason : ""}`

export const testSecret = Redacted.make("test-secret-that-is-long-enough-for-hs256")
export const issuer = "chatsight-test"
export const audience = "chatsight-api"

const defaults: Record<string, string> = {
  DB_MIGRATE: "false",
  AUTH_JWT_SECRET: Redacted.value(testSecret),
  AUTH_ISSUER: issuer,
  AUTH_AUDIENCE: audience,
  WELCOME_CREDITS: "10",
  LOG_LEVEL: "Info"
}

/** Configuration as the environment would give it, with the tests' defaults. */
export const TestConfig = (overrides: Record<string, string> = {}) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ ...defaults, ...overrides }))))

/** Creates an empty database on the test server (or a copy of the migrated template) and drops it afterwards. */
export const scratchDatabase = (options: { readonly fromTemplate: boolean }) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      if (backend.kind !== "postgres") throw new Error("scratchDatabase needs PostgreSQL")
      const name = `test_${randomUUID().replaceAll("-", "").slice(0, 20)}`
      const admin = new Pg.Client({ connectionString: backend.adminUrl })
      await admin.connect()
      await admin.query(`CREATE DATABASE "${name}"${options.fromTemplate ? ` TEMPLATE "${backend.template}"` : ""}`)
      await admin.end()
      return { name, url: withDatabase(backend.adminUrl, name) }
    }),
    ({ name }) =>
      Effect.promise(async () => {
        if (backend.kind !== "postgres") return
        const admin = new Pg.Client({ connectionString: backend.adminUrl })
        await admin.connect()
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
        await admin.end()
      })
  )

/** A PGlite instance loaded from the migrated template, closed with the scope. */
export const templatePglite = Effect.acquireRelease(
  Effect.promise(async () => {
    if (backend.kind !== "pglite") throw new Error("templatePglite needs the PGlite backend")
    const loadDataDir = new Blob([await readFile(backend.templateFile)])
    return PGlite.create({ loadDataDir, ...pgliteOptions })
  }),
  (db) => Effect.promise(() => db.close())
)

/** A pool on a fresh copy of the migrated template. */
export const TestPool = Layer.scoped(
  Pool.PgPool,
  Effect.gen(function*() {
    const settings = yield* DatabaseConfig
    if (backend.kind === "postgres") {
      const { url } = yield* scratchDatabase({ fromTemplate: true })
      return yield* Pool.postgres(Redacted.make(url), settings)
    }
    return yield* Pool.pglite(yield* templatePglite, settings)
  }).pipe(Effect.orDie)
)

/** `Database` (and the SQL client and pool) on a fresh database. */
export const TestDatabase = (config: Record<string, string> = {}) =>
  DatabaseOnPool.pipe(Layer.provideMerge(TestPool), Layer.provide(TestConfig(config)))

/**
 * The whole HTTP application on a random port, an `HttpClient` aimed at it, and its `Database`.
 * Use it with `layer(TestApp(), { excludeTestServices: true })`: the server's retries sleep on the
 * real clock, and under the TestClock they would wait forever.
 */
export const TestApp = (config: Record<string, string> = {}) =>
  HttpAppLive.pipe(
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provideMerge(DatabaseOnPool.pipe(Layer.provideMerge(TestPool))),
    Layer.provide(TestConfig(config))
  )

/** The application with the worker running every registered job kind, polling often (TestApp alone runs no jobs). */
export const TestAppWithWorker = (config: Record<string, string> = {}) => {
  const all = { WORKER_POLL_INTERVAL: "100 millis", WORKER_SHUTDOWN_GRACE: "2 seconds", ...config }
  return WorkerLive.pipe(Layer.provide(TestConfig(all)), Layer.provideMerge(TestApp(all)))
}

/**
 * `TestApp` on the server `main.ts` runs (src/Http/NodeServer.ts: its timeouts, and the answers it
 * writes beneath the application), on a random port of 127.0.0.1, with an `HttpClient` aimed at it.
 */
export const TestAppOnNodeServer = (config: Record<string, string> = {}) =>
  HttpAppLive.pipe(
    Layer.provideMerge(
      HttpServer.layerTestClient.pipe(
        Layer.provide(NodeHttpClient.layerWithoutAgent),
        Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: false })),
        Layer.provideMerge(nodeServerOn({ host: "127.0.0.1", port: 0 }))
      )
    ),
    Layer.provideMerge(DatabaseOnPool.pipe(Layer.provideMerge(TestPool))),
    Layer.provide(TestConfig(config))
  )

/** The port the application under test listens on (for raw connections). */
export const serverPort = Effect.flatMap(HttpServer.HttpServer, (server) =>
  server.address._tag === "TcpAddress"
    ? Effect.succeed(server.address.port)
    : Effect.dieMessage("the test server listens on a Unix socket"))

export interface LogLine {
  readonly message: string
  readonly level: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** A logger keeping every line, its first message part and its annotations, in `lines`. */
export const collectingLogger = (lines: Array<LogLine>) =>
  Logger.make(({ annotations, logLevel, message }) => {
    const parts: ReadonlyArray<unknown> = Array.isArray(message) ? message : [message]
    lines.push({ message: String(parts[0]), level: logLevel.label, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
  })

/** A token as the identity provider of the tests would sign it. */
export const tokenFor = (
  sub: string,
  options: {
    readonly email?: string
    readonly name?: string
    readonly expiresIn?: string | number
    readonly issuer?: string
    readonly audience?: string
    readonly secret?: Redacted.Redacted
  } = {}
) =>
  signToken(options.secret ?? testSecret, { sub, email: options.email, name: options.name }, {
    issuer: options.issuer ?? issuer,
    audience: options.audience ?? audience,
    ...(options.expiresIn === undefined ? {} : { expiresIn: options.expiresIn })
  })

/**
 * The typed client of the API (src/Client.ts), sending `token` when given, over the `HttpClient` that
 * `TestApp` aims at the application under test (so it needs no base URL).
 */
export const client = (token?: string) => makeClient({ token })

/**
 * A refusal as the typed client receives it: the request fails with the error tagged `tag` (one the
 * endpoint can fail with), whose message contains each of `mentions`. Returns that error.
 */
export const rejected = <A, E extends { readonly _tag: string; readonly message: string }, R, Tag extends E["_tag"]>(
  request: Effect.Effect<A, E, R>,
  tag: Tag,
  ...mentions: ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    const outcome = yield* Effect.either(request)
    if (outcome._tag === "Right") {
      return yield* Effect.dieMessage(`expected ${tag}, got a success: ${JSON.stringify(outcome.right).slice(0, 400)}`)
    }
    const error = outcome.left
    expect(error._tag, error.message).toBe(tag)
    for (const words of mentions) expect(error.message).toContain(words)
    return error
  })

export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

/** The one error body, whose request id is the response's own. */
export const errorShape = (code: string, reply: Reply, message?: string) => ({
  error: {
    code,
    message: message === undefined ? expect.any(String) : message,
    request_id: reply.headers["x-request-id"]
  }
})

/** Checks a refusal: its status, the one error body with its code, and words of its message. */
export const refused = (reply: Reply, status: number, code: string, ...mentions: ReadonlyArray<string>) => {
  expect(reply.status, JSON.stringify(reply.body).slice(0, 400)).toBe(status)
  expect(reply.body).toEqual(errorShape(code, reply))
  for (const words of mentions) expect(JSON.stringify(reply.body)).toContain(words)
}

/** Reads a whole reply: status, headers, and the body as JSON when it is JSON. */
const readReply = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(response.text, (text): Reply => {
    let body: unknown = text
    try {
      body = text.length === 0 ? null : JSON.parse(text)
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body }
  })

/** Sends a request to the application under test and reads the whole reply. */
export const call = (
  method: "GET" | "POST" | "PUT" | "DELETE" | "OPTIONS",
  path: string,
  options: { readonly token?: string; readonly json?: unknown; readonly body?: string; readonly headers?: Record<string, string> } = {}
) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(path).pipe(HttpClientRequest.setHeaders(options.headers ?? {}))
    if (options.token !== undefined) request = HttpClientRequest.bearerToken(request, options.token)
    if (options.json !== undefined) request = yield* HttpClientRequest.bodyJson(request, options.json)
    if (options.body !== undefined) request = HttpClientRequest.bodyText(request, options.body, "application/json")
    return yield* readReply(yield* client.execute(request))
  }).pipe(Effect.scoped, Effect.orDie)

/**
 * Sends any method with any body (text or bytes, of any content type, or none) and reads the whole
 * reply; for requests `call` would not make (a body that is not JSON, invalid UTF-8).
 */
export const send = (
  method: HttpMethod.HttpMethod,
  path: string,
  options: {
    readonly token?: string
    readonly headers?: Record<string, string>
    readonly body?: string | Uint8Array
    readonly contentType?: string
  } = {}
) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(path).pipe(
      HttpClientRequest.setHeaders(options.headers ?? {})
    )
    if (options.token !== undefined) request = HttpClientRequest.bearerToken(request, options.token)
    const contentType = options.contentType ?? "application/json"
    if (typeof options.body === "string") request = HttpClientRequest.bodyText(request, options.body, contentType)
    if (options.body instanceof Uint8Array) request = HttpClientRequest.bodyUint8Array(request, options.body, contentType)
    return yield* readReply(yield* client.execute(request))
  }).pipe(Effect.scoped, Effect.orDie)

export interface UploadFile {
  readonly name: string
  readonly bytes: Uint8Array
}

/** The multipart form of an upload: text fields, then the `file` part (when given). */
export const uploadForm = (file: UploadFile | undefined, fields: Record<string, string> = {}): FormData => {
  const form = new FormData()
  for (const [key, value] of Object.entries(fields)) form.append(key, value)
  if (file !== undefined) form.append("file", new Blob([Buffer.from(file.bytes)]), file.name)
  return form
}

/** POST /api/chats/upload as multipart/form-data: the `file` part (when given) and text fields. */
export const upload = (token: string, file: UploadFile | undefined, fields: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const request = HttpClientRequest.post("/api/chats/upload").pipe(
      HttpClientRequest.bearerToken(token),
      HttpClientRequest.bodyFormData(uploadForm(file, fields))
    )
    return yield* readReply(yield* client.execute(request))
  }).pipe(Effect.scoped, Effect.orDie)

/** Polls `probe` until `done` holds; dies after 30 s (a bound, not a timing assertion). */
export const waitFor = <A, E, R>(description: string, probe: Effect.Effect<A, E, R>, done: (a: A) => boolean) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 30_000
    while (true) {
      const value = yield* probe
      if (done(value)) return value
      if (Date.now() > deadline) return yield* Effect.dieMessage(`Timed out waiting for ${description}`)
      yield* Effect.sleep("50 millis")
    }
  })
