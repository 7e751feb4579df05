/**
 * The errors that reach a client. Each is a tagged value in the type of the effect that fails with it,
 * carries its HTTP status, and is written as one body shape: `{ error: { code, message, request_id } }`.
 */
import { HttpApiSchema } from "@effect/platform"
import { Effect, FiberRef, Option, ParseResult, Schema, SchemaAST as AST, String as Str } from "effect"
import { CurrentRequestId } from "./RequestContext.js"

const fields = { message: Schema.String }

export class ValidationError extends Schema.TaggedError<ValidationError>()(
  "ValidationError",
  fields,
  HttpApiSchema.annotations({ status: 400, description: "The request is malformed; the message names the field" })
) {}

export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  fields,
  HttpApiSchema.annotations({ status: 401, description: "Missing, invalid or expired credentials" })
) {}

export class InsufficientCredits extends Schema.TaggedError<InsufficientCredits>()(
  "InsufficientCredits",
  {
    ...fields,
    /** Credits the request needs, and the balance it found: a client can offer the difference. */
    required: Schema.optional(Schema.Int),
    balance: Schema.optional(Schema.Int)
  },
  HttpApiSchema.annotations({ status: 402, description: "The balance does not cover the charge" })
) {}

export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  fields,
  HttpApiSchema.annotations({ status: 404, description: "No such resource, or not yours" })
) {}

export class Conflict extends Schema.TaggedError<Conflict>()(
  "Conflict",
  fields,
  HttpApiSchema.annotations({ status: 409, description: "The request conflicts with what is stored" })
) {}

/** A resource that existed and is kept no longer (a data export past its expiry). */
export class Gone extends Schema.TaggedError<Gone>()(
  "Gone",
  fields,
  HttpApiSchema.annotations({ status: 410, description: "It existed, and is no longer kept" })
) {}

export class RequestTimeout extends Schema.TaggedError<RequestTimeout>()(
  "RequestTimeout",
  fields,
  HttpApiSchema.annotations({ status: 408, description: "The request did not arrive in time; the connection is closed" })
) {}

export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  fields,
  HttpApiSchema.annotations({ status: 413, description: "The body is larger than the limit" })
) {}

export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()(
  "UnsupportedMediaType",
  fields,
  HttpApiSchema.annotations({ status: 415, description: "The body is not of a type this endpoint reads; the message names the type" })
) {}

export class UnsupportedExport extends Schema.TaggedError<UnsupportedExport>()(
  "UnsupportedExport",
  fields,
  HttpApiSchema.annotations({ status: 422, description: "The file is not a chat export we can read" })
) {}

export class HeadersTooLarge extends Schema.TaggedError<HeadersTooLarge>()(
  "HeadersTooLarge",
  fields,
  HttpApiSchema.annotations({ status: 431, description: "The request line and headers (the query string included) are too large" })
) {}

export class RateLimited extends Schema.TaggedError<RateLimited>()(
  "RateLimited",
  fields,
  HttpApiSchema.annotations({
    status: 429,
    description: "Too many requests; retry after the Retry-After header (the RateLimit-* headers say how many remain)"
  })
) {}

export class DatabaseError extends Schema.TaggedError<DatabaseError>()(
  "DatabaseError",
  fields,
  HttpApiSchema.annotations({ status: 500, description: "The database could not complete the request" })
) {
  static readonly publicMessage = "The database could not complete the request; it has been logged"
}

export class InternalError extends Schema.TaggedError<InternalError>()(
  "InternalError",
  fields,
  HttpApiSchema.annotations({ status: 500, description: "An unexpected failure; it has been logged" })
) {}

export class LockTimeout extends Schema.TaggedError<LockTimeout>()(
  "LockTimeout",
  fields,
  HttpApiSchema.annotations({ status: 503, description: "A record is busy; retry after the Retry-After header" })
) {}

export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>()(
  "ServiceUnavailable",
  fields,
  HttpApiSchema.annotations({ status: 503, description: "The server is starting or stopping; retry after the Retry-After header" })
) {
  static readonly notServing = "The server is starting or stopping; please retry shortly"
}

export class UpstreamUnavailable extends Schema.TaggedError<UpstreamUnavailable>()(
  "UpstreamUnavailable",
  fields,
  HttpApiSchema.annotations({ status: 503, description: "An outside service is unavailable; retry after the Retry-After header" })
) {}

/** A webhook whose signature does not verify (missing, made with another secret, stale, or over another body). */
export class InvalidSignature extends Schema.TaggedError<InvalidSignature>()(
  "InvalidSignature",
  fields,
  HttpApiSchema.annotations({ status: 400, description: "The webhook's signature does not verify; nothing was recorded" })
) {}

