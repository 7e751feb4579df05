/** What every call to a payment provider shares: a span, a time limit, and one kind of failure. */
import { Effect, Schema } from "effect"
import { InvalidSignature, UpstreamUnavailable } from "../Domain/Errors.js"
import type { Provider } from "../Domain/Payments.js"

const providerName = (provider: Provider) => provider === "stripe" ? "Stripe" : "Razorpay"

/** The provider's own words on a failure (its message or code), never the request it was about. */
const describe = (cause: unknown): string => {
  if (cause instanceof Error) return cause.message
  if (typeof cause === "object" && cause !== null) {
    const error: unknown = "error" in cause ? cause.error : cause
    if (typeof error === "object" && error !== null && "description" in error && typeof error.description === "string") {
      return error.description
    }
    if ("statusCode" in cause) return `HTTP ${String(cause.statusCode)}`
  }
  return String(cause)
}

/**
 * Runs one request to a provider within `timeoutMs`, traced as `Payments.<provider>.<operation>`. Any
 * failure is an `UpstreamUnavailable` (503 with Retry-After); the detail is logged, not sent.
 */
export const providerCall = <A>(
  provider: Provider,
  operation: string,
  timeoutMs: number,
  call: (signal: AbortSignal) => Promise<A>
): Effect.Effect<A, UpstreamUnavailable> =>
  Effect.tryPromise({ try: call, catch: describe }).pipe(
    Effect.timeoutFail({ duration: timeoutMs, onTimeout: () => `no answer within ${timeoutMs} ms` }),
    Effect.tapError((detail) =>
      Effect.logWarning("Payment provider call failed").pipe(
        Effect.annotateLogs({ provider, operation, detail })
      )
    ),
    Effect.mapError(() =>
      new UpstreamUnavailable({ message: `${providerName(provider)} is not answering; please retry shortly` })
    ),
    Effect.withSpan(`Payments.${provider}.${operation}`, { kind: "client", attributes: { "payment.provider": provider } })
  )

/** A signature refusal; the reason is the provider SDK's own (it names no secret). */
export const signatureRefused = (provider: Provider, reason: string) =>
  new InvalidSignature({ message: `The ${providerName(provider)} webhook signature does not verify: ${reason}` })

/**
 * Reads the part of a verified payload an event type needs. A payload that does not have it is the
 * provider's surprise, not the sender's fault: the event is kept as ignored and logged, never refused.
 */
export const readPart = <A, I>(schema: Schema.Schema<A, I>, value: unknown) => Schema.decodeUnknownEither(schema)(value)
