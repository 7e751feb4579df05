/**
 * The one retry backoff of the service: exponential from a base delay, each delay capped, jittered
 * (x0.8 to x1.2) so that contenders spread out, for at most a number of retries. Its output is the
 * delay about to be slept. Row locks, jobs, the language model and the vector store all retry on it.
 */
import { Duration, Schedule } from "effect"

export interface BackoffOptions {
  readonly base: Duration.DurationInput
  /** No single delay is longer than this (before jitter). */
  readonly max?: Duration.DurationInput | undefined
  /** Retries after the first attempt; unbounded when not given. */
  readonly retries?: number | undefined
}

export const backoff = (options: BackoffOptions): Schedule.Schedule<Duration.Duration> => {
  const max = options.max === undefined ? undefined : Duration.decode(options.max)
  return Schedule.exponential(options.base).pipe(
    Schedule.modifyDelay((_, delay) => max === undefined ? delay : Duration.min(delay, max)),
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(options.retries ?? Number.MAX_SAFE_INTEGER)),
    Schedule.delays
  )
}