/** A payment provider this instance has no keys for; the message names the missing settings. */
export class PaymentsUnavailable extends Schema.TaggedError<PaymentsUnavailable>()(
  "PaymentsUnavailable",
  fields,
  HttpApiSchema.annotations({ status: 503, description: "Payments with this provider are not configured on this server" })
) {}

type ErrorClass<A, I> = Schema.Schema<A, I> & {
  readonly _tag: string
  readonly fields: Schema.Struct.Fields
  new(props: { readonly message: string }): A
}

/** What an error carries beside its message (e.g. a 402's `required` and `balance`), written into its body. */
export const detailsOf = (error: object): Record<string, string | number | boolean> =>
  Object.fromEntries(
    Object.entries(error).filter((entry): entry is [string, string | number | boolean] =>
      entry[0] !== "_tag" && entry[0] !== "message" &&
      (typeof entry[1] === "string" || typeof entry[1] === "number" || typeof entry[1] === "boolean")
    )
  )

/** The most of a client's input an error message repeats back. */
export const maxEcho = 100

/** At most `max` characters of `text` (never half of a surrogate pair), marked when cut: how a message quotes input. */
export const excerpt = (text: string, max: number = maxEcho): string => {
  if (text.length <= max) return text
  const cut = /[\uD800-\uDBFF]$/.test(text.slice(0, max)) ? max - 1 : max
  return `${text.slice(0, cut)}… (${text.length} characters)`
}

export const hasNul = (text: string): boolean => text.includes("\u0000")

/**
 * The refusal of text PostgreSQL cannot store (its text and jsonb hold no NUL, U+0000), made wherever
 * request text is read: by the edge for paths, queries and JSON bodies, by the upload's reader for its fields.
 */
export const nulRefused = (field: string) =>
  new ValidationError({ message: `${excerpt(field)}: must not contain the NUL character (U+0000)` })

/** The machine code of an error: its tag in snake case (`LockTimeout` -> `lock_timeout`). */
export const errorCode = (tag: string): string => Str.pascalToSnake(tag)

/** The one error body. */
export const ErrorBody = <Code extends string>(code: Schema.Schema<Code>) =>
  Schema.Struct({
    error: Schema.Struct({ code, message: Schema.String, request_id: Schema.String })
  })

const AnyErrorBody = ErrorBody(Schema.String)

export const errorBody = (
  tag: string,
  message: string,
  requestId: string,
  details: Record<string, string | number | boolean> = {}
): typeof AnyErrorBody.Type => ({
  error: { ...details, code: errorCode(tag), message, request_id: requestId }
})

/**
 * The wire form of an error class, used by the API contract: the shared body shape with the class's
 * status. Encoding reads the current request id, so every error body names its request.
 */
export const httpError = <A extends { readonly _tag: string; readonly message: string }, I>(error: ErrorClass<A, I>) => {
  const code = errorCode(error._tag)
  const { _tag: _, message: __, ...details } = error.fields
  const Body = Schema.Struct({
    error: Schema.Struct({ ...details, code: Schema.Literal(code), message: Schema.String, request_id: Schema.String })
  })
  return Schema.transformOrFail(Body, Schema.typeSchema(error), {
    strict: true,
    decode: (body) => {
      const { code: _code, request_id: _requestId, ...props } = body.error
      return ParseResult.succeed(new error(props))
    },
    encode: (value) =>
      Effect.flatMap(FiberRef.get(CurrentRequestId), (requestId) =>
        ParseResult.decodeUnknown(Body)({
          error: { ...detailsOf(value), code, message: value.message, request_id: requestId }
        }))
  }).annotations({
    ...HttpApiSchema.annotations({ status: HttpApiSchema.getStatusError(error) }),
    identifier: error._tag,
    description: Option.getOrUndefined(AST.getDescriptionAnnotation(error.ast))
  })
}

/** Every error a client can receive, for rendering failures that escape a handler's own contract. */
export const ApiErrors = [
  ValidationError,
  Unauthorized,
  InsufficientCredits,
  NotFound,
  Gone,
  RequestTimeout,
  Conflict,
  PayloadTooLarge,
  UnsupportedMediaType,
  UnsupportedExport,
  HeadersTooLarge,
  RateLimited,
  DatabaseError,
  InternalError,
  LockTimeout,
  ServiceUnavailable,
  UpstreamUnavailable,
  InvalidSignature,
  PaymentsUnavailable
] as const

export type ApiError = InstanceType<(typeof ApiErrors)[number]>

export const isApiError = (u: unknown): u is ApiError => ApiErrors.some((error) => u instanceof error)

/** The HTTP status of an error, from its class's annotation. */
export const statusOf = (error: ApiError): number => {
  const errorClass = ApiErrors.find((candidate) => error instanceof candidate)
  return errorClass === undefined ? 500 : HttpApiSchema.getStatusError(errorClass)
}
