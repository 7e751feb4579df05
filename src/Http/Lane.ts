/**
 * The lean lane: the plainest requests for the hottest reads (the balance every client polls), answered
 * by the Node server straight away instead of through the platform's request machinery (its request
 * object, router, middleware chain and response encoder), which cost more than the read itself.
 *
 * A request takes the lane only when it is exactly `GET <path>` with no query string, no body and no
 * `Origin` (CORS stays with the edge). Every other request for the same endpoint goes the full way,
 * through the contract's handler, with the same answers. On the lane a request keeps what the edge
 * gives every request: its `X-Request-Id`, the one error body, a server span named by OpenTelemetry's
 * HTTP conventions (continuing an incoming trace), and one access log line.
 */
import { Headers, HttpServerError, HttpTraceContext } from "@effect/platform"
import { Cause, Context, Effect, FiberRef, HashMap, Option, Runtime, type Scope } from "effect"
import { randomUUID } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { ApiError } from "../Domain/Errors.js"
import { CurrentUserId } from "../Domain/RequestContext.js"
import { errorAnswer, toApiError } from "./ErrorResponse.js"
import { saneRequestId } from "./Middleware.js"

/** An endpoint served on the lane: its path (also its route template) and its JSON answer. */
export interface LaneRoute {
  readonly path: string
  /** The answer's body, from the request's `Authorization` header; failures become the error body. */
  readonly answer: (authorization: string | undefined) => Effect.Effect<unknown, ApiError>
}

/** Answers `request` if it is one for the lane, and says whether it did. */
export type LaneHandler = (request: IncomingMessage, response: ServerResponse) => boolean

/** Where the application puts its lane routes, for as long as it serves (provided by the Node server). */
export class Lane extends Context.Tag("chatsight/Lane")<Lane, {
  readonly install: (routes: ReadonlyArray<LaneRoute>) => Effect.Effect<void, never, Scope.Scope>
}>() {}

const hasTraceContext = (request: IncomingMessage) =>
  request.headers.traceparent !== undefined || request.headers.b3 !== undefined ||
  request.headers["x-b3-traceid"] !== undefined

const takesLane = (request: IncomingMessage) =>
  request.method === "GET" && request.headers.origin === undefined &&
  request.headers["transfer-encoding"] === undefined && (request.headers["content-length"] ?? "0") === "0"

/** The lane for `routes`, running each request as a fiber of `runtime` (the application's). */
export const laneHandler = (
  routes: ReadonlyArray<LaneRoute>,
  runtime: Runtime.Runtime<never>,
  retryAfterSeconds: number
): LaneHandler => {
  const byPath = new Map(routes.map((route) => [route.path, route] as const))
  const runFork = Runtime.runFork(runtime)

  const serve = (request: IncomingMessage, response: ServerResponse, route: LaneRoute) => {
    const incoming = request.headers["x-request-id"]
    const requestId = typeof incoming === "string" && saneRequestId.test(incoming) ? incoming : randomUUID()
    const started = Date.now()
    const name = `GET ${route.path}`

    const write = (status: number, body: unknown, retryAfter: boolean) => {
      const text = JSON.stringify(body)
      response.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
        "x-request-id": requestId,
        ...(retryAfter ? { "retry-after": String(retryAfterSeconds) } : {})
      })
      response.end(text)
    }

    // The request's fiber is its own: its log annotations are set, not scoped (a scoped change costs
    // two copies of the fiber's state), and only for the lines it writes (the access log, a failure).
    const annotated = (fields: Record<string, unknown>) =>
      FiberRef.update(FiberRef.currentLogAnnotations, (annotations) =>
        HashMap.mutate(annotations, (all) => {
          HashMap.set(all, "requestId", requestId)
          for (const key in fields) HashMap.set(all, key, fields[key])
        }))
    const accessLog = (status: number, userId: Option.Option<string>) =>
      Effect.zipRight(
        annotated({
          method: "GET",
          path: route.path,
          route: route.path,
          status,
          durationMs: Date.now() - started,
          ...(Option.isSome(userId) ? { userId: userId.value } : {})
        }),
        Effect.logInfo("request")
      )

    const answered = Effect.useSpan(name, {
      kind: "server",
      captureStackTrace: false,
      attributes: {
        "http.request.method": "GET",
        "http.route": route.path,
        "url.path": route.path,
        "url.scheme": "http",
        "request.id": requestId,
        ...(request.headers["user-agent"] === undefined ? {} : { "user_agent.original": request.headers["user-agent"] })
      }
    }, (span) =>
      route.answer(request.headers.authorization).pipe(
        Effect.map((body) => ({ status: 200, body, retryAfter: false })),
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause)
            ? Effect.failCause(cause)
            : annotated({}).pipe(Effect.zipRight(toApiError(cause)), Effect.map((error) => errorAnswer(error, requestId)))
        ),
        Effect.flatMap(({ body, retryAfter, status }) =>
          Effect.withFiberRuntime((fiber) => {
            write(status, body, retryAfter)
            const userId = fiber.getFiberRef(CurrentUserId)
            span.attribute("http.response.status_code", status)
            if (Option.isSome(userId)) span.attribute("user.id", userId.value)
            return accessLog(status, userId)
          })
        ),
        Effect.withParentSpan(span),
        // The client went away first (see below): logged as nginx logs it.
        Effect.onInterrupt(() => accessLog(499, Option.none()))
      ))

    const parent = hasTraceContext(request)
      ? HttpTraceContext.fromHeaders(Headers.fromInput(request.headers))
      : Option.none()
    const program = Option.isSome(parent) ? Effect.withParentSpan(answered, parent.value) : answered
    const fiber = runFork(program)
    response.on("close", () => {
      if (!response.writableEnded) fiber.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
    })
  }

  return (request, response) => {
    if (!takesLane(request)) return false
    const route = byPath.get(request.url ?? "")
    if (route === undefined) return false
    serve(request, response, route)
    return true
  }
}
