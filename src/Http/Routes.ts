/**
 * The contract's endpoints as the edge needs them before routing: which media types each one's body
 * may be. Read from the `HttpApi` itself, so a new endpoint is covered without being listed.
 */
import { HttpApi, type HttpApiGroup } from "@effect/platform"

interface Route {
  readonly method: string
  readonly segments: ReadonlyArray<string>
  readonly types: ReadonlyArray<string>
}

const segmentsOf = (path: string): ReadonlyArray<string> => path.split("/").filter((segment) => segment !== "")

const matches = (template: ReadonlyArray<string>, path: ReadonlyArray<string>): boolean =>
  template.length === path.length &&
  template.every((segment, i) => segment.startsWith(":") ? path[i] !== "" : segment === path[i])

/**
 * The media types `method path` reads, by the contract (none for a route without a payload or no route
 * at all). A literal segment wins over a parameter, as in the router: `/api/chats/public/...` before
 * `/api/chats/:chat_id/...`.
 */
export const bodyTypes = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>
): (method: string, path: string) => ReadonlyArray<string> => {
  const routes: Array<Route> = []
  HttpApi.reflect(api, {
    onGroup: () => undefined,
    onEndpoint: ({ endpoint, payloads }) => {
      routes.push({ method: endpoint.method, segments: segmentsOf(endpoint.path), types: [...payloads.keys()] })
    }
  })
  const literals = (route: Route) => route.segments.filter((segment) => !segment.startsWith(":")).length
  routes.sort((a, b) => literals(b) - literals(a))
  return (method, path) => {
    const segments = segmentsOf(path)
    return routes.find((route) => route.method === method && matches(route.segments, segments))?.types ?? []
  }
}
