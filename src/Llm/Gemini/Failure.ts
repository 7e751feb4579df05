/**
 * How a Gemini call fails, and what is tried again: every failure is classified into a `GeminiFailure`
 * (keeping the server's Retry-After hint), retried on the shared backoff when it may pass, and in the
 * end reported to callers as `UpstreamUnavailable`.
 */
import { ApiError } from "@google/genai"
import { Data, Duration, Schedule } from "effect"
import { backoff } from "../../Backoff.js"
import { UpstreamUnavailable } from "../../Domain/Errors.js"
import type { GeminiSettings } from "./Config.js"

/**
 * A non-2xx response, thrown by our `fetch` wrapper so that the status *and* the Retry-After hint
 * reach the retry schedule: the SDK's own `ApiError` carries only the status and the body text, not
 * the response headers.
 */
class HttpStatusError extends Data.TaggedError("HttpStatusError")<{
  readonly status: number
  readonly retryAfter: Duration.Duration | undefined
  readonly body: string
}> {
  override get message() {
    return `HTTP ${this.status}: ${this.body.slice(0, 500)}`
  }
}

/** One failed attempt, as the retry schedule sees it. */
export class GeminiFailure extends Data.TaggedError("GeminiFailure")<{
  readonly reason: "http" | "timeout" | "network" | "malformed" | "other"
  readonly status?: number
  readonly retryAfter?: Duration.Duration
  readonly detail: string
}> {}

const isRetryable = (failure: GeminiFailure): boolean => {
  switch (failure.reason) {
    case "http":
      return failure.status === 408 || failure.status === 429 || (failure.status !== undefined && failure.status >= 500)
    case "timeout":
    case "network":
    // The model may well write valid JSON on the next attempt.
    case "malformed":
      return true
    case "other":
      return false
  }
}

/**
 * How long the server asks us to wait, in this order: `retry-after-ms` (sent by some proxies),
 * `Retry-After` as seconds or as an HTTP date, then the `google.rpc.RetryInfo` delay (`"retryDelay":
 * "17s"`) that Gemini puts in the body of a 429.
 */
export const retryAfterOf = (headers: Headers, body: string, now: number = Date.now()): Duration.Duration | undefined => {
  const millis = headers.get("retry-after-ms")
  if (millis !== null && /^\d+(\.\d+)?$/.test(millis.trim())) return Duration.millis(Number(millis.trim()))
  const header = headers.get("retry-after")?.trim()
  if (header !== undefined && header !== "") {
    if (/^\d+(\.\d+)?$/.test(header)) return Duration.millis(Number(header) * 1000)
    const at = Date.parse(header)
    if (!Number.isNaN(at)) return Duration.millis(Math.max(0, at - now))
  }
  const retryInfo = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(body)
  if (retryInfo?.[1] !== undefined) return Duration.millis(Number(retryInfo[1]) * 1000)
  return undefined
}

/** `fetch` that turns a non-2xx response into an `HttpStatusError` (the SDK passes such errors through). */
export const statusAwareFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const response = await fetch(input, init)
  if (response.ok) return response
  const body = await response.text().catch(() => "")
  throw new HttpStatusError({ status: response.status, retryAfter: retryAfterOf(response.headers, body), body })
}

/** What a rejected SDK call means for retrying. */
export const classify = (error: unknown): GeminiFailure => {
  if (error instanceof GeminiFailure) return error
  if (error instanceof HttpStatusError) {
    return new GeminiFailure({ reason: "http", status: error.status, retryAfter: error.retryAfter, detail: error.message })
  }
  if (error instanceof ApiError) return new GeminiFailure({ reason: "http", status: error.status, detail: error.message })
  if (error instanceof Error) {
    if (error.name === "AbortError" || error.name === "TimeoutError") {
      return new GeminiFailure({ reason: "timeout", detail: error.message })
    }
    // A body that is not JSON (a proxy's HTML error page, a truncated reply).
    if (error instanceof SyntaxError) return new GeminiFailure({ reason: "malformed", detail: error.message })
    // undici reports refused, reset and DNS failures as `TypeError: fetch failed`.
    if (error instanceof TypeError && error.message.includes("fetch failed")) {
      return new GeminiFailure({ reason: "network", detail: String(error.cause ?? error.message) })
    }
    return new GeminiFailure({ reason: "other", detail: `${error.name}: ${error.message}` })
  }
  return new GeminiFailure({ reason: "other", detail: String(error) })
}

/**
 * The shared backoff from `retryBaseDelay`, capped at `retryMaxDelay`, at most `maxRetries` times,
 * only for retryable failures; a Retry-After hint is a lower bound on the next delay.
 */
export const retrySchedule = (settings: Pick<GeminiSettings, "maxRetries" | "retryBaseDelay" | "retryMaxDelay">) =>
  backoff({ base: settings.retryBaseDelay, max: settings.retryMaxDelay, retries: settings.maxRetries }).pipe(
    Schedule.intersect(Schedule.identity<GeminiFailure>()),
    Schedule.whileInput((failure: GeminiFailure) =>
      isRetryable(failure) &&
      (failure.retryAfter === undefined || Duration.lessThanOrEqualTo(failure.retryAfter, settings.retryMaxDelay))
    ),
    Schedule.modifyDelay(([, failure], delay) =>
      failure.retryAfter === undefined ? delay : Duration.max(delay, failure.retryAfter)
    )
  )

/** What the caller hears once the retries are spent: an unreadable reply is told apart from an outage. */
export const toUnavailable = (failure: GeminiFailure): UpstreamUnavailable =>
  new UpstreamUnavailable({
    message: failure.reason === "malformed"
      ? "The language model returned a reply that could not be read; please retry shortly"
      : "The language model is unavailable; please retry shortly"
  })
