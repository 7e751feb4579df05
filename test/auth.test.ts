import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import * as Jose from "jose"
import { createServer } from "node:http"
import { audience, call, errorShape, issuer, type Reply, TestApp, testSecret, tokenFor } from "./support/TestApp.js"

/** Asserts the one 401 body, whose request id is the response's own, and (when given) its message. */
const expectUnauthorized = (reply: Reply, message?: string) => {
  expect(reply.status).toBe(401)
  expect(reply.body).toEqual(errorShape("unauthorized", reply, message))
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

const nowSeconds = () => Math.floor(Date.now() / 1000)

// The application runs on the live clock (its retries sleep), not on the TestClock `layer` installs.
layer(TestApp(), { excludeTestServices: true })("authentication with the shared HS256 secret", (it) => {
  it.effect("a request without an Authorization header is refused", () =>
    Effect.gen(function*() {
      expectUnauthorized(yield* call("GET", "/api/credits/balance"), "Send a bearer token: Authorization: Bearer <token>")
      expectUnauthorized(yield* call("POST", "/api/users/store"), "Send a bearer token: Authorization: Bearer <token>")
    }))

  it.effect("a valid token is accepted, so the refusals below are about the token alone", () =>
    Effect.gen(function*() {
      const reply = yield* call("POST", "/api/users/store", { token: yield* tokenFor("auth-valid") })
      expect(reply.status).toBe(200)
      expect(reply.body).toMatchObject({ id: "auth-valid", created: true })
    }))

  it.effect("an unsigned token (alg: none) is refused", () =>
    Effect.gen(function*() {
      const now = nowSeconds()
      const token = `${base64url({ alg: "none", typ: "JWT" })}.${
        base64url({ sub: "auth-none", iss: issuer, aud: audience, iat: now, exp: now + 3600 })
      }.`
      expectUnauthorized(yield* call("POST", "/api/users/store", { token }), "The token's algorithm is not accepted")
      expectUnauthorized(yield* call("GET", "/api/credits/balance", { token }), "The token's algorithm is not accepted")
    }))

  it.effect("a token signed with another secret is refused", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("auth-forged", { secret: Redacted.make("another-secret-that-is-long-enough-too") })
      expectUnauthorized(yield* call("POST", "/api/users/store", { token }), "The token's signature does not verify")
    }))

  it.effect("an expired token is refused", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("auth-expired", { expiresIn: nowSeconds() - 60 })
      expectUnauthorized(yield* call("POST", "/api/users/store", { token }), "The token has expired")
    }))

  it.effect("a token from another issuer is refused", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("auth-issuer", { issuer: "someone-else" })
      expectUnauthorized(yield* call("POST", "/api/users/store", { token }), "The token was issued by someone else")
    }))

  it.effect("a token for another audience is refused", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("auth-audience", { audience: "another-api" })
      expectUnauthorized(yield* call("POST", "/api/users/store", { token }), "The token is meant for another audience")
    }))

  it.effect("a malformed token is refused", () =>
    Effect.gen(function*() {
      expectUnauthorized(yield* call("POST", "/api/users/store", { token: "abc" }), "The token is malformed")
      expectUnauthorized(yield* call("GET", "/api/credits/balance", { token: "abc" }), "The token is malformed")
    }))

  it.effect("a correctly signed token that names no subject is refused", () =>
    Effect.gen(function*() {
      const token = yield* Effect.promise(() =>
        new Jose.SignJWT({ email: "nobody@example.com" })
          .setProtectedHeader({ alg: "HS256", typ: "JWT" })
          .setIssuer(issuer)
          .setAudience(audience)
          .setIssuedAt()
          .setExpirationTime("1h")
          .sign(new TextEncoder().encode(Redacted.value(testSecret)))
      )
      expectUnauthorized(yield* call("POST", "/api/users/store", { token }), "The token names no valid subject")
    }))

  it.effect("the token of a deleted account is refused, on reads and on POST /api/users/store", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("auth-deleted", { email: "gone@example.com" })
      const created = yield* call("POST", "/api/users/store", { token })
      expect(created.status).toBe(200)
      expect(created.body).toMatchObject({ id: "auth-deleted", created: true })
      const before = yield* call("GET", "/api/credits/balance", { token })
      expect(before.status).toBe(200)

      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE users SET deleted_at = now() WHERE id = ${"auth-deleted"}`

      expectUnauthorized(yield* call("GET", "/api/credits/balance", { token }), "This account has been deleted")
      expectUnauthorized(yield* call("GET", "/api/credits/transactions", { token }), "This account has been deleted")
      expectUnauthorized(yield* call("POST", "/api/users/store", { token }), "This account has been deleted")
      // A fresh token for the same subject is refused too: the account, not the token, is gone.
      const fresh = yield* tokenFor("auth-deleted", { email: "back@example.com" })
      expectUnauthorized(yield* call("POST", "/api/users/store", { token: fresh }), "This account has been deleted")
      const rows = yield* sql<{ email: string | null; deleted: boolean }>`
        SELECT email, deleted_at IS NOT NULL AS deleted FROM users WHERE id = ${"auth-deleted"}`
      expect(rows).toEqual([{ email: "gone@example.com", deleted: true }])
    }))
})

/** The identity provider of the JWKS tests: its signing key, and a key it never published. */
class IdentityProvider extends Context.Tag("test/IdentityProvider")<IdentityProvider, {
  readonly kid: string
  readonly privateKey: Jose.CryptoKey
  readonly strangerKey: Jose.CryptoKey
  readonly issuer: string
  readonly audience: string
  readonly jwksRequests: () => number
}>() {}

const jwksIssuer = "https://idp.example.test/"
const jwksAudience = "chatsight-jwks"

/** Serves a JWKS on 127.0.0.1 (an OS-chosen port) and runs the application against it. */
const JwksApp = Layer.unwrapScoped(
  Effect.gen(function*() {
    const kid = "test-key-1"
    const { privateKey, publicKey } = yield* Effect.promise(() => Jose.generateKeyPair("RS256"))
    const stranger = yield* Effect.promise(() => Jose.generateKeyPair("RS256"))
    const jwk = { ...(yield* Effect.promise(() => Jose.exportJWK(publicKey))), kid, alg: "RS256", use: "sig" }
    let requests = 0

    const server = yield* Effect.acquireRelease(
      Effect.async<ReturnType<typeof createServer>>((resume) => {
        const server = createServer((request, response) => {
          if (request.url === "/jwks.json") {
            requests += 1
            response.writeHead(200, { "content-type": "application/json" })
            response.end(JSON.stringify({ keys: [jwk] }))
          } else {
            response.writeHead(404)
            response.end()
          }
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const address = server.address()
    if (address === null || typeof address === "string") return yield* Effect.die("the JWKS server has no port")

    return Layer.merge(
      TestApp({
        AUTH_JWKS_URL: `http://127.0.0.1:${address.port}/jwks.json`,
        AUTH_ISSUER: jwksIssuer,
        AUTH_AUDIENCE: jwksAudience
      }),
      Layer.succeed(IdentityProvider, {
        kid,
        privateKey,
        strangerKey: stranger.privateKey,
        issuer: jwksIssuer,
        audience: jwksAudience,
        jwksRequests: () => requests
      })
    )
  })
)

