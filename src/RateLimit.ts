/**
 * Rate limits shared by every instance on the database: `N` requests per window for each subject (a user
 * or a client address), refilled evenly (GCRA: a full burst of `N`, then one every window/`N`).
 */
import { Duration, Effect, Option, Schedule } from "effect"
import { RateLimitConfig, type RatePolicy } from "./Config.js"
import { orDatabaseError } from "./Database.js"
import { RateLimitRepo } from "./RateLimit/Repo.js"

export interface RateDecision {
  readonly allowed: boolean
  readonly limit: number
  readonly remaining: number
  /** Seconds until the subject has its full burst again. */
  readonly resetSeconds: number
  /** Seconds until one more request is allowed (0 when allowed now). */
  readonly retryAfterSeconds: number
  readonly policy: RatePolicy
}

export class RateLimiter extends Effect.Service<RateLimiter>()("chatsight/RateLimiter", {
  scoped: Effect.gen(function*() {
    const repo = yield* RateLimitRepo
    const config = yield* RateLimitConfig

    // Recovered subjects are forgotten now and then; a failed sweep waits for the next one.
    yield* repo.prune.pipe(
      Effect.catchAll((error) => Effect.logWarning("Could not prune rate limits", error)),
      Effect.schedule(Schedule.spaced("10 minutes")),
      Effect.forkScoped
    )

    /** Takes a turn for `subject` under `policy`, or says when the next turn comes. */
    const take = (policy: RatePolicy, subject: string) =>
      Effect.gen(function*() {
        const step = Option.getOrElse(Duration.divide(policy.window, policy.limit), () => policy.window)
        const { aheadMs, taken } = yield* repo.take({ key: `${policy.name}:${subject}`, interval: step, window: policy.window })
        const stepMs = Duration.toMillis(step)
        const windowMs = Duration.toMillis(policy.window)
        return {
          allowed: taken,
          limit: policy.limit,
          remaining: Math.max(0, Math.floor((windowMs - aheadMs) / stepMs)),
          resetSeconds: Math.max(0, Math.ceil(aheadMs / 1000)),
          retryAfterSeconds: taken ? 0 : Math.max(1, Math.ceil((aheadMs + stepMs - windowMs) / 1000)),
          policy
        } satisfies RateDecision
      }).pipe(orDatabaseError, Effect.withSpan("RateLimiter.take", { attributes: { "rate_limit.policy": policy.name } }))

    return { enabled: config.enabled, policies: config, take } as const
  }),
  dependencies: [RateLimitRepo.Default]
}) {}
