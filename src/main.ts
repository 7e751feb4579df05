/** Starts the server: configuration from the environment, embedded defaults for everything unset. */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { ServerConfig } from "./Config.js"
import { DatabaseLive } from "./Database.js"
import { HttpAppLive } from "./Http.js"
import { LoggingLive } from "./Logging.js"
import { TracingLive } from "./Tracing.js"

const ServerLive = Layer.unwrapEffect(
  Effect.map(ServerConfig, ({ host, port }) => NodeHttpServer.layer(createServer, { host, port }))
)

const MainLive = HttpAppLive.pipe(
  Layer.provide(ServerLive),
  Layer.provide(DatabaseLive),
  Layer.provide(TracingLive),
  Layer.provide(LoggingLive)
)

NodeRuntime.runMain(Layer.launch(MainLive), { disablePrettyLogger: true })
