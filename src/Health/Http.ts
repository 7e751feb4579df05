/** Handlers of the health group. */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { version } from "../Domain/Version.js"
import { Health } from "../Health.js"

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
      // The contract answers 200 or 503 by the report's status.
      .handle("health", () => health.report)
      .handle("pool", () => health.pool)
  })).pipe(Layer.provide(Health.Default))
