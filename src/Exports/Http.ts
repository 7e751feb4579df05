/** Handlers of the exports group. A ready archive leaves as a stream of its stored parts, not as one buffer. */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { CurrentUser } from "../Domain/RequestContext.js"
import { Exports } from "../Exports.js"

export const HttpExportsLive = HttpApiBuilder.group(Api, "exports", (handlers) =>
  Effect.gen(function*() {
    const exports = yield* Exports
    return handlers
      .handle("start", () => Effect.flatMap(CurrentUser, (user) => exports.start(user.sub)))
      .handle("get", ({ path }) =>
        Effect.gen(function*() {
          const user = yield* CurrentUser
          const found = yield* exports.get(user.sub, path.export_id)
          if (!("_tag" in found)) return found
          return HttpServerResponse.stream(found.bytes, {
            status: 200,
            contentType: "application/zip",
            contentLength: found.sizeBytes,
            headers: {
              "content-disposition": `attachment; filename="${found.fileName}"`,
              "cache-control": "private, no-store"
            }
          })
        }))
  })).pipe(Layer.provide(Exports.Default))
