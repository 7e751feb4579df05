/**
 * Handlers of the credits group, and the balance read as a direct route of the edge: every client polls
 * it, so it skips the router's per-request decoding and takes the balance from the authentication's own
 * query (the account's standing and balance are one row). Both answer the contract's `Balance` and errors.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { Authenticator, bearerToken } from "../Auth.js"
import type { Balance } from "../Domain/Credits.js"
import { CurrentUser } from "../Domain/RequestContext.js"
import { noAccount } from "../Domain/User.js"
import { Credits } from "../Credits.js"

export const HttpCreditsLive = HttpApiBuilder.group(Api, "credits", (handlers) =>
  Effect.gen(function*() {
    const credits = yield* Credits
    return handlers
      // Answered by `BalanceRoute` when served behind the edge (Http.ts); kept for the contract.
      .handle("balance", () => Effect.flatMap(CurrentUser, (user) => credits.balance(user.sub)))
      .handle("transactions", ({ urlParams }) =>
        Effect.flatMap(CurrentUser, (user) => credits.transactions(user.sub, urlParams)))
      .handle("packages", () => credits.packages)
  })).pipe(Layer.provide(Credits.Default))

/** `GET /api/credits/balance` as a direct route of the edge: the token's account and its balance in one query. */
export const BalanceRoute = Effect.map(Authenticator, (authenticator) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const { claims, standing } = yield* authenticator.authenticate(bearerToken(request.headers.authorization))
    if (standing.balance === null) return yield* noAccount(claims.sub)
    // `Balance` encodes to itself (a string and an integer): written as it is.
    const body: typeof Balance.Encoded = { user_id: claims.sub, balance: standing.balance }
    return HttpServerResponse.unsafeJson(body)
  }).pipe(Effect.withSpan("Credits.balance", { captureStackTrace: false })))
