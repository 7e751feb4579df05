/** Starts the server: configuration from the environment, embedded defaults for everything unset. */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { DatabaseLive } from "./Database.js"
import { HttpAppLive } from "./Http.js"
import { NodeServerLive } from "./Http/NodeServer.js"
import { LoggingLive } from "./Logging.js"
import { TracingLive } from "./Tracing.js"
import { ChartBackfillLive, EmbedMissingLive, MaintenanceLive, PaymentsReconcileLive, WorkerLive } from "./Background.js"
import { LlmLive } from "./Llm/Live.js"
import { orOneLineFailure, StartupReportLive } from "./Startup.js"
import { VectorLive } from "./Vector/Live.js"

// No parsing thread is started at boot: it is a second isolate holding the parser's code (100 MB or more
// resident, for an instance that may never see an upload); the first upload starts it (about a second).
// The worker is built before the HTTP server (health reports it), so on shutdown the server stops
// first, then the worker drains, then the pool closes.
const MainLive = Layer.mergeAll(HttpAppLive.pipe(Layer.provide(NodeServerLive)), EmbedMissingLive, ChartBackfillLive, PaymentsReconcileLive, MaintenanceLive).pipe(
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
