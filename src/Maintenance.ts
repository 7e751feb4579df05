/**
 * Housekeeping as a periodic worker job (one run per MAINTENANCE_INTERVAL across instances): chats past
 * their retention are deleted, deletions and erasures whose purge did not happen in time are purged,
 * and expired exports are deleted. Each part is its domain's own; this only runs them in turn.
 */
import { Effect, Layer, Schema } from "effect"
import { sweepChats } from "./Chats/Purge.js"
import { MaintenanceConfig } from "./Config.js"
import { Exports } from "./Exports.js"
import { Users } from "./Users.js"
import { jobHandler } from "./Worker/Handler.js"
import { periodic } from "./Worker/Periodic.js"

export const Sweep = jobHandler({
  kind: "maintenance.sweep",
  payload: Schema.Struct({}),
  run: () =>
    Effect.gen(function*() {
      const config = yield* MaintenanceConfig
      const chats = yield* sweepChats(config)
      const erasures = yield* Effect.flatMap(Users, (users) => users.resumeStalledErasures(config.purgeWithin))
      const expired = yield* Effect.flatMap(Exports, (exports) => exports.deleteExpired)
      yield* Effect.logInfo("Maintenance swept").pipe(
        Effect.annotateLogs({
          chatsExpired: chats.expired,
          chatsPurged: chats.purged,
          erasuresResumed: erasures,
          exportsExpired: expired.exports
        })
      )
    }).pipe(Effect.withSpan("Maintenance.sweep"))
})

/** Enqueues the sweep every MAINTENANCE_INTERVAL while the instance runs. */
export const SweepScheduleLive = Layer.unwrapEffect(
  Effect.map(MaintenanceConfig, ({ interval }) => periodic(Sweep, {}, interval))
)
