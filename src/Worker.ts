/**
 * The worker: N fibers per instance claim due jobs of the kinds this instance has handlers for (SKIP
 * LOCKED, under a lease) and run them (`Worker/Run.ts`); on shutdown it stops claiming and lets running
 * jobs finish within a grace period before returning them to the queue.
 */
import { Cause, Deferred, Duration, Effect, Fiber, MutableHashSet, Option } from "effect"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import { WorkerConfig } from "./Config.js"
import { orDatabaseError } from "./Database.js"
import { JobHandlers } from "./Worker/Handler.js"
import { JobsRepo } from "./Worker/Repo.js"
import { makeRun } from "./Worker/Run.js"

export class Worker extends Effect.Service<Worker>()("chatsight/Worker", {
  scoped: Effect.gen(function*() {
    const settings = yield* WorkerConfig
    const repo = yield* JobsRepo
    const kinds = Array.from((yield* JobHandlers).keys())
    const instanceId = Option.getOrElse(
      settings.instanceId,
      () => `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`
    )
    const run = yield* makeRun({
      instanceId,
      lease: settings.lease,
      retry: { base: settings.backoffBase, max: settings.backoffMax }
    })
    const stopping = yield* Deferred.make<void>()
    const inFlight = MutableHashSet.empty<string>()

    /** Claims and runs one job; false when none was due. A claimed job is always run or released. */
    const claimAndRun = Effect.uninterruptibleMask((restore) =>
      repo.claim({ instance: instanceId, lease: settings.lease, kinds }).pipe(
        orDatabaseError,
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeed(false),
          onSome: (job) =>
            Effect.sync(() => MutableHashSet.add(inFlight, job.id)).pipe(
              Effect.zipRight(restore(run(job))),
              Effect.ensuring(Effect.sync(() => MutableHashSet.remove(inFlight, job.id))),
              Effect.as(true)
            )
        }))
      )
    )

    const idle = Effect.raceFirst(Effect.sleep(settings.pollInterval), Deferred.await(stopping))

    /** One runner fiber: claims and runs jobs until shutdown, idling while none is due. */
    const runner = Effect.gen(function*() {
      while (!(yield* Deferred.isDone(stopping))) {
        const worked = yield* claimAndRun.pipe(
          // A failed claim was logged where it failed; keep polling. Defects are logged and survived too.
          Effect.catchAllCause((cause) =>
            Cause.isInterruptedOnly(cause)
              ? Effect.failCause(cause)
              : Effect.as(Cause.isFailType(cause) ? Effect.void : Effect.logError("Worker loop defect", cause), false)
          )
        )
        if (!worked) yield* idle
      }
    })

    const fibers = yield* Effect.forEach(
      Array.from({ length: settings.concurrency }, (_, slot) => slot),
      (slot) => Effect.forkDaemon(runner.pipe(Effect.annotateLogs({ workerInstance: instanceId, workerSlot: slot })))
    )
    yield* Effect.logInfo("Worker started").pipe(
      Effect.annotateLogs({
        workerInstance: instanceId,
        concurrency: settings.concurrency,
        kinds,
        leaseMs: Duration.toMillis(settings.lease),
        pollIntervalMs: Duration.toMillis(settings.pollInterval)
      })
    )

    /**
     * Stops claiming, gives running jobs the grace period, then interrupts them: each returns its job
     * to the queue on interruption (see `Worker/Run.ts`).
     */
    const drain = Effect.gen(function*() {
      yield* Deferred.succeed(stopping, undefined)
      yield* Effect.logInfo("Worker stopping: no new claims; waiting for running jobs").pipe(
        Effect.annotateLogs({ running: MutableHashSet.size(inFlight), graceMs: Duration.toMillis(settings.shutdownGrace) })
      )
      // Finalizers are uninterruptible; the wait must not be, or the timeout could not cut it short.
      const drained = yield* Effect.interruptible(Fiber.awaitAll(fibers)).pipe(Effect.timeoutOption(settings.shutdownGrace))
      if (Option.isNone(drained)) {
        yield* Effect.logWarning("Grace period over: returning running jobs to the queue").pipe(
          Effect.annotateLogs({ running: MutableHashSet.size(inFlight) })
        )
        yield* Fiber.interruptAll(fibers)
      }
      yield* Effect.logInfo("Worker stopped")
    }).pipe(Effect.annotateLogs({ workerInstance: instanceId }))
    yield* Effect.addFinalizer(() => drain)

    return {
      instanceId,
      /** True once shutdown began: no new claims; running jobs are finishing. */
      draining: Deferred.isDone(stopping),
      /** Ids of the jobs this instance is running now. */
      inFlight: Effect.sync((): ReadonlyArray<string> => Array.from(inFlight))
    } as const
  }),
  dependencies: [JobsRepo.Default]
}) {}
