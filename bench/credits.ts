/**
 * `npm run bench`: credit charges on PostgreSQL, uncontended (many users) and contended (one user),
 * through the real `Credits` service with its lock retry. Prints throughput and latency percentiles.
 * Uses BENCH_DATABASE_URL (default: the local server) and a scratch database it drops afterwards.
 */
import { NodeRuntime } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Chunk, Clock, ConfigProvider, Console, Effect, Either, Layer, Logger, LogLevel } from "effect"
import { Credits } from "../src/Credits.js"
import { DatabaseOnPool } from "../src/Database.js"
import { percentile, scratchPool, withScratchDatabase } from "./support.js"

const database = `chatsight_bench_${process.pid}`

const tagOf = (error: unknown) =>
  typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "error"

const run = (label: string, count: number, concurrency: number, op: (i: number) => Effect.Effect<unknown, unknown>) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const results = yield* Effect.forEach(
      Chunk.range(0, count - 1),
      (i) =>
        Effect.gen(function*() {
          const t0 = performance.now()
          const outcome = yield* Effect.either(op(i))
          return { ms: performance.now() - t0, ok: Either.isRight(outcome), tag: Either.isLeft(outcome) ? tagOf(outcome.left) : "ok" }
        }),
      { concurrency }
    )
    const elapsed = ((yield* Clock.currentTimeMillis) - started) / 1000
    const latencies = results.map((r) => r.ms).sort((a, b) => a - b)
    const outcomes = results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.tag]: (acc[r.tag] ?? 0) + 1 }), {})
    yield* Console.log(
      `${label.padEnd(34)} ${String(count).padStart(6)} ops  ${(count / elapsed).toFixed(0).padStart(6)} ops/s  ` +
        `p50 ${percentile(latencies, 50).toFixed(1)} ms  p95 ${percentile(latencies, 95).toFixed(1)} ms  ` +
        `p99 ${percentile(latencies, 99).toFixed(1)} ms  ${JSON.stringify(outcomes)}`
    )
  })

const bench = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const credits = yield* Credits
  const users = 200
  yield* sql`INSERT INTO users (id, credit_balance) SELECT 'bench-' || g, 0 FROM generate_series(1, ${users}) g`
  yield* Effect.forEach(Chunk.range(1, users), (i) =>
    credits.grant({ userId: `bench-${i}`, amount: 1000, reference: "seed", description: "bench" }), { concurrency: 10 })

  yield* Console.log(`Credits on PostgreSQL (pool of 15), ${users} users`)
  yield* run("charge, 200 users, concurrency 15", 4000, 15, (i) =>
    credits.charge({ userId: `bench-${(i % users) + 1}`, amount: 1, reference: `u-${i}`, description: "bench" }))
  yield* run("charge, 1 user, concurrency 15", 400, 15, (i) =>
    credits.charge({ userId: "bench-1", amount: 1, reference: `c-${i}`, description: "bench" }))
  yield* run("repeated reference (no-op)", 2000, 15, (i) =>
    credits.charge({ userId: `bench-${(i % users) + 1}`, amount: 1, reference: `u-${i % users}`, description: "bench" }))
  const audit = yield* credits.audit("bench-1")
  yield* Console.log(`balance of bench-1: stored ${audit.stored}, ledger ${audit.ledger}`)
})

const program = withScratchDatabase(
  database,
  bench.pipe(
    Effect.provide(Credits.Default.pipe(Layer.provideMerge(DatabaseOnPool), Layer.provide(scratchPool(database)))),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["LOCK_RETRY_MAX", "10"]]))),
    Logger.withMinimumLogLevel(LogLevel.Error)
  )
)

NodeRuntime.runMain(program)
