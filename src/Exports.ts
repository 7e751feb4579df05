/**
 * Data exports (GDPR article 20): a user asks for everything they have with us as one zip, written in
 * the background (`Exports/Job.ts`), reads its status and progress, and downloads it, streamed from its
 * stored parts, until it expires. Only its owner reaches an export; anyone else's id is as good as missing.
 */
import { Effect, Option, Stream } from "effect"
import { Database, orDatabaseError } from "./Database.js"
import { type DatabaseError, Gone, NotFound } from "./Domain/Errors.js"
import type { ExportStatus } from "./Domain/Exports.js"
import { orFail } from "./Domain/Found.js"
import { ExportUser } from "./Exports/Job.js"
import { type ExportRow, exportJobKey, ExportsRepo } from "./Exports/Repo.js"
import { Users } from "./Users.js"
import { Jobs } from "./Worker/Jobs.js"

const exportNotFound = (exportId: string) => new NotFound({ message: `No export ${exportId}` })

const toStatus = (row: ExportRow): ExportStatus => ({
  id: row.id,
  status: row.status,
  progress: row.progress,
  error: row.error,
  created_at: row.created_at,
  ready_at: row.ready_at,
  expires_at: row.expires_at,
  size_bytes: row.size_bytes
})

/** A ready export as its download needs it: its size, its name, and its bytes in order. */
export interface Archive {
  readonly _tag: "Archive"
  readonly sizeBytes: number
  readonly fileName: string
  readonly bytes: Stream.Stream<Uint8Array, Gone | DatabaseError>
}

export class Exports extends Effect.Service<Exports>()("chatsight/Exports", {
  effect: Effect.gen(function*() {
    const db = yield* Database
    const repo = yield* ExportsRepo
    const jobs = yield* Jobs
    const users = yield* Users

    /**
     * Starts an export of everything the user has, or answers the one already queued or building. In
     * one transaction, so an export never exists without its job; concurrent calls meet at the unique
     * index (the loser's transaction is retried and then finds the winner's export).
     */
    const start = (userId: string) =>
      Effect.gen(function*() {
        yield* users.requireActive(userId)
        const pending = yield* repo.pending(userId)
        if (Option.isSome(pending)) return toStatus(pending.value)
        const inserted = yield* repo.insert(userId)
        // The index refuses ours only for an export committed after our snapshot (then the transaction
        // fails to serialize and is retried) or one within it, which `pending` would have found.
        if (Option.isNone(inserted)) return yield* Effect.dieMessage("An export was pending but could not be read")
        const created = inserted.value
        const job = yield* jobs.send(ExportUser, { export_id: created.id, user_id: userId }, {
          dedupeKey: exportJobKey(created.id),
          userId
        })
        yield* repo.setJob(created.id, job.id)
        yield* Effect.logInfo("Export requested").pipe(Effect.annotateLogs({ exportId: created.id, jobId: job.id }))
        return toStatus(created)
      }).pipe(db.transaction, Effect.withSpan("Exports.start", { attributes: { "user.id": userId } }))

    /** The user's export; an expired one is `Gone`. */
    const owned = (userId: string, exportId: string) =>
      repo.find({ userId, exportId }).pipe(
        orFail(() => exportNotFound(exportId)),
        Effect.filterOrFail(
          (row) => row.status !== "expired" && !(row.status === "ready" && row.past_expiry),
          (row) =>
            new Gone({
              message: `Export ${exportId} expired${
                row.expires_at === null ? "" : ` at ${row.expires_at.toISOString()}`
              } and was deleted; start a new one with POST /api/users/export`
            })
        ),
        orDatabaseError
      )

    /** The user's export: its archive once ready, else its status (with progress, or why it failed). */
    const get = (userId: string, exportId: string) =>
      Effect.gen(function*() {
        const row = yield* owned(userId, exportId)
        if (row.status !== "ready" || row.size_bytes === null || row.parts === null) return toStatus(row)
        const parts = row.parts
        // Each part is read as the client takes the one before; one that vanished (the export expired
        // meanwhile) ends the download short of its Content-Length, which the client sees.
        const bytes = Stream.range(0, parts - 1).pipe(
          Stream.mapEffect((seq) =>
            repo.part({ exportId, seq }).pipe(
              orFail(() => new Gone({ message: `Export ${exportId} expired while it was downloaded` })),
              Effect.map((part) => part.bytes),
              orDatabaseError
            )
          )
        )
        yield* Effect.annotateCurrentSpan({ bytes: row.size_bytes, parts })
        return {
          _tag: "Archive",
          sizeBytes: row.size_bytes,
          fileName: `chatsight-export-${row.created_at.toISOString().slice(0, 10)}.zip`,
          bytes
        } satisfies Archive
      }).pipe(Effect.withSpan("Exports.get", { attributes: { exportId } }))

    /**
     * Expires the ready exports past their EXPORT_RETENTION and deletes the parts of every export no
     * longer served; for a periodic maintenance job. Returns the counts.
     */
    const deleteExpired = repo.expire.pipe(
      db.transaction,
      Effect.tap((counts) =>
        counts.exports + counts.parts === 0
          ? Effect.void
          : Effect.logInfo("Expired exports deleted").pipe(Effect.annotateLogs({ exports: counts.exports, parts: counts.parts }))
      ),
      Effect.withSpan("Exports.deleteExpired")
    )

    return { start, get, deleteExpired } as const
  }),
  dependencies: [ExportsRepo.Default, Jobs.Default, Users.Default]
}) {}
