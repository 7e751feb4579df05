/**
 * Users: accounts are created on first login from the token's claims, and receive the configured
 * welcome credits exactly once (the ledger reference `welcome` sees to that, whatever the races).
 */
import { Effect } from "effect"
import { CreditsConfig } from "./Config.js"
import { Credits } from "./Credits.js"
import { Database, orDatabaseError } from "./Database.js"
import { Unauthorized } from "./Domain/Errors.js"
import { type Claims, noAccount } from "./Domain/User.js"
import { UsersRepo } from "./Users/Repo.js"
import { orFail } from "./Domain/Found.js"

export const deletedAccount = () => new Unauthorized({ message: "This account has been deleted" })

export class Users extends Effect.Service<Users>()("chatsight/Users", {
  effect: Effect.gen(function*() {
    const db = yield* Database
    const repo = yield* UsersRepo
    const credits = yield* Credits
    const { welcomeCredits } = yield* CreditsConfig

    /** Creates or refreshes the account of the token's subject; idempotent. */
    const store = (claims: Claims) =>
      Effect.gen(function*() {
        const created = yield* repo.insertIfMissing({ id: claims.sub, email: claims.email, name: claims.name })
        const user = yield* repo.lockActive(claims.sub).pipe(
          orFail(() => deletedAccount())
        )
        const email = claims.email ?? user.email
        const name = claims.name ?? user.name
        const current = email === user.email && name === user.name
          ? user
          : yield* repo.updateProfile({ id: user.id, email, name })
        if (created && welcomeCredits > 0) {
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

    /** Whether a verified token may act: its account must not have been deleted. */
    const status = (id: string) =>
      // Every authenticated request runs this: its span captures no stack trace (an Error per request).
      repo.status(id).pipe(orDatabaseError, Effect.withSpan("Users.status", { captureStackTrace: false }))

    /** Goes on only for an account that exists and is not deleted (404 otherwise). */
    const requireActive = (id: string) =>
      repo.findActive(id).pipe(
        orFail(() => noAccount(id)),
        Effect.asVoid,
        orDatabaseError,
        Effect.withSpan("Users.requireActive")
      )

    return { store, status, requireActive } as const
  }),
  dependencies: [UsersRepo.Default, Credits.Default]
}) {}
