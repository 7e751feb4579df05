/**
 * The edge of every request: an `X-Request-Id` (a sane incoming one, else a new one) in the response,
 * the logs, the span and error bodies; CORS; the body size limit; and one JSON access log line with
 * the request id, trace id, route, status, duration and user.
 */
import { HttpApiBuilder, HttpApp, HttpIncomingMessage, HttpMiddleware, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Clock, Effect, FiberRef, Layer, Option } from "effect"
import { randomUUID } from "node:crypto"
import { ServerConfig } from "../Config.js"
import { PayloadTooLarge } from "../Domain/Errors.js"
import { CurrentRequestId, CurrentUserId } from "../Domain/RequestContext.js"
import { errorResponse, renderFailures } from "./ErrorResponse.js"

const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/

export interface EdgeOptions {
  readonly corsOrigins: ReadonlyArray<string>
  /** The largest body a request to `path` may send (uploads get more than JSON calls). */
  readonly bodyLimit: (path: string) => number
  readonly retryAfterSeconds: number
}

/** The outermost middleware; it runs inside the request's span. */
export const edge = (options: EdgeOptions) => {
  const cors = HttpMiddleware.cors({
    allowedOrigins: options.corsOrigins.includes("*") ? [] : options.corsOrigins,
    allowedHeaders: ["authorization", "content-type", "idempotency-key", "x-request-id"],
    exposedHeaders: ["x-request-id", "retry-after"],
    maxAge: 600
  })

  return HttpMiddleware.make((app) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const incoming = request.headers["x-request-id"]
      const requestId = incoming !== undefined && saneRequestId.test(incoming) ? incoming : randomUUID()
      const start = yield* Clock.currentTimeMillis
      const path = request.url.split("?")[0] ?? "/"
      const limit = options.bodyLimit(path)

      const handled = Effect.gen(function*() {
        // A declared length over the limit is refused before reading; a streamed body is cut at it.
        // The inner application writes its own response, so headers are added as it is written.
        yield* HttpApp.appendPreResponseHandler((_, response) =>
          Effect.succeed(HttpServerResponse.setHeader(response, "x-request-id", requestId))
        )
        const response = Number(request.headers["content-length"] ?? "0") > limit
          ? HttpServerResponse.setHeader(
            yield* errorResponse(
              new PayloadTooLarge({ message: `The request body is larger than ${limit} bytes` }),
              options.retryAfterSeconds
            ),
            "x-request-id",
            requestId
          )
          : yield* HttpIncomingMessage.withMaxBodySize(cors(app), Option.some(limit))
        const userId = yield* FiberRef.get(CurrentUserId)
        const durationMs = (yield* Clock.currentTimeMillis) - start
        yield* Effect.annotateCurrentSpan("request.id", requestId)
        if (Option.isSome(userId)) yield* Effect.annotateCurrentSpan("user.id", userId.value)
        yield* Effect.logInfo("request").pipe(
          Effect.annotateLogs({
            method: request.method,
            path,
            status: response.status,
            durationMs,
            ...(Option.isSome(userId) ? { userId: userId.value } : {})
          })
        )
        return response
      })

      return yield* handled.pipe(
        Effect.locally(CurrentRequestId, requestId),
        Effect.locally(CurrentUserId, Option.none()),
        Effect.annotateLogs("requestId", requestId)
      )
    })
  )
}

/** The API-level middleware: failures become error responses before the contract's own encoder. */
export const RenderFailuresLive = Layer.unwrapEffect(
  Effect.map(ServerConfig, ({ retryAfterSeconds }) =>
    HttpApiBuilder.middleware((app) => renderFailures(app, retryAfterSeconds))
  )
)
