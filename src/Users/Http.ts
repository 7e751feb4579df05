/** Handlers of the users group. */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { CurrentUser } from "../Domain/RequestContext.js"
import { Users } from "../Users.js"

export const HttpUsersLive = HttpApiBuilder.group(Api, "users", (handlers) =>
  Effect.gen(function*() {
    const users = yield* Users
    return handlers
      .handle("store", () => Effect.flatMap(CurrentUser, users.store))
      .handle("erase", ({ payload }) => Effect.flatMap(CurrentUser, (claims) => users.erase(claims, payload.confirm)))
      .handle("erasure", ({ path }) => users.erasure(path.erasure_id))
  })).pipe(Layer.provide(Users.Default))
