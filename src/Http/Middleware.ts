/**
 * The edge of every request: an `X-Request-Id` (a sane incoming one, else a new one) in the response,
 * the logs, the span and error bodies; CORS; the request checks (body type and size, NUL, JSON depth);
 * the server span's name; and one JSON access log line with the request id, trace id, route, status,
 * duration and user.
 */
import {
  HttpApiBuilder,
  HttpApp,
  HttpIncomingMessage,
  HttpMiddleware,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Clock, Effect, FiberRef, Layer, Option } from "effect"
import { randomUUID } from "node:crypto"
import { ServerConfig } from "../Config.js"
import { CurrentRequestId, CurrentUserId } from "../Domain/RequestContext.js"
import { errorResponse, renderFailures } from "./ErrorResponse.js"
import { type BodyRules, refusal } from "./RequestChecks.js"
import { nameServerSpan } from "./SpanName.js"

const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/

export interface EdgeOptions {
  readonly corsOrigins: ReadonlyArray<string>
  /** What the body of `method path` may be, by the contract. */
  readonly bodyRules: (method: string, path: string) => BodyRules
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
      const rules = options.bodyRules(request.method, path)
      // Set on Node's response at once, so that an answer written beneath the application (the 408 of
      // a stalled body, see NodeServer.ts) names the same request as this one's log lines.
      NodeHttpServerRequest.toServerResponse(request).setHeader("x-request-id", requestId)

      const logRequest = (status: number, route: Option.Option<string>) =>
        Effect.gen(function*() {
          const userId = yield* FiberRef.get(CurrentUserId)
          const durationMs = (yield* Clock.currentTimeMillis) - start
          yield* Effect.logInfo("request").pipe(
            Effect.annotateLogs({
              method: request.method,
              path,
              ...(Option.isSome(route) ? { route: route.value } : {}),
              status,
              durationMs,
              ...(Option.isSome(userId) ? { userId: userId.value } : {})
            })
          )
        })

      const handled = Effect.gen(function*() {
        // The inner application writes its own response, so headers are added as it is written.
        yield* HttpApp.appendPreResponseHandler((_, response) =>
          Effect.succeed(HttpServerResponse.setHeader(response, "x-request-id", requestId))
        )
        const refused = yield* refusal(request, rules)
        const response = Option.isSome(refused)
          ? HttpServerResponse.setHeader(
            yield* cors(errorResponse(refused.value, options.retryAfterSeconds)),
            "x-request-id",
            requestId
          )
          : yield* cors(app)
        const route = yield* nameServerSpan(request.method)
        const userId = yield* FiberRef.get(CurrentUserId)
        yield* Effect.annotateCurrentSpan("request.id", requestId)
        if (path.length < request.url.length) yield* Effect.annotateCurrentSpan(redactedUrl(request))
        if (Option.isSome(userId)) yield* Effect.annotateCurrentSpan("user.id", userId.value)
        yield* logRequest(response.status, route)
        return response
      })

      return yield* handled.pipe(
        // No response was made: the connection closed first (the client left, or a stalled body was
        // answered beneath the application) and the handler was interrupted; logged with the platform's
        // status for it (499, as nginx logs a client that closed the request).
        Effect.tapErrorCause((cause) =>
          logRequest(HttpServerError.causeResponseStripped(cause)[0].status, Option.none())
        ),
        HttpIncomingMessage.withMaxBodySize(Option.some(rules.limit)),
        Effect.locally(CurrentRequestId, requestId),
        Effect.locally(CurrentUserId, Option.none()),
        Effect.annotateLogs("requestId", requestId)
      )
    })
  )
}

/**
 * Query values are people's text (a search, an author's name): the server span the platform made keeps
 * only the parameters' names, in `url.query` and `url.full` alike.
 */
const redactedUrl = (request: HttpServerRequest.HttpServerRequest): Record<string, string> =>
  Option.match(HttpServerRequest.toURL(request), {
    onNone: () => ({ "url.query": "<redacted>", "url.full": "<redacted>" }),
    onSome: (url) => {
      const query = [...url.searchParams.keys()].map((name) => `${encodeURIComponent(name)}=<redacted>`).join("&")
      url.search = ""
      return { "url.query": query, "url.full": `${url.toString()}?${query}` }
    }
  })

/** The API-level middleware: failures become error responses before the contract's own encoder. */
export const RenderFailuresLive = Layer.unwrapEffect(
  Effect.map(ServerConfig, ({ retryAfterSeconds }) =>
    HttpApiBuilder.middleware((app) => renderFailures(app, retryAfterSeconds))
  )
)
