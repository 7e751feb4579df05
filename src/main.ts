/** Starts the server: configuration from the environment, embedded defaults for everything unset. */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Layer } from "effect"
import { createServer } from "node:http"
import { ServerConfig } from "./Config.js"
import { DatabaseLive } from "./Database.js"
import { HttpAppLive } from "./Http.js"
import { LoggingLive } from "./Logging.js"
import { TracingLive } from "./Tracing.js"
import { JobHandlers, Jobs, Worker } from "./Worker.js"
import { PurgeChat } from "./Chats/Purge.js"
import { ChatsRepo } from "./Chats/Repo.js"
import { ParserThreads } from "./Ingest/Thread.js"
import { LlmLive } from "./Llm/Live.js"
import { EmbedChat, embedMissing } from "./Rag/Embedding.js"
import { RagRepo } from "./Rag/Repo.js"
import { VectorLive } from "./Vector/Live.js"
import type { Llm } from "./Llm.js"
import type { Vector } from "./Vector.js"

/**
 * Node's HTTP server. On shutdown it stops accepting and waits for in-flight requests (then the pool
 * closes); requests still running after SHUTDOWN_TIMEOUT have their connections closed.
 */
const ServerLive = Layer.unwrapEffect(
  Effect.map(ServerConfig, ({ host, port, shutdownTimeout }) => {
    const server = createServer()
    // Built after the server, so released before it: arms the deadline, then the server closes.
    const deadline = Layer.scopedDiscard(
      Effect.addFinalizer(() =>
        Effect.logInfo("Shutting down: no new connections; finishing in-flight requests").pipe(
          Effect.annotateLogs({ timeoutMs: Duration.toMillis(shutdownTimeout) }),
          Effect.zipRight(Effect.sync(() => {
            // A keep-alive connection that finishes its request becomes idle after `close` was
            // called; close those as they appear, and whatever is left at the deadline.
            setInterval(() => server.closeIdleConnections(), 100).unref()
            setTimeout(() => server.closeAllConnections(), Duration.toMillis(shutdownTimeout)).unref()
          }))
        )
      )
    )
    return deadline.pipe(Layer.provideMerge(NodeHttpServer.layer(() => server, { host, port })))
  })
)

/** The background jobs this instance runs. */
const WorkerLive = Worker.Default.pipe(
  Layer.provide(JobHandlers.layer<ChatsRepo | RagRepo | Llm | Vector>(PurgeChat, EmbedChat)),
  Layer.provide([ChatsRepo.Default, RagRepo.Default, LlmLive, VectorLive])
)

/** At start, queues the embedding of chats the configured embedder has not embedded yet. */
const EmbedMissingLive = Layer.effectDiscard(
  embedMissing.pipe(
    Effect.catchAll((error) => Effect.logWarning("Could not queue chats for embedding", error)),
    Effect.forkDaemon
  )
).pipe(Layer.provide([RagRepo.Default, Jobs.Default, LlmLive]))

/** Starts a parsing thread at boot, so the first upload does not wait for one. */
const WarmParserLive = Layer.effectDiscard(Effect.flatMap(ParserThreads, (threads) => threads.warm)).pipe(
  Layer.provide(ParserThreads.Default)
)

// The worker is built before the HTTP server (health reports it), so on shutdown the server stops
// first, then the worker drains, then the pool closes.
const MainLive = Layer.mergeAll(HttpAppLive.pipe(Layer.provide(ServerLive)), WarmParserLive, EmbedMissingLive).pipe(
  Layer.provide(WorkerLive),
  Layer.provide(DatabaseLive),
  Layer.provide(TracingLive),
  Layer.provide(LoggingLive)
)

NodeRuntime.runMain(Layer.launch(MainLive), { disablePrettyLogger: true })
