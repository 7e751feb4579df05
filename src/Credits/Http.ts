/**
 * Handlers of the credits group, and the balance on the Node server's lean lane (Http/Lane.ts): every
 * client polls it, so its plain requests are answered from the authentication's own query (the
 * account's standing and balance are one row). Both answer the contract's `Balance` and errors.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { Authenticator, bearerToken } from "../Auth.js"
import type { Balance } from "../Domain/Credits.js"
import { CurrentUser } from "../Domain/RequestContext.js"
import { noAccount } from "../Domain/User.js"
import { Credits } from "../Credits.js"
import type { LaneRoute } from "../Http/Lane.js"

export const HttpCreditsLive = HttpApiBuilder.group(Api, "credits", (handlers) =>
  Effect.gen(function*() {
    const credits = yield* Credits
    return handlers
      // Plain requests are answered on the lean lane when the Node server serves (`BalanceLane`).
      .handle("balance", () => Effect.flatMap(CurrentUser, (user) => credits.balance(user.sub)))
      .handle("transactions", ({ urlParams }) =>
        Effect.flatMap(CurrentUser, (user) => credits.transactions(user.sub, urlParams)))
      .handle("packages", () => credits.packages)
  })).pipe(Layer.provide(Credits.Default))

/**
 * `GET /api/credits/balance` on the lean lane: the token's account and its balance in one query. Its
 * spans are the server span, the token check and the query: the route is the whole of the work.
 */
export const BalanceLane = Effect.map(Authenticator, (authenticator): LaneRoute => ({
  path: "/api/credits/balance",
  answer: (authorization) =>
    Effect.gen(function*() {
      const { claims, standing } = yield* authenticator.authenticate(bearerToken(authorization))
      if (standing.balance === null) return yield* noAccount(claims.sub)
      // `Balance` encodes to itself (a string and an integer): written as it is.
      const body: typeof Balance.Encoded = { user_id: claims.sub, balance: standing.balance }
      return body
    })
}))
