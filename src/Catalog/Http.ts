/** Handlers of the categories group. */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { Catalog } from "../Catalog.js"

export const HttpCatalogLive = HttpApiBuilder.group(Api, "categories", (handlers) =>
  Effect.gen(function*() {
    const catalog = yield* Catalog
    return handlers
      .handle("list", () => catalog.categories)
      .handle("insights", ({ path }) => catalog.insightsOf(path.category_id))
  })).pipe(Layer.provide(Catalog.Default))
