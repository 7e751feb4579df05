/** Service discovery and health: `/`, `/health` (503 when the database is down) and the pool's counters. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"

const Check = Schema.Struct({
  status: Schema.Literal("up", "down"),
  backend: Schema.Literal("postgres", "pglite"),
  latency_ms: Schema.Number
})

const WorkerCheck = Schema.Struct({
  status: Schema.Literal("running", "draining", "absent"),
  in_flight: Schema.Int,
  backlog: Schema.NullOr(Schema.Struct({ due: Schema.Int, running: Schema.Int, failed: Schema.Int }))
})

const reportFields = {
  version: Schema.String,
  uptime_seconds: Schema.Int,
  checks: Schema.Struct({
    database: Check,
    worker: WorkerCheck,
    vector: Schema.Struct({ status: Schema.Literal("up", "down"), backend: Schema.Literal("postgres", "qdrant", "memory") }),
    llm: Schema.Struct({ mode: Schema.Literal("gemini", "offline"), embedder: Schema.String })
  })
}

/** The database answers: 200. */
export const HealthReport = Schema.Struct({ status: Schema.Literal("ok"), ...reportFields })
  .annotations({ identifier: "HealthReport" })

/** The database does not answer: 503, with the same report. */
export const UnhealthyReport = Schema.Struct({ status: Schema.Literal("unavailable"), ...reportFields })
  .annotations({ identifier: "UnhealthyReport" })

export const PoolStats = Schema.Struct({
  backend: Schema.Literal("postgres", "pglite"),
  size: Schema.Int,
  max: Schema.Int,
  total: Schema.Int,
  idle: Schema.Int,
  in_use: Schema.Int,
  waiting: Schema.Int
}).annotations({ identifier: "PoolStats" })

export const ServiceInfo = Schema.Struct({
  name: Schema.String,
  version: Schema.String,
  docs: Schema.String,
  openapi: Schema.String,
  health: Schema.String
}).annotations({ identifier: "ServiceInfo" })

export class HealthApi extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("root", "/").addSuccess(ServiceInfo))
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(HealthReport)
      .addSuccess(UnhealthyReport, { status: 503 })
  )
  .add(HttpApiEndpoint.get("pool", "/health/db-pool").addSuccess(PoolStats))
  .annotate(OpenApi.Title, "Health")
  .annotate(OpenApi.Description, "Service information and health checks")
{}
