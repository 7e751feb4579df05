/**
 * The application while its database is away: a TCP proxy sits between the pool and the database
 * (PostgreSQL, or PGlite served on a socket), and stopping it refuses every connection as a stopped
 * server would. Health says so, API calls fail with the one error body and nothing of the cause, and
 * when the database is back the same process serves again.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, HashMap, Layer, Logger, Option, Redacted } from "effect"
import { DatabaseConfig } from "../src/Config.js"
import { DatabaseOnPool } from "../src/Database.js"
import { serve } from "../src/Database/Embedded.js"
import * as Pool from "../src/Database/Pool.js"
import { HttpAppLive } from "../src/Http.js"
import { call, errorShape, onPostgres, scratchDatabase, TestConfig, templatePglite, tokenFor } from "./support/TestApp.js"
import { type TcpProxy, tcpProxy } from "./support/tcpProxy.js"

/** The proxy in front of the application's database. */
class DatabaseProxy extends Context.Tag("test/DatabaseProxy")<DatabaseProxy, TcpProxy>() {}

/**
 * A pool whose every connection goes through the proxy: on PostgreSQL to a fresh copy of the
 * migrated template, on PGlite to the template served on loopback.
 */
const ProxiedPool = Layer.scopedContext(
  Effect.gen(function*() {
    const settings = yield* DatabaseConfig
    const database = onPostgres
      ? yield* Effect.map(scratchDatabase({ fromTemplate: true }), ({ url }) => new URL(url))
      : yield* Effect.map(
        Effect.flatMap(templatePglite, serve),
        ({ host, port }) => new URL(`postgres://postgres@${host}:${port}/postgres`)
      )
    const proxy = yield* tcpProxy({ host: database.hostname, port: Number(database.port || "5432") })
    const throughProxy = new URL(database.toString())
    throughProxy.hostname = proxy.host
    throughProxy.port = String(proxy.port)
    const pool = yield* Pool.postgres(Redacted.make(throughProxy.toString()), settings)
    return Context.make(Pool.PgPool, pool).pipe(Context.add(DatabaseProxy, proxy))
  }).pipe(Effect.orDie)
)

interface LogLine {
  readonly message: string
  readonly level: string
  readonly requestId: string | undefined
  readonly text: string
}

/** Keeps every line the application logs, with its request id and everything it says. */
const collectingLogger = (lines: Array<LogLine>) =>
  Logger.make(({ annotations, cause, logLevel, message }) => {
    const parts: ReadonlyArray<unknown> = Array.isArray(message) ? message : [message]
    const requestId = HashMap.get(annotations, "requestId").pipe(
      Option.filter((value): value is string => typeof value === "string"),
      Option.getOrUndefined
    )
    const text = [
      ...parts.map((part) => part instanceof Error ? `${part.name}: ${part.message}` : String(part)),
      ...HashMap.toEntries(annotations).map(([key, value]) => `${key}=${String(value)}`),
      String(cause)
    ].join(" ")
    lines.push({ message: String(parts[0]), level: logLevel.label, requestId, text })
  })

const serverLog: Array<LogLine> = []

// On the live clock (`excludeTestServices`), as in production: request fibers inherit the services
// the layer was built with. PGlite serves one session at a time, so its pool holds one connection.
const App = HttpAppLive.pipe(
  Layer.provideMerge(NodeHttpServer.layerTest),
  Layer.provideMerge(DatabaseOnPool.pipe(Layer.provideMerge(ProxiedPool))),
  Layer.provide(Logger.replace(Logger.defaultLogger, collectingLogger(serverLog))),
  Layer.provide(TestConfig(onPostgres ? {} : { DB_POOL_SIZE: "1", DB_POOL_OVERFLOW: "0" }))
)

/** What a client must never be shown of a database failure. */
const internals = ["ECONNREFUSED", "SELECT", "at ", "pg", "Error:"]

layer(App, { excludeTestServices: true })("the database going away and coming back", (it) => {
  it.effect(
    "with the database stopped, /health answers 503 and an API call 500 database_error with its request id and no internals; once it is back the same process serves again",
    () =>
      Effect.gen(function*() {
        const proxy = yield* DatabaseProxy
        const token = yield* tokenFor("db-down-user")

        const created = yield* call("POST", "/api/users/store", { token })
        expect(created.status).toBe(200)
        const healthy = yield* call("GET", "/health")
        expect(healthy.status).toBe(200)
        expect(healthy.body).toMatchObject({ status: "ok", checks: { database: { status: "up" } } })

        yield* proxy.stop

        const down = yield* call("GET", "/health")
        expect(down.status).toBe(503)
        expect(down.body).toMatchObject({ status: "unavailable", checks: { database: { status: "down" } } })

        const failed = yield* call("GET", "/api/credits/balance", { token })
        expect(failed.status).toBe(500)
        const requestId = failed.headers["x-request-id"]
        expect(requestId).toEqual(expect.any(String))
        expect(failed.body).toEqual(errorShape("database_error", failed))
        const text = JSON.stringify(failed.body)
        for (const internal of internals) expect(text).not.toContain(internal)

        // What the client is not told is in the log, under the same request id.
        const logged = serverLog.filter((line) => line.requestId === requestId && line.message === "Database failure")
        expect(logged).toHaveLength(1)
        expect(logged[0]?.level).toBe("ERROR")
        // Refused, or cut off if the request took a connection the proxy had just closed.
        expect(logged[0]?.text).toMatch(/ECONNREFUSED|Connection terminated/)

        yield* proxy.start

        const recovered = yield* call("GET", "/health")
        expect(recovered.status).toBe(200)
        expect(recovered.body).toMatchObject({ status: "ok", checks: { database: { status: "up" } } })
        const balance = yield* call("GET", "/api/credits/balance", { token })
        expect(balance.status).toBe(200)
        expect(balance.body).toEqual({ user_id: "db-down-user", balance: 10 })
        const stranger = yield* call("GET", "/api/credits/balance", { token: yield* tokenFor("db-down-stranger") })
        expect(stranger.status).toBe(404)
        expect(stranger.body).toMatchObject({ error: { code: "not_found" } })
      })
  )
})
