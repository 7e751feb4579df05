/**
 * `npm run token -- <user-id> [email] [name]`: prints a bearer token for local use, signed with
 * AUTH_JWT_SECRET or, in embedded mode, the dev secret under DATA_DIR that the server verifies with.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Data, Effect, Option } from "effect"
import { devSecret, signToken } from "../Auth.js"
import { AuthConfig } from "../Config.js"
import { LoggingLive } from "../Logging.js"

/** Why no token was printed; the message says what to do instead. */
class TokenRefused extends Data.TaggedError("TokenRefused")<{ readonly message: string }> {}

const program = Effect.gen(function*() {
  const [sub, email, name] = process.argv.slice(2)
  if (sub === undefined || sub.length === 0) {
    return yield* new TokenRefused({ message: "Usage: npm run token -- <user-id> [email] [name]" })
  }
  const config = yield* AuthConfig
  if (Option.isSome(config.jwksUrl)) {
    return yield* new TokenRefused({
      message: "AUTH_JWKS_URL is set: tokens come from your identity provider, not from here"
    })
  }
  if (config.environment === "production") {
    return yield* new TokenRefused({
      message: "NODE_ENV=production: this command mints development tokens only; tokens come from your identity provider"
    })
  }
  const secret = yield* Option.match(config.jwtSecret, { onNone: () => devSecret(config.dataDir), onSome: Effect.succeed })
  const token = yield* signToken(secret, { sub, email, name }, { issuer: config.issuer, audience: config.audience })
  // The token is this command's output, for `$(npm run -s token -- alice)`.
  yield* Console.log(token)
})

NodeRuntime.runMain(
  program.pipe(
    // A refusal is one line that says what to do, not a stack trace.
    Effect.catchTag("TokenRefused", (refused) =>
      Console.error(refused.message).pipe(Effect.zipRight(Effect.sync(() => {
        process.exitCode = 1
      })))),
    Effect.provide(LoggingLive)
  ),
  { disablePrettyLogger: true }
)
