/**
 * Node's HTTP server for the application. From the moment it listens it answers every request: until
 * the application is attached (start-up) and after it is detached (shutdown), with a 503 that says so;
 * a request Node's parser refuses or that does not arrive in time, and a body that stalls, with the one
 * error body (see RawAnswer). Once attached, its one request listener gives each request to the lean
 * lane (Lane.ts) or else to the platform's handler. On shutdown it stops accepting and waits for
 * in-flight requests; requests still running after SHUTDOWN_TIMEOUT have their connections closed.
 */
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Duration, Effect, Layer, Runtime } from "effect"
import { randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { ServerConfig } from "../Config.js"
import { errorBody, RequestTimeout, ServiceUnavailable, statusOf } from "../Domain/Errors.js"
import { Lane, type LaneHandler, laneHandler } from "./Lane.js"
import { answerAndClose, inFlightResponse, parserRefusal, requestIdOf } from "./RawAnswer.js"

interface Settings {
  readonly retryAfterSeconds: number
  readonly requestBodyTimeout: Duration.Duration
  readonly requestTimeout: Duration.Duration
}

/** Runs a log line from a Node callback on the runtime the server was built in (its logger). */
type Log = (message: string, annotations: Record<string, unknown>) => void

/** Answers while no application handles requests (before it serves, and once it has stopped). */
const answerUnattached = (response: ServerResponse, retryAfterSeconds: number) => {
  const requestId = randomUUID()
  const body = JSON.stringify(errorBody(ServiceUnavailable._tag, ServiceUnavailable.notServing, requestId))
  response.writeHead(503, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "retry-after": String(retryAfterSeconds),
    "x-request-id": requestId,
    connection: "close"
  })
  response.end(body)
}

const hasBody = (request: IncomingMessage) =>
  request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? "0") > 0

/**
 * Calls `onStall` when `request`'s body has not advanced for `idleMs` while this side had read all that
 * arrived (a handler that is slow to read leaves bytes buffered: not the client's doing). Polled, so that
 * it leaves Node's own socket timeouts (keep-alive) alone.
 */
const watchBody = (request: IncomingMessage, idleMs: number, onStall: () => void) => {
  const step = Math.max(10, Math.floor(idleMs / 4))
  const socket = request.socket
  let bytesRead = socket.bytesRead
  let lastProgress = Date.now()
  const check = () => {
    if (request.complete || socket.destroyed) return
    const now = Date.now()
    // Bytes received but not yet read: the handler is the slow one, whether it reads in flowing or
    // paused mode (a parser pulling with read() leaves the stream "paused" while it waits for the client).
    const waitingOnUs = request.readableLength > 0
    if (socket.bytesRead !== bytesRead || waitingOnUs) {
      bytesRead = socket.bytesRead
      lastProgress = now
    } else if (now - lastProgress >= idleMs) {
      return onStall()
    }
    setTimeout(check, step).unref()
  }
  setTimeout(check, step).unref()
}

/** What answers requests, once the application serves: the lane first, then the platform's handler. */
interface Serving {
  app: ((request: IncomingMessage, response: ServerResponse) => void) | undefined
  lane: LaneHandler | undefined
}

/** The server, with every answer it gives beneath the application. */
const makeServer = (settings: Settings, log: Log, serving: Serving): Server => {
  const requestTimeoutMs = Duration.toMillis(settings.requestTimeout)
  const bodyTimeoutMs = Duration.toMillis(settings.requestBodyTimeout)
  const server = createServer({
    requestTimeout: requestTimeoutMs,
    // Node requires headers to be due no later than the whole request.
    headersTimeout: Math.min(60_000, requestTimeoutMs),
    // How often Node looks for requests past those deadlines (30 s by default).
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(requestTimeoutMs / 4)))
  })

  server.on("request", (request, response) => {
    const app = serving.app
    if (app === undefined) return answerUnattached(response, settings.retryAfterSeconds)
    if (serving.lane?.(request, response) === true) return
    app(request, response)
    if (!hasBody(request)) return
    watchBody(request, bodyTimeoutMs, () => {
      const requestId = requestIdOf(response)
      const seconds = bodyTimeoutMs / 1000
      const error = new RequestTimeout({
        message: `The request body stalled for ${seconds} s; send it without pausing`
      })
      answerAndClose(request.socket, response, error, requestId)
      log("Request body stalled; answered 408 and closed the connection", {
        requestId,
        method: request.method,
        path: request.url?.split("?")[0],
        timeoutMs: bodyTimeoutMs
      })
    })
  })

  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    const refusal = parserRefusal(error.code ?? "", requestTimeoutMs)
    if (refusal === undefined) {
      socket.destroy()
      return
    }
    const response = inFlightResponse(socket)
    const requestId = requestIdOf(response)
    answerAndClose(socket, response, refusal, requestId)
    log("Refused a request the HTTP parser could not take", { requestId, code: error.code, status: statusOf(refusal) })
  })
  return server
}

/** The application's server, listening on `listen` (`HOST` and `PORT` in `NodeServerLive`). */
export const nodeServerOn = (listen: { readonly host: string; readonly port: number }) =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const settings = yield* ServerConfig
      const runtime = yield* Effect.runtime<never>()
      const log: Log = (message, annotations) =>
        Runtime.runFork(runtime)(Effect.logInfo(message).pipe(Effect.annotateLogs(annotations)))
      const serving: Serving = { app: undefined, lane: undefined }
      const server = makeServer(settings, log, serving)
      // Built after the server, so released before it: arms the deadline, then the server closes.
      const deadline = Layer.scopedDiscard(
        Effect.addFinalizer(() =>
          Effect.logInfo("Shutting down: no new connections; finishing in-flight requests").pipe(
            Effect.annotateLogs({ timeoutMs: Duration.toMillis(settings.shutdownTimeout) }),
            Effect.zipRight(Effect.sync(() => {
              // A keep-alive connection that finishes its request becomes idle after `close` was
              // called; close those as they appear, and whatever is left at the deadline.
              setInterval(() => server.closeIdleConnections(), 100).unref()
              setTimeout(() => server.closeAllConnections(), Duration.toMillis(settings.shutdownTimeout)).unref()
            }))
          )
        )
      )
      // The platform's server listens and closes; its handler is called from this server's one listener.
      const httpServer = Layer.scoped(
        HttpServer.HttpServer,
        Effect.map(NodeHttpServer.make(() => server, listen), (platform) =>
          HttpServer.make({
            address: platform.address,
            serve: (httpApp, middleware) =>
              Effect.flatMap(
                middleware === undefined
                  ? NodeHttpServer.makeHandler(httpApp)
                  : NodeHttpServer.makeHandler(httpApp, middleware),
                (handler) =>
                Effect.acquireRelease(
                  Effect.sync(() => {
                    serving.app = handler
                  }),
                  () => Effect.sync(() => {
                    serving.app = undefined
                  })
                ))
          }))
      )
      const lane = Layer.succeed(Lane, {
        install: (routes) =>
          Effect.flatMap(Effect.runtime<never>(), (runtime) =>
            Effect.acquireRelease(
              Effect.sync(() => {
                serving.lane = laneHandler(routes, runtime, settings.retryAfterSeconds)
              }),
              () => Effect.sync(() => {
                serving.lane = undefined
              })
            ))
      })
      return deadline.pipe(Layer.provideMerge(Layer.mergeAll(httpServer, lane, NodeHttpServer.layerContext)))
    })
  )

export const NodeServerLive = Layer.unwrapEffect(Effect.map(ServerConfig, ({ host, port }) => nodeServerOn({ host, port })))
