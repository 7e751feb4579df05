/**
 * The `pg` pool under the `PgClient`, kept as a service so health checks read its real counters.
 * Against PostgreSQL it has the original service's settings (10 connections plus 5 overflow, 10 s
 * acquire timeout, 1 h recycle); against embedded PGlite it holds a single connection.
 */
import { Context, Duration, Effect, Layer, Option, Redacted } from "effect"
import * as Pg from "pg"
import { DatabaseConfig } from "../Config.js"
import { openPglite, serve } from "./Embedded.js"
import type { PGlite } from "@electric-sql/pglite"
import { join } from "node:path"

export interface PoolInfo {
  readonly pool: Pg.Pool
  readonly backend: "postgres" | "pglite"
  /** Connections kept by design; `max` adds the overflow on top. */
  readonly size: number
  readonly max: number
}

export class PgPool extends Context.Tag("chatsight/PgPool")<PgPool, PoolInfo>() {}

type Settings = Effect.Effect.Success<typeof DatabaseConfig>

const makePool = (settings: Settings, connection: Pg.PoolConfig, max: number) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const pool = new Pg.Pool({
        ...connection,
        max,
        connectionTimeoutMillis: Duration.toMillis(settings.acquireTimeout),
        idleTimeoutMillis: Duration.toMillis(settings.idleTimeout),
        maxLifetimeSeconds: Duration.toSeconds(settings.recycle),
        statement_timeout: Duration.toMillis(settings.statementTimeout),
        application_name: settings.applicationName
      })
      // Errors of idle clients (a restarted server, say) surface on the next query; without a
      // listener they would crash the process.
      pool.on("error", () => {})
      return pool
    }),
    (pool) => Effect.promise(() => pool.end()).pipe(Effect.timeoutOption("5 seconds"))
  )

/** A pool on PostgreSQL at `url`. */
export const postgres = (url: Redacted.Redacted, settings: Settings) =>
  Effect.map(
    makePool(settings, { connectionString: Redacted.value(url) }, settings.poolSize + settings.poolOverflow),
    (pool): PoolInfo => ({ pool, backend: "postgres", size: settings.poolSize, max: settings.poolSize + settings.poolOverflow })
  )

/** A one-connection pool on a PGlite instance, served on loopback for the life of the scope. */
export const pglite = (db: PGlite, settings: Settings) =>
  Effect.gen(function*() {
    const { host, port } = yield* serve(db)
    const pool = yield* makePool(settings, { host, port, user: "postgres", database: "postgres" }, 1)
    return { pool, backend: "pglite", size: 1, max: 1 } satisfies PoolInfo
  })

/** The pool the configuration asks for: PostgreSQL with `DATABASE_URL`, else PGlite under `DATA_DIR`. */
export const layer = Layer.scoped(
  PgPool,
  Effect.gen(function*() {
    const settings = yield* DatabaseConfig
    if (Option.isSome(settings.url)) {
      return yield* postgres(settings.url.value, settings)
    }
    const dataDir = join(settings.dataDir, "pgdata")
    yield* Effect.logInfo("No DATABASE_URL: using embedded PGlite").pipe(Effect.annotateLogs({ dataDir }))
    const db = yield* openPglite(dataDir, settings.embeddedSharedBuffers)
    return yield* pglite(db, settings)
  })
)
