/**
 * Defining job handlers and the registry of those an instance runs. A handler closes over its payload
 * schema, so handlers of different payloads share one registry and `Jobs.send` type-checks payloads.
 *
 * Delivery is at least once: a job whose instance dies (or stalls past its lease) is run again by
 * another instance, so every handler must be idempotent: re-running it must not repeat its effects
 * (key its writes on the job id or a business reference, upsert rather than insert, and so on).
 */
import { Context, Effect, Layer, ParseResult, Schema } from "effect"
import type { DatabaseError } from "../Domain/Errors.js"

/** A failure that retrying cannot fix: the job is failed at once, whatever attempts remain. */
export class PermanentJobError extends Schema.TaggedError<PermanentJobError>()("PermanentJobError", {
  message: Schema.String
}) {}

/** The job was cancelled while it ran (its account was erased): it stops at its next step, for good. */
export class JobCancelled extends Schema.TaggedError<JobCancelled>()("JobCancelled", {
  message: Schema.String
}) {}

/** What a handler is told about the job it runs. */
export interface RunningJob {
  readonly id: string
  readonly kind: string
  /** 1 for the first run; counts runs started, including ones whose instance died. */
  readonly attempt: number
  readonly maxAttempts: number
  readonly userId: string | null
  readonly instanceId: string
  /**
   * Stores a progress report (any JSON) readable through `Jobs.statusByKey`; fails with `JobCancelled`
   * once the job has been cancelled, so that a handler reporting each step stops at the next one.
   */
  readonly setProgress: (progress: unknown) => Effect.Effect<void, JobCancelled | DatabaseError>
}

/**
 * A handler for one kind of job, its payload schema closed over so handlers of different payloads
 * fit in one registry. Make one with `jobHandler`.
 */
export interface JobHandler<in A, out R> {
  readonly kind: string
  /** Decodes the stored payload and runs the handler; a payload that does not decode is a `PermanentJobError`. */
  readonly execute: (payload: unknown, job: RunningJob) => Effect.Effect<void, unknown, R>
  /** Runs once the job has failed for good, whatever the path (see `jobHandler`'s `giveUp`). */
  readonly giveUp: (payload: unknown, job: RunningJob) => Effect.Effect<void, unknown, R>
  /** Encodes a payload for `Jobs.send`. */
  readonly encodePayload: (payload: A) => Effect.Effect<unknown, ParseResult.ParseError>
}

/**
 * Defines the handler of `kind`. `run` must be idempotent (see the module comment). It may fail with
 * `PermanentJobError` to fail the job without further attempts; any other failure or defect is retried.
 * `giveUp`, when given, runs once the job has failed for good, by any path: a permanent error, the
 * last attempt failing or dying, or the last attempt's instance dying (then `run` is not called again,
 * so a crash-looping job cannot take instances down forever). It undoes what must not stay half-done
 * (e.g. refunds what was paid for) and must be idempotent too.
 */
export const jobHandler = <A, I, E, R, E2 = never, R2 = never>(definition: {
  readonly kind: string
  readonly payload: Schema.Schema<A, I, never>
  readonly run: (payload: A, job: RunningJob) => Effect.Effect<void, E, R>
  readonly giveUp?: ((payload: A, job: RunningJob) => Effect.Effect<void, E2, R2>) | undefined
}): JobHandler<A, R | R2> => {
  const decode = (payload: unknown) =>
    Schema.decodeUnknown(definition.payload)(payload).pipe(
      Effect.mapError((error) =>
        new PermanentJobError({
          message: `The payload does not match the schema of job kind "${definition.kind}": ${
            ParseResult.TreeFormatter.formatErrorSync(error)
          }`
        })
      )
    )
  const giveUp = definition.giveUp
  return {
    kind: definition.kind,
    execute: (payload, job) => Effect.flatMap(decode(payload), (decoded) => definition.run(decoded, job)),
    giveUp: (payload, job) =>
      giveUp === undefined ? Effect.void : Effect.flatMap(decode(payload), (decoded) => giveUp(decoded, job)),
    encodePayload: Schema.encode(definition.payload)
  }
}

/** A registered handler, its requirements already provided. */
export interface Registered {
  readonly execute: (payload: unknown, job: RunningJob) => Effect.Effect<void, unknown>
  readonly giveUp: (payload: unknown, job: RunningJob) => Effect.Effect<void, unknown>
}

/**
 * The handlers this instance runs, by kind. Its keys are also the kinds this instance claims, so
 * during a rolling deploy an instance never takes a job of a kind only newer instances know.
 */
export class JobHandlers extends Context.Tag("chatsight/JobHandlers")<JobHandlers, ReadonlyMap<string, Registered>>() {
  /**
   * The registry of `handlers`, running each in the context the layer was built in (so the layer
   * requires what the handlers require). A kind registered twice is a bug: the layer dies.
   */
  static layer<R>(...handlers: ReadonlyArray<JobHandler<never, R>>): Layer.Layer<JobHandlers, never, R> {
    return Layer.effect(
      JobHandlers,
      Effect.gen(function*() {
        const context = yield* Effect.context<R>()
        const registry = new Map<string, Registered>()
        for (const handler of handlers) {
          if (registry.has(handler.kind)) {
            return yield* Effect.dieMessage(`Job kind "${handler.kind}" has two handlers`)
          }
          registry.set(handler.kind, {
            execute: (payload, job) => Effect.provide(handler.execute(payload, job), context),
            giveUp: (payload, job) => Effect.provide(handler.giveUp(payload, job), context)
          })
        }
        return registry
      })
    )
  }
}
