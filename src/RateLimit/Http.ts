/**
 * The rate-limit middlewares of the contract: each takes a turn for its subject (the authenticated
 * user, or the client address) and answers 429 with `Retry-After` once the subject's burst is spent.
 * Every limited response carries `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and
 * `RateLimit-Policy`.
 */
import { HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { type Config, Duration, Effect, FiberRef, Layer, Option } from "effect"
import { RateLimitConfig, type RatePolicy } from "../Config.js"
import { RateLimited } from "../Domain/Errors.js"
import { PublicRateLimit, QuestionRateLimit, UploadRateLimit } from "../Domain/RateLimit.js"
import { CurrentUserId } from "../Domain/RequestContext.js"
import { type RateDecision, RateLimiter } from "../RateLimit.js"

const withHeaders = (response: HttpServerResponse.HttpServerResponse, decision: RateDecision) =>
  HttpServerResponse.setHeaders(response, {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
    "ratelimit-policy": `${decision.limit};w=${Math.round(Duration.toSeconds(decision.policy.window))}`,
    ...(decision.allowed ? {} : { "retry-after": String(decision.retryAfterSeconds) })
  })

/** A middleware limiting `policy` per the subject `subjectOf` finds (none: not limited). */
const limiting = (
  policyOf: (config: Config.Config.Success<typeof RateLimitConfig>) => RatePolicy,
  subjectOf: (config: Config.Config.Success<typeof RateLimitConfig>) => Effect.Effect<Option.Option<string>, never, HttpServerRequest.HttpServerRequest>
) =>
  Effect.gen(function*() {
    const limiter = yield* RateLimiter
    const config = yield* RateLimitConfig
    const policy = policyOf(config)
    return Effect.gen(function*() {
      if (!config.enabled) return
      const subject = yield* subjectOf(config)
      if (Option.isNone(subject)) return
      // A limiter that cannot reach the database lets the request through: it fails on its own there.
      const decision = yield* limiter.take(policy, subject.value).pipe(Effect.option)
      if (Option.isNone(decision)) return
      yield* HttpApp.appendPreResponseHandler((_, response) => Effect.succeed(withHeaders(response, decision.value)))
      if (!decision.value.allowed) {
        yield* Effect.logInfo("Rate limited").pipe(Effect.annotateLogs({ policy: policy.name }))
        return yield* new RateLimited({
          message: `Too many ${policy.name}: at most ${policy.limit} per ${Duration.format(policy.window)}; ` +
            `retry in ${decision.value.retryAfterSeconds} s`
        })
      }
    })
  })

/** The authenticated user: a per-user limit that runs before authentication is a bug of the contract. */
const user = () =>
  Effect.flatMap(
    FiberRef.get(CurrentUserId),
    (id) => Option.isSome(id) ? Effect.succeed(id) : Effect.dieMessage("A per-user rate limit ran before authentication")
  )

/** The client's address: the socket's, or the first X-Forwarded-For hop behind a trusted proxy. */
const clientAddress = (config: Config.Config.Success<typeof RateLimitConfig>) =>
  Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    const forwarded = request.headers["x-forwarded-for"]?.split(",")[0]?.trim()
    return config.trustProxy && forwarded !== undefined && forwarded.length > 0
      ? Option.some(forwarded)
      : request.remoteAddress
  })

export const RateLimitsLive = Layer.mergeAll(
  Layer.effect(UploadRateLimit, limiting((config) => config.uploads, user)),
  Layer.effect(QuestionRateLimit, limiting((config) => config.questions, user)),
  Layer.effect(PublicRateLimit, limiting((config) => config.public, clientAddress))
).pipe(Layer.provide(RateLimiter.Default))
