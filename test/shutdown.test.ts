/**
 * Graceful shutdown of the real server process (`src/main.ts`, started as in production) on an empty
 * PostgreSQL database, which it migrates as it starts. SIGTERM arrives while a request is waiting for
 * a row lock: the server stops accepting connections, lets that request finish with a real reply,
 * closes its pool and exits 0.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { connect } from "node:net"
import * as Pg from "pg"
import {
  backend,
  needsPostgres,
  onPostgres,
  scratchDatabase,
  tokenFor
} from "./support/TestApp.js"
import { freePort, serverEnv, startServer } from "./support/serverProcess.js"

interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
}

/** One HTTP exchange with `fetch`; a failure to get any reply (refused, reset) is the error. */
const request = (url: string, init: { readonly method?: string; readonly token?: string } = {}) =>
  Effect.tryPromise({
    try: async (): Promise<Reply> => {
      const response = await fetch(url, {
        method: init.method ?? "GET",
        headers: init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }
      })
      const text = await response.text()
      let body: unknown = text
      try {
        body = text.length === 0 ? null : JSON.parse(text)
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body }
    },
    catch: (error) => error
  })

/** Whether a new TCP connection to the port is accepted, or the error code it is refused with. */
const connectOutcome = (port: number) =>
  Effect.promise(() =>
    new Promise<string>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port })
      socket.once("connect", () => {
        socket.destroy()
        resolve("connected")
      })
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    })
  )

/** Runs `check` every 100 ms until it returns true, at most `attempts` times; the last answer. */
const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, attempts: number) =>
  Effect.gen(function*() {
    for (let attempt = 1; attempt < attempts; attempt++) {
      if (yield* check) return true
      yield* Effect.sleep("100 millis")
    }
    return yield* check
  })

/** Open connections of the application (`application_name` 'chatsight') to `database`. */
const chatsightConnections = (adminUrl: string, database: string) =>
  Effect.promise(async () => {
    const admin = new Pg.Client({ connectionString: adminUrl })
    await admin.connect()
    try {
      const result = await admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'chatsight'",
        [database]
      )
      return result.rows[0]?.n ?? -1
    } finally {
      await admin.end()
    }
  })

interface LogLine {
  readonly message?: unknown
  readonly requestId?: unknown
  readonly path?: unknown
  readonly status?: unknown
}

const logLines = (output: string): ReadonlyArray<LogLine> =>
  output.split("\n").flatMap((line): Array<LogLine> => {
    try {
      const parsed: unknown = JSON.parse(line)
      return typeof parsed === "object" && parsed !== null ? [parsed] : []
    } catch {
      return []
    }
  })

const shutdownMessage = "Shutting down: no new connections; finishing in-flight requests"

// On the live clock (`excludeTestServices`): the test waits on a real process.
layer(Layer.empty, { excludeTestServices: true })("the server process on SIGTERM", (it) => {
  const name = "SIGTERM stops accepting, finishes the in-flight request, closes the pool and exits 0"
  it.effect.skipIf(!onPostgres)(onPostgres ? name : `${name} (${needsPostgres})`, () =>
    Effect.gen(function*() {
      if (backend.kind !== "postgres") return yield* Effect.die("needs PostgreSQL")
      const database = yield* scratchDatabase({ fromTemplate: false })
      const port = yield* freePort
      const server = yield* startServer({
        ...serverEnv(port, database.url),
        LOCK_RETRY_MAX: "6",
        LOCK_RETRY_BASE_DELAY: "100 millis"
      })
      const base = `http://127.0.0.1:${port}`
      const running = () => server.child.exitCode === null && server.child.signalCode === null

      // Up within 60 s, having migrated the empty database.
      const healthy = yield* eventually(
        request(`${base}/health`).pipe(
          Effect.map((reply) => reply.status === 200),
          Effect.orElseSucceed(() => false),
          Effect.map((up) => up || !running())
        ),
        600
      )
      expect(healthy && running(), server.output()).toBe(true)

      const userId = "shutdown-user"
      const token = yield* tokenFor(userId)
      const created = yield* request(`${base}/api/users/store`, { method: "POST", token })
      expect(created.status, server.output()).toBe(200)
      expect(created.body).toMatchObject({ id: userId, credit_balance: 10 })
      expect(yield* chatsightConnections(backend.adminUrl, database.name)).toBeGreaterThanOrEqual(1)

      // Another session holds the user's row, so the next store waits, retrying, in flight.
      const blocker = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const client = new Pg.Client({ connectionString: database.url, application_name: "shutdown-test-blocker" })
          await client.connect()
          return client
        }),
        (client) => Effect.promise(() => client.end())
      )
      yield* Effect.promise(() => blocker.query("BEGIN"))
      const held = yield* Effect.promise(() => blocker.query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", [userId]))
      expect(held.rowCount).toBe(1)

      const inFlight = yield* Effect.fork(Effect.either(request(`${base}/api/users/store`, { method: "POST", token })))
      const retrying = yield* eventually(
        Effect.sync(() => server.output().includes("Row lock busy; retrying the block")),
        100
      )
      expect(retrying, server.output()).toBe(true)

      expect(server.child.kill("SIGTERM")).toBe(true)
      const refusing = yield* eventually(Effect.map(connectOutcome(port), (outcome) => outcome === "ECONNREFUSED"), 100)
      expect(refusing, server.output()).toBe(true)
      expect(running(), "the request in flight keeps the server alive").toBe(true)

      yield* Effect.sleep("300 millis")
      yield* Effect.promise(() => blocker.query("ROLLBACK"))

      const outcome = yield* Fiber.join(inFlight)
      if (outcome._tag === "Left") {
        expect.fail(`the in-flight request got no reply: ${String(outcome.left)}\n${server.output()}`)
      } else {
        const reply = outcome.right
        if (reply.status === 200) {
          expect(reply.body).toMatchObject({ id: userId, credit_balance: 10, created: false })
        } else {
          expect(reply.status, server.output()).toBe(503)
          expect(reply.body).toMatchObject({ error: { code: "lock_timeout" } })
        }
      }

      const exit = yield* Effect.promise(() => server.exited).pipe(Effect.timeoutOption("40 seconds"))
      expect(exit._tag === "Some" ? exit.value : "still running after 40 s", server.output()).toEqual({
        code: 0,
        signal: null
      })
      // Its log, complete now, has the request served after the shutdown began.
      const lines = logLines(server.output())
      const shutdownAt = lines.findIndex((line) => line.message === shutdownMessage)
      const servedAt = lines.findIndex((line) =>
        line.message === "request" && outcome._tag === "Right" &&
        line.requestId === outcome.right.headers.get("x-request-id")
      )
      expect(shutdownAt, server.output()).toBeGreaterThanOrEqual(0)
      expect(servedAt, server.output()).toBeGreaterThan(shutdownAt)
      expect(yield* connectOutcome(port)).toBe("ECONNREFUSED")

      // The pool was closed: none of the application's sessions outlives it.
      const closed = yield* eventually(
        Effect.map(chatsightConnections(backend.adminUrl, database.name), (n) => n === 0),
        50
      )
      expect(closed, server.output()).toBe(true)
    }).pipe(Effect.scoped))
})
