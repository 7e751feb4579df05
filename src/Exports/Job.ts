/**
 * The export job: writes one user's archive into `export_parts` and marks the export ready until
 * EXPORT_RETENTION from then. Idempotent: a rerun (after a crash or a failed attempt) deletes the parts
 * written so far and starts again; an export that is no longer pending is left alone.
 */
import { Effect, Option, Schema } from "effect"
import { ExportsConfig } from "../Config.js"
import { orDatabaseError } from "../Database.js"
import type { ExportProgress } from "../Domain/Exports.js"
import { jobHandler, type RunningJob } from "../Worker/Handler.js"
import { writeArchive } from "./Archive.js"
import { exportEntries } from "./Contents.js"
import { ExportsRepo } from "./Repo.js"
import { UserDataRepo } from "./UserData.js"

export const exportKind = "user.export"

export const ExportPayload = Schema.Struct({
  export_id: Schema.UUID,
  user_id: Schema.String
})
export type ExportPayload = typeof ExportPayload.Type

const failedMessage = "The export could not be written; please start a new one"

const build = (payload: ExportPayload, job: RunningJob) =>
  Effect.gen(function*() {
    const repo = yield* ExportsRepo
    const data = yield* UserDataRepo
    const { retention } = yield* ExportsConfig
    const exportId = payload.export_id
    let progress: ExportProgress = { stage: "starting", chats_done: 0, chats_total: 0, messages_done: 0, messages_total: 0 }

    const begun = yield* repo.begin({ exportId, progress })
    if (Option.isNone(begun)) {
      return yield* Effect.logInfo("Export no longer pending; nothing to write")
    }
    const removed = yield* repo.deleteParts(exportId)
    if (removed > 0) yield* Effect.logInfo("Export restarted; parts of the earlier run deleted").pipe(Effect.annotateLogs({ parts: removed }))

    const account = yield* data.account(payload.user_id)
    if (Option.isNone(account)) {
      yield* repo.markFailed(exportId, "The account was closed")
      return yield* Effect.logInfo("Export of a closed account; marked failed")
    }
    const chats = yield* data.chats(payload.user_id)
    const advance = (change: (current: ExportProgress) => ExportProgress) =>
      Effect.suspend(() => {
        progress = change(progress)
        // The export's row first (its status shows it), then the job's, which also stops a cancelled job.
        return Effect.zipRight(orDatabaseError(repo.setProgress(exportId, progress)), job.setProgress(progress))
      })
    const messagesTotal = yield* data.messageTotal(payload.user_id)
    yield* advance((p) => ({ ...p, chats_total: chats.length, messages_total: messagesTotal }))

    const entries = exportEntries({
      exportId,
      userId: payload.user_id,
      startedAt: begun.value.created_at,
      account: account.value,
      chats,
      advance
    })
    const written = yield* writeArchive({
      entries,
      writePart: (seq, bytes) => orDatabaseError(repo.insertPart(exportId, seq, bytes)),
      modified: begun.value.created_at
    })
    const ready = yield* repo.markReady({ exportId, ...written, progress, retention })
    yield* Effect.annotateCurrentSpan({ chats: chats.length, messages: progress.messages_done, bytes: written.sizeBytes })
    if (!ready) {
      // Discarded or failed meanwhile (an erasure, say): what was written goes too.
      yield* repo.deleteParts(exportId)
      return yield* Effect.logInfo("Export stopped being pending while written; its parts were deleted")
    }
    yield* Effect.logInfo("Export ready").pipe(
      Effect.annotateLogs({
        chats: chats.length,
        messages: progress.messages_done,
        bytes: written.sizeBytes,
        parts: written.parts
      })
    )
  }).pipe(
    orDatabaseError,
    Effect.annotateLogs({ exportId: payload.export_id }),
    Effect.withSpan("Exports.build", { attributes: { exportId: payload.export_id, "user.id": payload.user_id } })
  )

/** Failed for good: the owner is told, and the parts written so far are deleted. */
const giveUp = (payload: ExportPayload) =>
  Effect.gen(function*() {
    const repo = yield* ExportsRepo
    yield* repo.markFailed(payload.export_id, failedMessage)
    yield* repo.deleteParts(payload.export_id)
  }).pipe(
    orDatabaseError,
    Effect.annotateLogs({ exportId: payload.export_id })
  )

export const ExportUser = jobHandler({
  kind: exportKind,
  payload: ExportPayload,
  run: build,
  giveUp
})
