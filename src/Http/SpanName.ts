/**
 * Server span names as OpenTelemetry's HTTP conventions give them: `{method} {route}` once the route
 * is known (`GET /api/chats/{chat_id}`), the method alone when no route matched. The tracer names the
 * span before routing, so it starts as the method and is renamed when the request is done.
 */
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import { type HttpServerRequest } from "@effect/platform"
import { Effect, Option } from "effect"

/** The span's first name, given before routing: the method only (never the raw URL, which is unbounded). */
export const initialSpanName = (request: HttpServerRequest.HttpServerRequest): string => request.method

/** `/api/chats/:chat_id` in the OpenAPI document's form, `/api/chats/{chat_id}`. */
const asTemplate = (path: string): string => path.replace(/:(\w+)/g, "{$1}")

/**
 * Renames the current server span after routing, from the `http.route` attribute the router set on it
 * (rewritten in the document's form); answers the route, if one matched.
 */
export const nameServerSpan = (method: string): Effect.Effect<Option.Option<string>> =>
  Effect.gen(function*() {
    const span = yield* Effect.option(Effect.currentSpan)
    if (Option.isNone(span)) return Option.none()
    const matched = span.value.attributes.get("http.route")
    if (typeof matched !== "string") return Option.none()
    const route = asTemplate(matched)
    span.value.attribute("http.route", route)
    // Effect's span has a fixed name; the OpenTelemetry span under it can be renamed.
    const exported = yield* Effect.option(OtelTracer.currentOtelSpan)
    if (Option.isSome(exported)) exported.value.updateName(`${method} ${route}`)
    return Option.some(route)
  })
