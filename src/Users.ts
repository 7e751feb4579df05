/**
 * Users: accounts are created on first login from the token's claims, and receive the configured
 * welcome credits exactly once (the ledger reference `welcome` sees to that, whatever the races; a
 * subject whose earlier account was erased gets none). Erasure closes an account at once and queues
 * the purge of everything it holds (`Users/Erase.ts`).
 */
import { Duration, Effect } from "effect"
import { createHash } from "node:crypto"
import { CreditsConfig } from "./Config.js"
import { Credits } from "./Credits.js"
import { Database, orDatabaseError } from "./Database.js"
import { type Erasure, type ErasureRow } from "./Domain/Erasure.js"
import { NotFound, Unauthorized, ValidationError } from "./Domain/Errors.js"
import { type Claims, noAccount } from "./Domain/User.js"
import { EraseAccount } from "./Users/Erase.js"
import { ErasureRepo } from "./Users/ErasureRepo.js"
import { UsersRepo } from "./Users/Repo.js"
import { orFail } from "./Domain/Found.js"
import { Jobs } from "./Worker/Jobs.js"

export const deletedAccount = () => new Unauthorized({ message: "This account has been deleted" })

/** How an erasure remembers a subject: its sha256, never the subject itself. */
export const subjectHash = (sub: string) => createHash("sha256").update(sub).digest("hex")

const toErasure = (row: ErasureRow): Erasure => ({
  id: row.id,
  status: row.status,
  counts: row.counts,
  requested_at: row.requested_at,
  finished_at: row.finished_at
})

/** Attempts of the purge: it must finish, so it outlasts long outages of the vector store. */
const purgeAttempts = 25

export class Users extends Effect.Service<Users>()("chatsight/Users", {
  effect: Effect.gen(function*() {
    const db = yield* Database
    const repo = yield* UsersRepo
    const erasures = yield* ErasureRepo
    const jobs = yield* Jobs
    const credits = yield* Credits
    const { welcomeCredits } = yield* CreditsConfig

    /** Creates or refreshes the account of the token's subject; idempotent. */
    const store = (claims: Claims) =>
      Effect.gen(function*() {
        const { created, returning } = yield* repo.insertIfMissing({
          id: claims.sub,
          email: claims.email,
          name: claims.name,
          subjectHash: subjectHash(claims.sub)
        })
        const user = yield* repo.lockActive(claims.sub).pipe(
          orFail(() => deletedAccount())
        )
        const email = claims.email ?? user.email
        const name = claims.name ?? user.name
        const current = email === user.email && name === user.name
          ? user
          : yield* repo.updateProfile({ id: user.id, email, name })
        if (created && welcomeCredits > 0 && !returning) {
          const { balance } = yield* credits.grant({
            userId: user.id,
            amount: welcomeCredits,
            reference: "welcome",
            description: "Welcome credits"
          })
          yield* Effect.logInfo("New user").pipe(Effect.annotateLogs({ userId: user.id, welcomeCredits }))
          return { ...current, credit_balance: balance, created }
        }
        return { ...current, created }
      }).pipe(
        db.withLockRetry,
        // The account was created or locked in this very transaction: it exists, the welcome grant
        // is its first ledger entry, and the profile update finds its row.
        Effect.catchTags({
          NotFound: Effect.die,
          Conflict: Effect.die,
          InsufficientCredits: Effect.die,
          NoSuchElementException: Effect.die
        }),
        Effect.withSpan("Users.store", { attributes: { "user.id": claims.sub } })
      )

    /**
     * Whether a verified token may act: its account must not have been deleted, nor erased after it was
     * issued. An active account's credit balance comes with the answer (one query serves the balance route).
     */
    const status = (claims: Claims) =>
      // Every authenticated request runs this: no span of its own (each costs the request's fiber a copy
      // of its state); the query's `sql.execute` span says what it read.
      orDatabaseError(repo.status({ id: claims.sub, subjectHash: () => subjectHash(claims.sub), issuedAt: claims.issuedAt }))

    /**
     * Erases the account: closed at once (every token of it refused, its chats and conversations gone
     * from every read, its jobs and unfinished orders cancelled) and its purge queued. `confirm` must be
     * the account's email (its id when it has none).
     */
    const erase = (claims: Claims, confirm: string) =>
      Effect.gen(function*() {
        const user = yield* repo.lockActive(claims.sub).pipe(orFail(() => noAccount(claims.sub)))
        const expected = user.email ?? user.id
        if (confirm.trim().toLowerCase() !== expected.toLowerCase()) {
          return yield* new ValidationError({
            message: `confirm: must be this account's ${user.email === null ? "id" : "email"}; nothing was erased`
          })
        }
        const erasure = yield* erasures.create({ subject_hash: subjectHash(claims.sub), user_id: claims.sub })
        const closed = yield* erasures.closeAccount(claims.sub)
        yield* jobs.send(EraseAccount, { erasure_id: erasure.id }, {
          userId: claims.sub,
          dedupeKey: `user.erase:${erasure.id}`,
          maxAttempts: purgeAttempts
        })
        yield* Effect.logInfo("Account erased; purge queued").pipe(
          Effect.annotateLogs({ erasureId: erasure.id, chats: closed.chats, jobsCancelled: closed.jobs, ordersCancelled: closed.orders })
        )
        return toErasure(erasure)
      }).pipe(
        db.withLockRetry,
        Effect.catchTag("NoSuchElementException", Effect.die),
        Effect.withSpan("Users.erase", { attributes: { "user.id": claims.sub } })
      )

    /** An erasure's progress, by its id (the id is the secret that reads it). */
    const erasure = (id: string) =>
      erasures.find(id).pipe(
        orFail(() => new NotFound({ message: `No erasure ${id}` })),
        Effect.map(toErasure),
        orDatabaseError,
        Effect.withSpan("Users.erasure")
      )

    /** Goes on only for an account that exists and is not deleted (404 otherwise). */
    const requireActive = (id: string) =>
      repo.findActive(id).pipe(
        orFail(() => noAccount(id)),
        Effect.asVoid,
        orDatabaseError,
        Effect.withSpan("Users.requireActive")
      )

    /** Queues the purge again for erasures left unfinished after `purgeWithin` (their job failed for good, or was lost). */
    const resumeStalledErasures = (purgeWithin: Duration.Duration) =>
      Effect.gen(function*() {
        const stalled = yield* erasures.stalled(Duration.toSeconds(purgeWithin))
        for (const { id, user_id } of stalled) {
          yield* jobs.send(EraseAccount, { erasure_id: id }, {
            userId: user_id,
            dedupeKey: `user.erase:${id}:${Date.now()}`,
            maxAttempts: purgeAttempts
          })
        }
        if (stalled.length > 0) yield* Effect.logWarning("Stalled erasures queued again").pipe(Effect.annotateLogs({ erasures: stalled.length }))
        return stalled.length
      }).pipe(orDatabaseError, Effect.withSpan("Users.resumeStalledErasures"))

    return { store, status, requireActive, erase, erasure, resumeStalledErasures } as const
  }),
  dependencies: [UsersRepo.Default, ErasureRepo.Default, Credits.Default, Jobs.Default]
}) {}
