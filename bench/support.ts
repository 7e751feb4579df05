/** What the benchmarks share: the server they run on, a scratch database dropped afterwards, percentiles. */
import { Effect, Layer, Redacted } from "effect"
import * as Pg from "pg"
import { DatabaseConfig } from "../src/Config.js"
import * as Pool from "../src/Database/Pool.js"

/** The PostgreSQL server benchmarks use: BENCH_DATABASE_URL, else the local one. */
export const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

/** The server's URL with another database name. */
export const withDatabase = (url: string, name: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

/** Runs one statement on the server's maintenance database. */
export const admin = async (statement: string) => {
  const client = new Pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await client.query(statement)
  } finally {
    await client.end()
  }
}

/** Creates `database` for the life of `use`, and drops it afterwards, also on failure or interruption. */
export const withScratchDatabase = <A, E, R>(database: string, use: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => admin(`CREATE DATABASE "${database}"`)),
    () => use,
    () => Effect.promise(() => admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`))
  )

/** A pool on `database` of the benchmark server, with the service's pool settings. */
export const scratchPool = (database: string) =>
  Layer.scoped(
    Pool.PgPool,
    Effect.flatMap(DatabaseConfig, (settings) => Pool.postgres(Redacted.make(withDatabase(adminUrl, database)), settings))
  )

/** The value at percentile `p` (nearest rank) of ascending `sorted`. */
export const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
