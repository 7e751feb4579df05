/**
 * What a test file runs against: its own fresh database copied from the migrated template (PostgreSQL
 * or PGlite, see globalSetup.ts), the real HTTP application on a random port, and a client for it.
 */
import { PGlite } from "@electric-sql/pglite"
import { HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { readFile } from "node:fs/promises"
import * as Pg from "pg"
import { expect, inject } from "vitest"
import { signToken } from "../../src/Auth.js"
import { WorkerLive } from "../../src/Background.js"
import { DatabaseConfig } from "../../src/Config.js"
import { DatabaseOnPool } from "../../src/Database.js"
import { pgliteOptions } from "../../src/Database/Embedded.js"
import * as Pool from "../../src/Database/Pool.js"
import { HttpAppLive } from "../../src/Http.js"
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

export interface UploadFile {
  readonly name: string
  readonly bytes: Uint8Array
}

/** POST /api/chats/upload as multipart/form-data: the `file` part (when given) and text fields. */
export const upload = (token: string, file: UploadFile | undefined, fields: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const form = new FormData()
    for (const [key, value] of Object.entries(fields)) form.append(key, value)
    if (file !== undefined) form.append("file", new Blob([Buffer.from(file.bytes)]), file.name)
    const request = HttpClientRequest.post("/api/chats/upload").pipe(
      HttpClientRequest.bearerToken(token),
      HttpClientRequest.bodyFormData(form)
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
