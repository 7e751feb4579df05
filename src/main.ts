/** Starts the server: configuration from the environment, embedded defaults for everything unset. */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { DatabaseLive } from "./Database.js"
import { HttpAppLive } from "./Http.js"
import { NodeServerLive } from "./Http/NodeServer.js"
import { LoggingLive } from "./Logging.js"
import { TracingLive } from "./Tracing.js"
import { EmbedMissingLive, WorkerLive } from "./Background.js"
import { ParserThreads } from "./Ingest/ParserThreads.js"
import { LlmLive } from "./Llm/Live.js"
import { orOneLineFailure, StartupReportLive } from "./Startup.js"
import { VectorLive } from "./Vector/Live.js"

/** Starts a parsing thread at boot, so the first upload does not wait for one. */
const WarmParserLive = Layer.effectDiscard(Effect.flatMap(ParserThreads, (threads) => threads.warm)).pipe(
  Layer.provide(ParserThreads.Default)
)

// The worker is built before the HTTP server (health reports it), so on shutdown the server stops
// first, then the worker drains, then the pool closes.
const MainLive = Layer.mergeAll(HttpAppLive.pipe(Layer.provide(NodeServerLive)), WarmParserLive, EmbedMissingLive).pipe(
  // Once everything else is up: one line on how this instance runs.
  Layer.flatMap(() => StartupReportLive.pipe(Layer.provide([LlmLive, VectorLive]))),
  Layer.provide(WorkerLive),
  Layer.provide(DatabaseLive),
  Layer.provide(TracingLive)
)

NodeRuntime.runMain(Layer.launch(MainLive).pipe(orOneLineFailure, Effect.provide(LoggingLive)), {
  disablePrettyLogger: true,
  disableErrorReporting: true
})
