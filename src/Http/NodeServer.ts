/**
 * Node's HTTP server for the application. From the moment it listens it answers every request: until
 * the application is attached (start-up) and after it is detached (shutdown), with a 503 that says so.
 * On shutdown it stops accepting and waits for in-flight requests; requests still running after
 * SHUTDOWN_TIMEOUT have their connections closed.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { Duration, Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { createServer, type Server } from "node:http"
import { ServerConfig } from "../Config.js"
import { errorBody, ServiceUnavailable } from "../Domain/Errors.js"

/** Answers while no application handles requests (it is the only `request` listener then). */
const answerWhileUnattached = (server: Server, retryAfterSeconds: number) =>
  server.on("request", (_request, response) => {
    if (server.listenerCount("request") > 1) return
    const requestId = randomUUID()
    const body = errorBody(ServiceUnavailable._tag, ServiceUnavailable.notServing, requestId)
    response.writeHead(503, {
      "content-type": "application/json",
      "retry-after": String(retryAfterSeconds),
      "x-request-id": requestId,
      connection: "close"
    })
    response.end(JSON.stringify(body))
  })

export const NodeServerLive = Layer.unwrapEffect(
  Effect.map(ServerConfig, ({ host, port, retryAfterSeconds, shutdownTimeout }) => {
    const server = answerWhileUnattached(createServer(), retryAfterSeconds)
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
