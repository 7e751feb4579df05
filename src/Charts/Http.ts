/** Handlers of the charts group: the owner's statistics, drawn. */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { drawChartOf } from "../Charts.js"
import { Chats } from "../Chats.js"
import { kindOfFile } from "../Domain/Charts.js"
import { CurrentUser } from "../Domain/RequestContext.js"

export const HttpChartsLive = HttpApiBuilder.group(Api, "charts", (handlers) =>
  Effect.gen(function*() {
    const chats = yield* Chats
    return handlers.handle("chart", ({ path, urlParams }) =>
      Effect.gen(function*() {
        const user = yield* CurrentUser
        const chat = yield* chats.get(user.sub, path.chat_id)
        const svg = drawChartOf(kindOfFile[path.chart], chat.statistics, "owner", {
          ...(urlParams.width === undefined ? {} : { width: urlParams.width }),
          ...(urlParams.height === undefined ? {} : { height: urlParams.height })
        }).svg
        return HttpServerResponse.text(svg, {
          contentType: "image/svg+xml; charset=utf-8",
          // The owner's names are in it: never kept by a shared cache.
          headers: { "cache-control": "private, no-cache" }
        })
      }).pipe(Effect.withSpan("Charts.chart", { attributes: { chart: path.chart } })))
  })).pipe(Layer.provide(Chats.Default))
