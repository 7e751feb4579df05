/**
 * The live `Authentication` middleware: verifies the bearer token, then refuses the tokens of deleted
 * accounts. A subject with no account yet passes, so that `POST /api/users/store` can create it.
 */
import { Effect, FiberRef, Layer, Option, Redacted } from "effect"
import { TokenVerifier } from "../Auth.js"
import { Unauthorized } from "../Domain/Errors.js"
import { CurrentUserId } from "../Domain/RequestContext.js"
import { deletedAccount, Users } from "../Users.js"
import { Authentication } from "./Api.js"

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.gen(function*() {
    const verifier = yield* TokenVerifier
    const users = yield* Users
    return Authentication.of({
      bearer: (token) =>
        Effect.gen(function*() {
          const raw = Redacted.value(token)
          if (raw.length === 0) {
            return yield* new Unauthorized({ message: "Send a bearer token: Authorization: Bearer <token>" })
          }
          const claims = yield* verifier.verify(raw)
          if ((yield* users.status(claims)) === "deleted") return yield* deletedAccount()
          yield* FiberRef.set(CurrentUserId, Option.some(claims.sub))
          return claims
        })
    })
  })
).pipe(Layer.provide([TokenVerifier.Default, Users.Default]))
