/**
 * Health: whether each dependency answers (database, vector store), the language model in use, the
 * worker's state and backlog, and the pool's counters. Only the database decides 200 or 503: without
 * it nothing works, while the others degrade single features.
 */
import { Clock, Effect, Option } from "effect"
import { Database } from "./Database.js"
import { Llm } from "./Llm.js"
import { Vector } from "./Vector.js"
import { Worker } from "./Worker.js"
import { Jobs } from "./Worker/Jobs.js"
import { version } from "./Domain/Version.js"

export class Health extends Effect.Service<Health>()("chatsight/Health", {
  effect: Effect.gen(function*() {
    const db = yield* Database
    const jobs = yield* Jobs
    // An instance may serve HTTP without running background jobs (tests, or a web-only deployment).
    const worker = yield* Effect.serviceOption(Worker)
    const vector = yield* Vector
    const llm = yield* Llm
    const startedAt = yield* Clock.currentTimeMillis

    const workerCheck = Effect.gen(function*() {
      if (Option.isNone(worker)) return { status: "absent" as const, in_flight: 0, backlog: null }
      const draining = yield* worker.value.draining
      const inFlight = yield* worker.value.inFlight
      const backlog = yield* jobs.backlog.pipe(Effect.option)
      return {
        status: draining ? "draining" as const : "running" as const,
        in_flight: inFlight.length,
        backlog: Option.getOrNull(backlog)
      }
    })

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
          database: { status: up ? "up" as const : "down" as const, backend, latency_ms: now - start },
          worker: up ? yield* workerCheck : { status: Option.isSome(worker) ? "running" as const : "absent" as const, in_flight: 0, backlog: null },
          vector: yield* vector.health,
          // Not called here: a health probe should not spend model quota. Its failures show as 503s.
          llm: { mode: llm.mode, embedder: llm.embedder }
        }
      }
    }).pipe(Effect.withSpan("Health.report"))

    return { report, pool: db.poolStats } as const
  }),
  dependencies: [Jobs.Default]
}) {}
