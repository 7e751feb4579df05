/**
 * Every failure that reaches the edge leaves as the one error body. Contract errors keep their status;
 * a request that does not decode becomes a 400 naming the field, an unknown route a 404, an oversized
 * body a 413, and anything else a logged 500 that says nothing of its cause.
 */
import { HttpApiError, HttpServerError, HttpServerResponse } from "@effect/platform"
import { Cause, Effect, FiberRef, Option } from "effect"
import {
  type ApiError,
  errorBody,
  InternalError,
  isApiError,
  NotFound,
  PayloadTooLarge,
  statusOf,
  ValidationError
} from "../Domain/Errors.js"
import { CurrentRequestId } from "../Domain/RequestContext.js"

/** The first issue of each field, at most three fields: enough to fix the request. */
const describeIssues = (error: HttpApiError.HttpApiDecodeError): string => {
  const byField = new Map<string, string>()
  for (const issue of error.issues) {
    const field = issue.path.map(String).join(".")
    if (!byField.has(field)) byField.set(field, field === "" ? issue.message : `${field}: ${issue.message}`)
  }
  const described = [...byField.values()]
  const more = described.length > 3 ? ` (and ${described.length - 3} more)` : ""
  return `Invalid request: ${described.slice(0, 3).join("; ")}${more}`
}

const isTooLarge = (error: HttpServerError.RequestError): boolean =>
  error.cause instanceof Error && error.cause.message.includes("maxBytes exceeded")

/** The client-facing error for a failure, logging the ones a client cannot be told about. */
export const toApiError = (cause: Cause.Cause<unknown>): Effect.Effect<ApiError> => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (isApiError(error)) return Effect.succeed(error)
    if (error instanceof HttpApiError.HttpApiDecodeError) {
      return Effect.succeed(new ValidationError({ message: describeIssues(error) }))
    }
    if (error instanceof HttpServerError.RouteNotFound) {
      return Effect.succeed(new NotFound({ message: `No route for ${error.request.method} ${error.request.url.split("?")[0]}` }))
    }
    if (error instanceof HttpServerError.RequestError) {
      return Effect.succeed(
        isTooLarge(error)
          ? new PayloadTooLarge({ message: "The request body is larger than the limit" })
          : new ValidationError({ message: "The request body could not be read; send valid JSON" })
      )
    }
  }
  return Effect.logError("Unhandled failure", cause).pipe(
    Effect.as(new InternalError({ message: "Something went wrong on our side; it has been logged" }))
  )
}

/** Writes an error as the one body shape; 503 and 429 say when to come back. */
export const errorResponse = (error: ApiError, retryAfterSeconds: number) =>
  Effect.gen(function*() {
    const requestId = yield* FiberRef.get(CurrentRequestId)
    const status = statusOf(error)
    const response = yield* HttpServerResponse.json(errorBody(error._tag, error.message, requestId), { status }).pipe(
      Effect.orDie
    )
    return status === 503 || status === 429
      ? HttpServerResponse.setHeader(response, "retry-after", String(retryAfterSeconds))
      : response
  })

/** Turns any failure of `app` (but an interruption) into its error response. */
export const renderFailures = <E, R>(
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  retryAfterSeconds: number
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> =>
  Effect.catchAllCause(app, (cause) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.failCause(cause).pipe(Effect.orDie)
      : Effect.flatMap(toApiError(cause), (error) => errorResponse(error, retryAfterSeconds)))
