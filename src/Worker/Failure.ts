/**
 * How a job run that did not succeed is told apart and written down: the runner's own failures, whether
 * retrying could help, and the text stored as the job's `last_error`.
 */
import { Cause, Option, Schema } from "effect"
import { PermanentJobError } from "./Handler.js"

/** The job's lease was taken over by another instance while it ran here; the run was stopped. */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  jobId: Schema.String
}) {}

/**
 * The handler interrupted itself. Kept apart from an interruption of the runner (shutdown), which
 * returns the job to the queue instead of recording a failure.
 */
export class HandlerInterrupted extends Schema.TaggedError<HandlerInterrupted>()("HandlerInterrupted", {
  jobId: Schema.String
}) {}

/** A failure retrying cannot fix: the handler said so. */
export const isPermanent = (cause: Cause.Cause<unknown>): boolean =>
  Option.exists(Cause.failureOption(cause), (error) => error instanceof PermanentJobError)

const maxErrorLength = 4000

/** One error as text: its tag (or name) and message, else its JSON. */
const describe = (u: unknown): string => {
  if (typeof u !== "object" || u === null) return String(u)
  const tag = "_tag" in u && typeof u._tag === "string" ? u._tag : u instanceof Error ? u.name : undefined
  const message = "message" in u && typeof u.message === "string" ? u.message : undefined
  if (message !== undefined) return tag === undefined ? message : `${tag}: ${message}`
  try {
    return JSON.stringify(u)
  } catch {
    return String(u)
  }
}

/** A failure as `last_error` shows it: the error's tag or name and message, without stack traces. */
export const describeFailure = (cause: Cause.Cause<unknown>): string => {
  const text = Option.match(Cause.failureOption(cause), {
    onSome: describe,
    onNone: () =>
      Option.match(Cause.dieOption(cause), {
        onSome: (defect) => `Defect: ${describe(defect)}`,
        onNone: () => Cause.isInterruptedOnly(cause) ? "The handler was interrupted" : Cause.pretty(cause)
      })
  })
  return text.length > maxErrorLength ? `${text.slice(0, maxErrorLength)}…` : text
}
