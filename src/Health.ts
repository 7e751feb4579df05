/** Health: whether each dependency answers, and the pool's counters. */
import { Clock, Effect } from "effect"
import { Database } from "./Database.js"
import packageJson from "../package.json" with { type: "json" }

export const version = packageJson.version

export class Health extends Effect.Service<Health>()("chatsight/Health", {
  effect: Effect.gen(function*() {
    const db = yield* Database
    const startedAt = yield* Clock.currentTimeMillis

    const report = Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const up = yield* db.ping("2 seconds")
      const now = yield* Clock.currentTimeMillis
      const { backend } = yield* db.poolStats
      return {
        status: up ? "ok" as const : "unavailable" as const,
        version,
        uptime_seconds: Math.floor((now - startedAt) / 1000),
        checks: {
          database: { status: up ? "up" as const : "down" as const, backend, latency_ms: now - start }
        }
      }
    }).pipe(Effect.withSpan("Health.report"))

    return { report, pool: db.poolStats } as const
  })
}) {}
