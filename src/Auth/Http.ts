/**
 * The live `Authentication` middleware: verifies the bearer token, then refuses the tokens of deleted
 * accounts. A subject with no account yet passes, so that `POST /api/users/store` can create it.
 */
import { Effect, FiberRef, Layer, Option, Redacted } from "effect"
import { TokenVerifier } from "../Auth.js"
import { orDatabaseError } from "../Database.js"
import { Unauthorized } from "../Domain/Errors.js"
import { CurrentUserId } from "../Http/Middleware.js"
import { deletedAccount } from "../Users.js"
import { UsersRepo } from "../Users/Repo.js"
import { Authentication } from "./Api.js"

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.gen(function*() {
    const verifier = yield* TokenVerifier
    const users = yield* UsersRepo
    return Authentication.of({
      bearer: (token) =>
        Effect.gen(function*() {
          const raw = Redacted.value(token)
          if (raw.length === 0) {
            return yield* new Unauthorized({ message: "Send a bearer token: Authorization: Bearer <token>" })
          }
          const claims = yield* verifier.verify(raw)
          if ((yield* orDatabaseError(users.status(claims.sub))) === "deleted") return yield* deletedAccount()
          yield* FiberRef.set(CurrentUserId, Option.some(claims.sub))
          return claims
        })
    })
  })
).pipe(Layer.provide([TokenVerifier.Default, UsersRepo.Default]))
