/**
 * What every request must pass before a handler sees it: a body of a type its endpoint reads and of a
 * size it allows, no NUL character (PostgreSQL's text and jsonb cannot hold U+0000, so it would fail
 * deep in a query), and JSON no deeper than any payload of ours (deeper JSON only serves to exhaust
 * the stack of whatever formats it).
 */
import { HttpMethod, type HttpServerRequest } from "@effect/platform"
import { Effect, Option } from "effect"
import {
  type ApiError,
  excerpt,
  hasNul,
  nulRefused,
  PayloadTooLarge,
  UnsupportedMediaType,
  ValidationError
} from "../Domain/Errors.js"
import { hasBoundary, isJson, parseMediaType } from "./ContentType.js"

/** What the contract lets an endpoint's body be. */
export interface BodyRules {
  /** Media types it reads (`application/json`, `multipart/form-data`); none when it reads no body. */
  readonly types: ReadonlyArray<string>
  /** Its largest body, in bytes. */
  readonly limit: number
}

const maxJsonDepth = 32

const hasBody = (request: HttpServerRequest.HttpServerRequest): boolean =>
  request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? "0") > 0

/** A NUL in the query can only arrive percent-encoded (Node refuses a raw one), so the query is decoded only then. */
const queryRefusal = (url: string): Option.Option<ApiError> => {
  const query = url.indexOf("?") === -1 ? "" : url.slice(url.indexOf("?") + 1)
  const path = url.slice(0, url.length - query.length)
  if (/%00/i.test(path)) return Option.some(nulRefused("path"))
  if (!/%00/i.test(query)) return Option.none()
  for (const [key, value] of new URLSearchParams(query)) {
    if (hasNul(key)) return Option.some(nulRefused("query parameter name"))
    if (hasNul(value)) return Option.some(nulRefused(key))
  }
  return Option.none()
}

const fieldOf = (path: ReadonlyArray<string>): string => path.length === 0 ? "body" : path.join(".")

/** Walks parsed JSON breadth first (no recursion: the depth is what is being checked). */
const jsonRefusal = (root: unknown): Option.Option<ApiError> => {
  const queue: Array<{ readonly value: unknown; readonly path: ReadonlyArray<string> }> = [{ value: root, path: [] }]
  for (let head = 0; head < queue.length; head++) {
    const entry = queue[head]
    if (entry === undefined) break
    const { path, value } = entry
    if (path.length > maxJsonDepth) {
      return Option.some(new ValidationError({ message: `body: nested deeper than ${maxJsonDepth} levels` }))
    }
    if (typeof value === "string") {
      if (hasNul(value)) return Option.some(nulRefused(fieldOf(path)))
    } else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (hasNul(key)) return Option.some(nulRefused(`${fieldOf(path)} (a property name)`))
        queue.push({ value: item, path: [...path, key] })
      }
    }
  }
  return Option.none()
}

const unsupported = (types: ReadonlyArray<string>, sent: string) =>
  new UnsupportedMediaType({
    message: `This endpoint reads ${types.join(" or ")}; the body was sent as ${excerpt(sent)}`
  })

/**
 * The refusal of `request`, if it has one. A JSON body is read here: the platform's request keeps the
 * text it read, and the handler decodes that same text (a middleware that swapped the request for a
 * copy, with `request.modify`, would leave the handler waiting on a body already read). A body that
 * does not parse is left to the handler, which refuses it after authentication like any other payload
 * that does not decode.
 */
export const refusal = (
  request: HttpServerRequest.HttpServerRequest,
  rules: BodyRules
): Effect.Effect<Option.Option<ApiError>> => {
  const decided = refusalBeforeBody(request, rules)
  return decided === undefined ? jsonRefusalOf(request) : Effect.succeed(decided)
}

const noRefusal: Option.Option<ApiError> = Option.none()

/** The refusal the request line and headers decide (every request without a JSON body); undefined when the body must be read. */
const refusalBeforeBody = (
  request: HttpServerRequest.HttpServerRequest,
  rules: BodyRules
): Option.Option<ApiError> | undefined => {
  const inUrl = queryRefusal(request.url)
  if (Option.isSome(inUrl)) return inUrl
  // A declared length over the limit is refused before reading; a streamed body is cut at the limit.
  if (Number(request.headers["content-length"] ?? "0") > rules.limit) {
    return Option.some(new PayloadTooLarge({ message: `The request body is larger than ${rules.limit} bytes` }))
  }
  if (rules.types.length === 0 || !HttpMethod.hasBody(request.method) || !hasBody(request)) return noRefusal

  // The platform reads a body without a type as JSON; so does this.
  const header = request.headers["content-type"] ?? "application/json"
  const type = parseMediaType(header)
  if (Option.isNone(type)) {
    return Option.some(new ValidationError({ message: `content-type: ${excerpt(header)} is not a valid media type` }))
  }
  const { essence } = type.value
  const reads = rules.types.includes(essence) || (isJson(essence) && rules.types.includes("application/json"))
  if (!reads) return Option.some(unsupported(rules.types, essence))
  if (essence === "multipart/form-data" && !hasBoundary(type.value)) {
    return Option.some(new ValidationError({ message: "multipart/form-data needs a boundary parameter (1 to 70 characters)" }))
  }
  return isJson(essence) ? undefined : noRefusal
}

const jsonRefusalOf = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<Option.Option<ApiError>> =>
  Effect.gen(function*() {
    const text = yield* Effect.option(request.text)
    if (Option.isNone(text) || text.value === "") return Option.none()
    const parsed = yield* Effect.option(Effect.try((): unknown => JSON.parse(text.value)))
    return Option.flatMap(parsed, jsonRefusal)
  })
