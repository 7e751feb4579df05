/**
 * Every failure that reaches the edge leaves as the one error body. Contract errors keep their status;
 * a request that does not decode becomes a 400 naming the field, an unknown route a 404, an oversized
 * body a 413, and anything else a logged 500 that says nothing of its cause.
 */
import { HttpApiError, HttpServerError, HttpServerResponse, Multipart } from "@effect/platform"
import { Cause, Effect, FiberRef, Option } from "effect"
import {
  type ApiError,
  detailsOf,
  errorBody,
  excerpt,
  InternalError,
  isApiError,
  NotFound,
  PayloadTooLarge,
  statusOf,
  ValidationError
} from "../Domain/Errors.js"
import { CurrentRequestId } from "../Domain/RequestContext.js"

/** The longest message an error body carries. */
const maxMessage = 500

// Schema's default messages end with `actual <the whole value>`: that is where a 900 KB input would
// come back, so it is the echo bounded here.
const boundEcho = (message: string): string =>
  message.replace(/(, actual )([\s\S]*)$/, (_, lead: string, actual: string) => `${lead}${excerpt(actual)}`)

/** The first issue of each field, at most three fields: enough to fix the request. */
const describeIssues = (error: HttpApiError.HttpApiDecodeError): string => {
  const byField = new Map<string, string>()
  for (const issue of error.issues) {
    const field = excerpt(issue.path.map(String).join("."))
    const message = boundEcho(issue.message)
    if (!byField.has(field)) byField.set(field, field === "" ? message : `${field}: ${message}`)
  }
  const described = [...byField.values()]
  const more = described.length > 3 ? ` (and ${described.length - 3} more)` : ""
  return `Invalid request: ${described.slice(0, 3).join("; ")}${more}`
}

const isTooLarge = (error: HttpServerError.RequestError): boolean =>
  error.cause instanceof Error && error.cause.message.includes("maxBytes exceeded")

const bodyTooLarge = new PayloadTooLarge({ message: "The request body is larger than the limit" })

/** The refusal for a failure a client caused, if it is one. */
const clientError = (error: unknown): Option.Option<ApiError> => {
  if (isApiError(error)) return Option.some(error)
  if (error instanceof HttpApiError.HttpApiDecodeError) {
    return Option.some(new ValidationError({ message: describeIssues(error) }))
  }
  if (error instanceof HttpServerError.RouteNotFound) {
    const path = excerpt(error.request.url.split("?")[0] ?? "/")
    return Option.some(new NotFound({ message: `No route for ${error.request.method} ${path}` }))
  }
  if (error instanceof HttpServerError.RequestError) {
    return Option.some(
      isTooLarge(error)
        ? bodyTooLarge
        : new ValidationError({ message: "The request body could not be read; send valid JSON" })
    )
  }
  if (error instanceof Multipart.MultipartError) {
    return Option.some(
      error.reason === "BodyTooLarge" || error.reason === "FileTooLarge" || error.reason === "FieldTooLarge"
        ? bodyTooLarge
        : new ValidationError({ message: "The body is not a readable multipart/form-data upload" })
    )
  }
  return Option.none()
}

/** The client-facing error for a failure, logging the ones a client cannot be told about. */
export const toApiError = (cause: Cause.Cause<unknown>): Effect.Effect<ApiError> => {
  const failure = Option.flatMap(Cause.failureOption(cause), clientError)
  if (Option.isSome(failure)) return Effect.succeed(failure.value)
  // The platform reads a JSON payload with `orDie`: a body that is not JSON arrives as a defect, yet it
  // is the client's mistake. Only the request-reading errors are taken from defects; any other is a bug.
  const unreadable = Cause.dieOption(cause).pipe(
    Option.filter((defect) => defect instanceof HttpServerError.RequestError || defect instanceof Multipart.MultipartError),
    Option.flatMap(clientError)
  )
  if (Option.isSome(unreadable)) return Effect.succeed(unreadable.value)
  return Effect.logError("Unhandled failure", cause).pipe(
    Effect.as(new InternalError({ message: "Something went wrong on our side; it has been logged" }))
  )
}

/** A message as an error body may carry it: bounded, whatever it quotes. */
export const boundedMessage = (message: string): string => excerpt(message, maxMessage)

/** An error's status and body, and whether the answer says when to come back (503 and 429 do). */
export const errorAnswer = (error: ApiError, requestId: string) => {
  const status = statusOf(error)
  const body = errorBody(error._tag, boundedMessage(error.message), requestId, detailsOf(error))
  return { status, body, retryAfter: status === 503 || status === 429 } as const
}

/** Writes an error as the one body shape; 503 and 429 say when to come back. */
export const errorResponse = (error: ApiError, retryAfterSeconds: number) =>
  Effect.gen(function*() {
    const { body, retryAfter, status } = errorAnswer(error, yield* FiberRef.get(CurrentRequestId))
    const response = yield* HttpServerResponse.json(body, { status }).pipe(Effect.orDie)
    return retryAfter ? HttpServerResponse.setHeader(response, "retry-after", String(retryAfterSeconds)) : response
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
