/** Handlers of the credits group. */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { CurrentUser } from "../Domain/RequestContext.js"
import { Credits } from "../Credits.js"

export const HttpCreditsLive = HttpApiBuilder.group(Api, "credits", (handlers) =>
  Effect.gen(function*() {
    const credits = yield* Credits
    return handlers
      .handle("balance", () => Effect.flatMap(CurrentUser, (user) => credits.balance(user.sub)))
      .handle("transactions", ({ urlParams }) =>
        Effect.flatMap(CurrentUser, (user) => credits.transactions(user.sub, urlParams)))
      .handle("packages", () => credits.packages)
  })).pipe(Layer.provide(Credits.Default))
