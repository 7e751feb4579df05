/** Handlers of the insights group; the deprecated generate route says so in its headers. */
import { HttpApiBuilder, HttpApp, HttpServerResponse } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { CurrentUser } from "../Domain/RequestContext.js"
import { Insights } from "../Insights.js"

/** RFC 9745's Deprecation header (a date, as `@` seconds) and a Link to what replaces the route. */
const deprecationHeaders = {
  deprecation: "@1767225600",
  link: "</api/insights/unlock>; rel=\"successor-version\""
}

export const HttpInsightsLive = HttpApiBuilder.group(Api, "insights", (handlers) =>
  Effect.gen(function*() {
    const insights = yield* Insights
    return handlers
      .handle("unlock", ({ headers, payload }) =>
        Effect.flatMap(CurrentUser, (user) =>
          insights.unlock({
            userId: user.sub,
            chatId: payload.chat_id,
            categoryId: payload.category_id,
            idempotencyKey: headers["idempotency-key"]
          })))
      .handle("jobStatus", ({ path }) => Effect.flatMap(CurrentUser, (user) => insights.jobStatus(user.sub, path.job_id)))
      .handle("chatInsights", ({ path, urlParams }) =>
        Effect.flatMap(CurrentUser, (user) => insights.ofChat(user.sub, path.chat_id, urlParams.category_id)))
      .handle("generate", ({ payload }) =>
        Effect.gen(function*() {
          // Before the work, so that refusals carry the headers too.
          yield* HttpApp.appendPreResponseHandler((_, response) =>
            Effect.succeed(HttpServerResponse.setHeaders(response, deprecationHeaders))
          )
          const user = yield* CurrentUser
          return yield* insights.generate(user.sub, payload.chat_id, payload.insight_type_id)
        }))
  })).pipe(Layer.provide(Insights.Default))
