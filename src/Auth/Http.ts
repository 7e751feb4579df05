/** The live `Authentication` middleware of the contract: the bearer token through `Authenticator` (Auth.ts). */
import { Effect, Layer, Redacted } from "effect"
import { Authenticator } from "../Auth.js"
import { Authentication } from "./Api.js"

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.map(Authenticator, (authenticator) =>
    Authentication.of({
      bearer: (token) => Effect.map(authenticator.authenticate(Redacted.value(token)), ({ claims }) => claims)
    }))
).pipe(Layer.provide(Authenticator.Default))