const rs256Token = (
  key: Jose.CryptoKey,
  kid: string,
  claims: { readonly sub: string; readonly email?: string; readonly name?: string }
) =>
  Effect.promise(() =>
    new Jose.SignJWT({
      ...(claims.email === undefined ? {} : { email: claims.email }),
      ...(claims.name === undefined ? {} : { name: claims.name })
    })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid })
      .setSubject(claims.sub)
      .setIssuer(jwksIssuer)
      .setAudience(jwksAudience)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(key)
  )

layer(JwksApp, { excludeTestServices: true })("authentication against an identity provider's JWKS", (it) => {
  it.effect("an RS256 token signed with a published key is accepted and creates the account", () =>
    Effect.gen(function*() {
      const idp = yield* IdentityProvider
      const token = yield* rs256Token(idp.privateKey, idp.kid, { sub: "jwks-user", email: "jwks@example.com", name: "Jay" })
      const reply = yield* call("POST", "/api/users/store", { token })
      expect(reply.status).toBe(200)
      expect(reply.body).toMatchObject({
        id: "jwks-user",
        email: "jwks@example.com",
        name: "Jay",
        credit_balance: 10,
        created: true
      })
      expect(idp.jwksRequests()).toBeGreaterThanOrEqual(1)
      const balance = yield* call("GET", "/api/credits/balance", { token })
      expect(balance.status).toBe(200)
      expect(balance.body).toEqual({ user_id: "jwks-user", balance: 10 })
    }))

  it.effect("an HS256 token signed with the shared test secret is refused in JWKS mode", () =>
    Effect.gen(function*() {
      const idp = yield* IdentityProvider
      const token = yield* tokenFor("jwks-hs256", { issuer: idp.issuer, audience: idp.audience })
      expectUnauthorized(yield* call("POST", "/api/users/store", { token }), "The token's algorithm is not accepted")
    }))

  it.effect("an RS256 token signed by a key the provider never published is refused", () =>
    Effect.gen(function*() {
      const idp = yield* IdentityProvider
      const sameKid = yield* rs256Token(idp.strangerKey, idp.kid, { sub: "jwks-stranger" })
      expectUnauthorized(yield* call("POST", "/api/users/store", { token: sameKid }), "The token's signature does not verify")
      const otherKid = yield* rs256Token(idp.strangerKey, "unknown-key", { sub: "jwks-stranger" })
      expectUnauthorized(yield* call("POST", "/api/users/store", { token: otherKid }))
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql`SELECT id FROM users WHERE id = ${"jwks-stranger"}`
      expect(rows).toEqual([])
    }))

  it.effect("an unsigned token (alg: none) is refused in JWKS mode", () =>
    Effect.gen(function*() {
      const idp = yield* IdentityProvider
      const now = nowSeconds()
      const token = `${base64url({ alg: "none", typ: "JWT" })}.${
        base64url({ sub: "jwks-none", iss: idp.issuer, aud: idp.audience, iat: now, exp: now + 3600 })
      }.`
      expectUnauthorized(yield* call("POST", "/api/users/store", { token }), "The token's algorithm is not accepted")
    }))
})
