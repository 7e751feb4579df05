/**
 * The edge of every request: an `X-Request-Id` (a sane incoming one, else a new one) in the response,
 * the logs, the span and error bodies; CORS; the request checks (body type and size, NUL, JSON depth);
 * the server span's route; and one JSON access log line with the request id, trace id, route, status,
 * duration and user. (The plainest balance reads skip it for the Node server's lean lane: Lane.ts.)
 *
 * It runs on every request, so it reads the fiber's state synchronously and writes span attributes on
 * the span object rather than through an effect each: its whole cost is a few allocations.
 */
import {
  HttpApiBuilder,
  HttpApp,
  HttpIncomingMessage,
  HttpMethod,
  HttpMiddleware,
  HttpServerError,
  HttpServerRequest,
  type HttpServerResponse
} from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Context, Effect, FiberRef, HashMap, Layer, Option, type Tracer } from "effect"
import { randomUUID } from "node:crypto"
import { ServerConfig } from "../Config.js"
import { CurrentRequestId, CurrentUserId } from "../Domain/RequestContext.js"
import { errorResponse, renderFailures } from "./ErrorResponse.js"
import { refusal } from "./RequestChecks.js"
import type { Route } from "./Routes.js"
import { renameServerSpan, templateOf } from "./SpanName.js"

export const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/

export interface EdgeOptions {
  readonly corsOrigins: ReadonlyArray<string>
  /** The contract's endpoint a request is for, if any (see `Routes.ts`). */
  readonly routeOf: (request: HttpServerRequest.HttpServerRequest) => Route | undefined
  /** The largest body an endpoint reading `types` may be sent. */
  readonly bodyLimit: (types: ReadonlyArray<string>) => number
  readonly retryAfterSeconds: number
}

const noTypes: ReadonlyArray<string> = []

/** The outermost middleware; it runs inside the request's span. */
export const edge = (options: EdgeOptions) => {
  const cors = HttpMiddleware.cors({
    allowedOrigins: options.corsOrigins.includes("*") ? [] : options.corsOrigins,
    allowedHeaders: ["authorization", "content-type", "idempotency-key", "x-request-id"],
    exposedHeaders: ["x-request-id", "retry-after"],
    maxAge: 600
  })

  return HttpMiddleware.make(<E, R>(app: HttpApp.Default<E, R>) => {
    const served = cors(app)
    return Effect.withFiberRuntime<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest>((fiber) => {
      const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      const incoming = request.headers["x-request-id"]
      const requestId = incoming !== undefined && saneRequestId.test(incoming) ? incoming : randomUUID()
      const start = Date.now()
      const query = request.url.indexOf("?")
      const path = query === -1 ? request.url : request.url.slice(0, query)
      const route = options.routeOf(request)
      const types = route?.types ?? noTypes
      const limit = options.bodyLimit(types)
      const span = fiber.currentSpan?._tag === "Span" ? fiber.currentSpan : undefined
      // Set on Node's response at once (the platform's own headers are merged into it when the response
      // is written), so that an answer written beneath the application (the 408 of a stalled body, see
      // NodeServer.ts) names the same request as this one's log lines.
      NodeHttpServerRequest.toServerResponse(request).setHeader("x-request-id", requestId)

      const finish = (status: number, routed: string | undefined) => {
        const userId = fiber.getFiberRef(CurrentUserId)
        if (span !== undefined) {
          span.attribute("request.id", requestId)
          if (routed !== undefined) span.attribute("http.route", routed)
          if (Option.isSome(userId)) span.attribute("user.id", userId.value)
          if (query !== -1) redactUrl(span, request)
        }
        // Added to the fiber's annotations rather than scoped to the line: the request ends with it.
        return Effect.zipRight(
          FiberRef.update(FiberRef.currentLogAnnotations, (annotations) =>
            HashMap.mutate(annotations, (fields) => {
              HashMap.set(fields, "method", request.method)
              HashMap.set(fields, "path", path)
              if (routed !== undefined) HashMap.set(fields, "route", routed)
              HashMap.set(fields, "status", status)
              HashMap.set(fields, "durationMs", Date.now() - start)
              if (Option.isSome(userId)) HashMap.set(fields, "userId", userId.value)
            })),
          Effect.logInfo("request")
        )
      }

      const handled = Effect.flatMap(refusal(request, { types, limit }), (refused) =>
        Option.isSome(refused)
          ? Effect.flatMap(answeredHere(request, cors(errorResponse(refused.value, options.retryAfterSeconds))), (response) =>
            Effect.as(finish(response.status, route?.template), response))
          : Effect.flatMap(served, (response) => {
            // The router writes the route it matched on the span (`/api/chats/:chat_id`); a route the
            // contract does not declare (the docs) was not named when the span started, so it is now.
            const matched = span?.attributes.get("http.route")
            const routed = typeof matched === "string" ? templateOf(matched) : route?.template
            const named = routed === route?.template || routed === undefined
              ? finish(response.status, routed)
              : Effect.zipRight(renameServerSpan(`${request.method} ${routed}`), finish(response.status, routed))
            return Effect.as(named, response)
          }))

      return FiberRef.set(CurrentRequestId, requestId).pipe(
        Effect.zipRight(
          FiberRef.update(FiberRef.currentLogAnnotations, (annotations) => HashMap.set(annotations, "requestId", requestId))
        ),
        Effect.zipRight(HttpMethod.hasBody(request.method) ? HttpIncomingMessage.withMaxBodySize(handled, Option.some(limit)) : handled),
        // No response was made: the connection closed first (the client left, or a stalled body was
        // answered beneath the application) and the handler was interrupted; logged with the platform's
        // status for it (499, as nginx logs a client that closed the request).
        Effect.tapErrorCause((cause) => finish(HttpServerError.causeResponseStripped(cause)[0].status, undefined))
      )
    })
  })
}

/**
 * A response made here rather than by the application, given what the platform gives the application's
 * own when writing it: the pre-response handlers (CORS headers among them).
 */
const answeredHere = <E, R>(
  request: HttpServerRequest.HttpServerRequest,
  respond: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
) =>
  Effect.flatMap(respond, (response) =>
    Effect.flatMap(FiberRef.get(HttpApp.currentPreResponseHandlers), (handler) =>
      // The handlers set headers; a failure among them would be a bug.
      Option.isSome(handler) ? Effect.orDie(handler.value(request, response)) : Effect.succeed(response)))

/**
 * Query values are people's text (a search, an author's name): the server span the platform made keeps
 * only the parameters' names, in `url.query` and `url.full` alike.
 */
const redactUrl = (span: Tracer.Span, request: HttpServerRequest.HttpServerRequest): void => {
  const url = Option.getOrUndefined(HttpServerRequest.toURL(request))
  if (url === undefined) {
    span.attribute("url.query", "<redacted>")
    span.attribute("url.full", "<redacted>")
    return
  }
  const query = [...url.searchParams.keys()].map((name) => `${encodeURIComponent(name)}=<redacted>`).join("&")
  url.search = ""
  span.attribute("url.query", query)
  span.attribute("url.full", `${url.toString()}?${query}`)
}

/** The API-level middleware: failures become error responses before the contract's own encoder. */
export const RenderFailuresLive = Layer.unwrapEffect(
  Effect.map(ServerConfig, ({ retryAfterSeconds }) =>
    HttpApiBuilder.middleware((app) => renderFailures(app, retryAfterSeconds))
  )
)
