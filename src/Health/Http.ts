/** Handlers of the health group. */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect, Layer, Schema } from "effect"
import { Api } from "../Api.js"
import { Health, version } from "../Health.js"
import { HealthReport } from "./Api.js"

export const HttpHealthLive = HttpApiBuilder.group(Api, "health", (handlers) =>
  Effect.gen(function*() {
    const health = yield* Health
    return handlers
      .handle("root", () =>
        Effect.succeed({
          name: "Chatsight",
          version,
          docs: "/docs",
          openapi: "/docs/openapi.json",
          health: "/health"
        }))
      .handle("health", () =>
        Effect.flatMap(health.report, (report): Effect.Effect<typeof HealthReport.Type | HttpServerResponse.HttpServerResponse> =>
          report.status === "ok"
            ? Effect.succeed(report)
            : Schema.encode(HealthReport)(report).pipe(
              Effect.flatMap((body) => HttpServerResponse.json(body, { status: 503 })),
              Effect.orDie
            )))
      .handle("pool", () => health.pool)
  })).pipe(Layer.provide(Health.Default))
