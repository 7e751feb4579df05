/**
 * The contract's endpoints as the edge needs them before routing: each one's route template (the span's
 * name and `http.route`) and which media types its body may be. Read from the `HttpApi` itself, so a new
 * endpoint is covered without being listed.
 */
import { HttpApi, type HttpApiGroup, type HttpServerRequest } from "@effect/platform"

/** What the edge knows of a request's endpoint. */
export interface Route {
  /** The path as the OpenAPI document writes it: `/api/chats/{chat_id}`. */
  readonly template: string
  /** Media types its body may be (`application/json`, `multipart/form-data`); none when it reads no body. */
  readonly types: ReadonlyArray<string>
}

interface Parameterised extends Route {
  readonly method: string
  readonly segments: ReadonlyArray<string>
}

const segmentsOf = (path: string): ReadonlyArray<string> => path.split("/").filter((segment) => segment !== "")

const matches = (template: ReadonlyArray<string>, path: ReadonlyArray<string>): boolean =>
  template.length === path.length &&
  template.every((segment, i) => segment.startsWith(":") ? path[i] !== "" : segment === path[i])

/** `/api/chats/:chat_id` in the OpenAPI document's form, `/api/chats/{chat_id}`. */
export const asTemplate = (path: string): string => path.replace(/:(\w+)/g, "{$1}")

/**
 * The endpoint `method path` is, by the contract (none for a path no endpoint declares). A literal
 * segment wins over a parameter, as in the router: `/api/chats/public/...` before `/api/chats/:chat_id/...`.
 * Paths without parameters are found in a map: the hottest routes are among them.
 */
export const routeTable = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>
): (method: string, path: string) => Route | undefined => {
  const literal = new Map<string, Route>()
  const parameterised: Array<Parameterised> = []
  HttpApi.reflect(api, {
    onGroup: () => undefined,
    onEndpoint: ({ endpoint, payloads }) => {
      const route = { template: asTemplate(endpoint.path), types: [...payloads.keys()] }
      const segments = segmentsOf(endpoint.path)
      if (segments.some((segment) => segment.startsWith(":"))) {
        parameterised.push({ ...route, method: endpoint.method, segments })
      } else {
        literal.set(`${endpoint.method} /${segments.join("/")}`, route)
      }
    }
  })
  const literals = (route: Parameterised) => route.segments.filter((segment) => !segment.startsWith(":")).length
  parameterised.sort((a, b) => literals(b) - literals(a))
  return (method, path) => {
    const exact = literal.get(`${method} ${path}`)
    if (exact !== undefined) return exact
    const segments = segmentsOf(path)
    if (segments.length === 0) return literal.get(`${method} /`)
    const found = parameterised.find((route) => route.method === method && matches(route.segments, segments))
    return found ?? (path.endsWith("/") ? literal.get(`${method} /${segments.join("/")}`) : undefined)
  }
}

/** `table`'s answer for a request, looked up once per request (the span's name and the edge both ask). */
export const routeOfRequest = (table: (method: string, path: string) => Route | undefined) => {
  const seen = new WeakMap<HttpServerRequest.HttpServerRequest, Route | null>()
  return (request: HttpServerRequest.HttpServerRequest): Route | undefined => {
    const cached = seen.get(request)
    if (cached !== undefined) return cached ?? undefined
    const query = request.url.indexOf("?")
    const route = table(request.method, query === -1 ? request.url : request.url.slice(0, query))
    seen.set(request, route ?? null)
    return route
  }
}
