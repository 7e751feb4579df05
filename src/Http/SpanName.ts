/**
 * Server span names as OpenTelemetry's HTTP conventions give them: `{method} {route}` with the route's
 * template (`GET /api/chats/{chat_id}`), the method alone when no route matched. The contract's routes
 * are known before routing (see Routes.ts), so their spans are named as they start; a route beside the
 * contract (the docs) is known only once the router matched it, and its span is renamed then.
 */
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import { type HttpServerRequest } from "@effect/platform"
import { Effect, Option } from "effect"
import { asTemplate, type Route } from "./Routes.js"

/** The span's name as it starts (never the raw URL, which is unbounded). */
export const spanNameOf = (routeOf: (request: HttpServerRequest.HttpServerRequest) => Route | undefined) =>
(request: HttpServerRequest.HttpServerRequest): string => {
  const route = routeOf(request)
  return route === undefined ? request.method : `${request.method} ${route.template}`
}

// The router's route paths, a few dozen: each is rewritten once.
const templates = new Map<string, string>()

/** The router's `/api/chats/:chat_id` in the OpenAPI document's form, `/api/chats/{chat_id}`. */
export const templateOf = (path: string): string => {
  const known = templates.get(path)
  if (known !== undefined) return known
  const template = asTemplate(path)
  if (templates.size < 1000) templates.set(path, template)
  return template
}

/** Renames the current server span (Effect's span has a fixed name; the OpenTelemetry span under it can be renamed). */
export const renameServerSpan = (name: string): Effect.Effect<void> =>
  Effect.flatMap(Effect.option(OtelTracer.currentOtelSpan), (exported) =>
    Effect.sync(() => {
      if (Option.isSome(exported)) exported.value.updateName(name)
    }))
