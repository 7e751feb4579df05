/**
 * Bearer token verification with `jose`: RS/ES/EdDSA tokens against a hosted identity provider's JWKS,
 * or HS256 tokens against a shared secret. Without either, the embedded mode keeps a dev secret under
 * `DATA_DIR` and `npm run token` signs tokens with it. `Authenticator` then refuses the tokens of deleted
 * accounts; the contract's `Authentication` middleware (Auth/Http.ts) and the edge's direct routes (the
 * balance, Credits/Http.ts) both use it. A subject with no account yet passes, so that
 * `POST /api/users/store` can create it.
 */
import { Data, Duration, Effect, FiberRef, Option, Redacted } from "effect"
import * as Jose from "jose"
import { randomBytes, webcrypto } from "node:crypto"
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { AuthConfig } from "./Config.js"
import type { Claims } from "./Domain/User.js"
import { Unauthorized } from "./Domain/Errors.js"
import { CurrentUserId } from "./Domain/RequestContext.js"
import { deletedAccount, Users } from "./Users.js"

const asymmetric = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]

/** Reads the dev secret under `dataDir`, creating it (owner-only) on first use. */
export const devSecret = (dataDir: string) =>
  Effect.promise(async () => {
    const file = join(dataDir, "dev-jwt-secret")
    try {
      return Redacted.make((await readFile(file, "utf8")).trim())
    } catch {
      await mkdir(dataDir, { recursive: true })
      const secret = randomBytes(32).toString("base64url")
      await writeFile(file, secret, { flag: "wx", mode: 0o600 }).catch(() => undefined)
      await chmod(file, 0o600).catch(() => undefined)
      return Redacted.make((await readFile(file, "utf8")).trim())
    }
  })

/** Signs an HS256 token: for the dev secret (`npm run token`) and for tests. */
export const signToken = (
  secret: Redacted.Redacted,
  claims: { readonly sub: string; readonly email?: string | undefined; readonly name?: string | undefined },
  options: { readonly issuer: string; readonly audience: string; readonly expiresIn?: string | number }
) =>
  Effect.promise(() =>
    new Jose.SignJWT({
      ...(claims.email === undefined ? {} : { email: claims.email }),
      ...(claims.name === undefined ? {} : { name: claims.name })
    })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? "12h")
      .sign(new TextEncoder().encode(Redacted.value(secret)))
  )

/** A client-facing reason for a rejected token; never the library's own text. */
const reason = (error: unknown): string => {
  if (error instanceof Jose.errors.JWTExpired) return "The token has expired"
  if (error instanceof Jose.errors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return "The token was issued by someone else"
    if (error.claim === "aud") return "The token is meant for another audience"
    return `The token's ${error.claim} claim is not valid`
  }
  if (error instanceof Jose.errors.JOSEAlgNotAllowed) return "The token's algorithm is not accepted"
  if (error instanceof Jose.errors.JWSSignatureVerificationFailed) return "The token's signature does not verify"
  if (error instanceof Jose.errors.JWKSNoMatchingKey) return "The token was signed with an unknown key"
  return "The token is malformed"
}

const str = (value: unknown): string | null => typeof value === "string" && value.length > 0 ? value : null

/** Production with no identity provider and no secret would run on the development secret: refused. */
export class NoProductionAuth extends Data.TaggedError("NoProductionAuth")<{ readonly message: string }> {}

/** A secret that cannot be an HMAC key (an empty one): no token could ever verify, so the start is refused. */
export class InvalidJwtSecret extends Data.TaggedError("InvalidJwtSecret")<{ readonly message: string }> {}

/**
 * The HS256 key, imported once: handed the secret's bytes, jose imports them into a WebCrypto key on
 * every call, that is on every request.
 */
const hmacKey = (secret: Redacted.Redacted) =>
  Effect.tryPromise({
    try: () =>
      webcrypto.subtle.importKey(
        "raw",
        new TextEncoder().encode(Redacted.value(secret)),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["verify"]
      ),
    catch: () => new InvalidJwtSecret({ message: "AUTH_JWT_SECRET cannot be used as an HS256 key: set a non-empty secret" })
  })

/** How tokens are verified, as the start-up line reports it. */
export const authMode = (config: { readonly jwksUrl: Option.Option<URL>; readonly jwtSecret: Option.Option<unknown> }) =>
  Option.isSome(config.jwksUrl) ? "jwks" as const : Option.isSome(config.jwtSecret) ? "hs256" as const : "dev-secret" as const

/** A token that verified: its claims, and when it expires (ms since the epoch) if it says. */
interface Verified {
  readonly claims: Claims
  readonly expiresAt: number | null
}

