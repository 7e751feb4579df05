/** `npm run migrate`: applies pending migrations to the configured database, then exits. */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { SqlLive } from "../Database.js"
import { migrate } from "../Database/Migrations.js"
import * as Pool from "../Database/Pool.js"
import { LoggingLive } from "../Logging.js"

NodeRuntime.runMain(
  migrate().pipe(
    Effect.provide(SqlLive.pipe(Layer.provide(Pool.layer))),
    Effect.provide(LoggingLive)
  ),
  { disablePrettyLogger: true }
)