export class TokenVerifier extends Effect.Service<TokenVerifier>()("chatsight/TokenVerifier", {
  effect: Effect.gen(function*() {
    const config = yield* AuthConfig
    const options = { issuer: config.issuer, audience: config.audience }
    if (config.environment === "production" && authMode(config) === "dev-secret") {
      return yield* new NoProductionAuth({
        message: "NODE_ENV=production needs AUTH_JWKS_URL (your identity provider) or AUTH_JWT_SECRET: " +
          "the development secret under DATA_DIR is not for production"
      })
    }

    const verifyJwt: (token: string) => Promise<Jose.JWTVerifyResult> = Option.isSome(config.jwksUrl)
      ? ((jwks) => (token: string) => Jose.jwtVerify(token, jwks, { ...options, algorithms: asymmetric }))(
        Jose.createRemoteJWKSet(config.jwksUrl.value)
      )
      : yield* Option.match(config.jwtSecret, { onNone: () => devSecret(config.dataDir), onSome: Effect.succeed }).pipe(
        Effect.flatMap(hmacKey),
        Effect.map((key) => (token: string) => Jose.jwtVerify(token, key, { ...options, algorithms: ["HS256"] }))
      )
    yield* Effect.logDebug("Token verification ready").pipe(
      Effect.annotateLogs({ mode: Option.isSome(config.jwksUrl) ? "jwks" : "hs256" })
    )

    const check = (token: string): Effect.Effect<Verified, Unauthorized> =>
      Effect.tryPromise({
        try: () => verifyJwt(token),
        catch: (error) => new Unauthorized({ message: reason(error) })
      }).pipe(
        Effect.flatMap(({ payload }) => {
          const sub = str(payload.sub)
          return sub === null || sub.length > 255
            ? Effect.fail(new Unauthorized({ message: "The token names no valid subject" }))
            : Effect.succeed<Verified>({
              claims: {
                sub,
                email: str(payload.email),
                name: str(payload.name),
                issuedAt: typeof payload.iat === "number" ? payload.iat : null
              },
              expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 : null
            })
        }),
        // No stack trace is captured for its span (a failure here is a 401, not a bug).
        Effect.withSpan("TokenVerifier.verify", { captureStackTrace: false })
      )

    // A client sends the same token with every request until it expires: the signature and claims of a
    // token already verified are not checked again for a while (as API gateways' JWT caches do). Keyed by
    // the whole token, so a hit is the very bytes that verified; failures are not kept. A Map in insertion
    // order rather than Effect's Cache: its lookups run outside the request's fiber, so the check's span
    // would leave the request's trace.
    const ttl = Duration.toMillis(config.verifiedTokenTtl)
    const capacity = ttl > 0 ? config.verifiedTokenCapacity : 0
    const remembered = new Map<string, { readonly claims: Claims; readonly until: number }>()
    const remember = (token: string, { claims, expiresAt }: Verified) => {
      if (capacity === 0) return
      remembered.delete(token)
      if (remembered.size >= capacity) remembered.delete(remembered.keys().next().value ?? "")
      remembered.set(token, { claims, until: Math.min(Date.now() + ttl, expiresAt ?? Infinity) })
    }

    const verify = (token: string): Effect.Effect<Claims, Unauthorized> =>
      Effect.suspend(() => {
        const known = remembered.get(token)
        if (known !== undefined && known.until > Date.now()) return Effect.succeed(known.claims)
        return Effect.map(check(token), (verified) => {
          remember(token, verified)
          return verified.claims
        })
      })

    return { verify } as const
  })
}) {}

const bearerPrefix = "Bearer ".length

/** The token of an `Authorization` header, read as the contract's bearer security reads it. */
export const bearerToken = (authorization: string | undefined): string => (authorization ?? "").slice(bearerPrefix)

export class Authenticator extends Effect.Service<Authenticator>()("chatsight/Authenticator", {
  effect: Effect.gen(function*() {
    const verifier = yield* TokenVerifier
    const users = yield* Users

    /**
     * The caller of `token`, with its account's standing (and balance, read in the same query). Marks the
     * request's user for the access log and the span.
     */
    const authenticate = (token: string) =>
      Effect.gen(function*() {
        if (token.length === 0) {
          return yield* new Unauthorized({ message: "Send a bearer token: Authorization: Bearer <token>" })
        }
        const claims = yield* verifier.verify(token)
        const standing = yield* users.status(claims)
        if (standing.status === "deleted") return yield* deletedAccount()
        yield* FiberRef.set(CurrentUserId, Option.some(claims.sub))
        return { claims, standing } as const
      })

    return { authenticate } as const
  }),
  dependencies: [TokenVerifier.Default, Users.Default]
}) {}
