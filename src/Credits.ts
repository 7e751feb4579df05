/**
 * Credits: the only way a balance changes. `grant`, `charge` and `refund` lock the user's row (retried
 * through `Database.withLockRetry`), append one ledger entry under a unique business reference and store the
 * new balance, which therefore always equals the ledger's sum. A repeated reference changes nothing
 * and says so; a charge the balance cannot cover fails with `InsufficientCredits`.
 */
import { Effect, Option } from "effect"
import { CreditsRepo } from "./Credits/Repo.js"
import { Database, orDatabaseError } from "./Database.js"
import type { CreditKind, LedgerRow } from "./Domain/Credits.js"
import { Conflict, InsufficientCredits, NotFound } from "./Domain/Errors.js"
import { noAccount } from "./Domain/User.js"
import { limitOf, type PageRequest, toPage } from "./Domain/Pagination.js"
import { orFail } from "./Domain/Found.js"

export interface Entry {
  readonly userId: string
  /** How many credits; always positive, the kind gives the sign. */
  readonly amount: number
  readonly reference: string
  readonly description: string
}

export interface Posted {
  /** False when the reference had already been posted: nothing changed. */
  readonly applied: boolean
  readonly transaction: LedgerRow
  readonly balance: number
}


export class Credits extends Effect.Service<Credits>()("chatsight/Credits", {
  effect: Effect.gen(function*() {
    const db = yield* Database
    const repo = yield* CreditsRepo

    const post = (kind: CreditKind, entry: Entry) =>
      Effect.gen(function*() {
        if (!Number.isSafeInteger(entry.amount) || entry.amount <= 0) {
          // Amounts come from our own catalogue and packages, never from a client: a bad one is a bug.
          return yield* Effect.dieMessage(`A ledger amount must be a positive whole number, got ${entry.amount}`)
        }
        const { credit_balance } = yield* repo.lockBalance(entry.userId).pipe(
          orFail(() => noAccount(entry.userId))
        )
        const delta = kind === "charge" || kind === "reversal" ? -entry.amount : entry.amount
        const existing = yield* repo.findByReference({ userId: entry.userId, reference: entry.reference })
        if (Option.isSome(existing)) {
          if (existing.value.kind !== kind || existing.value.amount !== delta) {
            return yield* new Conflict({
              message: `Reference "${entry.reference}" was already used for a ${existing.value.kind} of ${
                Math.abs(existing.value.amount)
              } credits`
            })
          }
          yield* Effect.logInfo("Ledger reference already posted; nothing changed")
          return { applied: false, transaction: existing.value, balance: credit_balance } satisfies Posted
        }
        const balance = credit_balance + delta
        if (balance < 0) {
          return yield* new InsufficientCredits({
            message: `This needs ${entry.amount} credits and the balance is ${credit_balance}`,
            required: entry.amount,
            balance: credit_balance
          })
        }
        const transaction = yield* repo.append({
          user_id: entry.userId,
          kind,
          amount: delta,
          balance_after: balance,
          reference: entry.reference,
          description: entry.description
        })
        yield* repo.setBalance(entry.userId, balance)
        return { applied: true, transaction, balance } satisfies Posted
      }).pipe(
        db.withLockRetry,
        Effect.withSpan(`Credits.${kind}`, {
          attributes: { "user.id": entry.userId, "credits.amount": entry.amount, "credits.reference": entry.reference }
        })
      )

    /** Adds credits (welcome credits, goodwill). */
    const grant = (entry: Entry) => post("grant", entry)

    /** Takes credits, or fails with `InsufficientCredits` and takes nothing. */
    const charge = (entry: Entry) => post("charge", entry)

    /** Adds the credits of a paid order. */
    const purchase = (entry: Entry) => post("purchase", entry)

    /**
     * Takes back up to `entry.amount` credits of a refunded or disputed purchase, as many as the balance
     * holds (it never goes below zero); answers how many it took. Nothing is written when it takes none.
     */
    const reclaim = (entry: Entry) =>
      Effect.gen(function*() {
        const { credit_balance } = yield* repo.lockBalance(entry.userId).pipe(orFail(() => noAccount(entry.userId)))
        const earlier = yield* repo.findByReference({ userId: entry.userId, reference: entry.reference })
        if (Option.isSome(earlier)) return { taken: -earlier.value.amount, balance: credit_balance }
        const taken = Math.min(credit_balance, entry.amount)
        if (taken === 0) return { taken, balance: credit_balance }
        const posted = yield* post("reversal", { ...entry, amount: taken })
        return { taken: -posted.transaction.amount, balance: posted.balance }
      }).pipe(db.withLockRetry)

    /** Returns the credits of an earlier charge, once: its reference is derived from the charge's. */
    const refund = (input: { readonly userId: string; readonly chargeReference: string; readonly description: string }) =>
      Effect.gen(function*() {
        const charged = yield* repo.findByReference({ userId: input.userId, reference: input.chargeReference }).pipe(
          orFail(() => new NotFound({ message: `No charge with reference "${input.chargeReference}"` }))
        )
        if (charged.kind !== "charge") {
          return yield* new Conflict({ message: `Reference "${input.chargeReference}" is a ${charged.kind}, not a charge` })
        }
        return yield* post("refund", {
          userId: input.userId,
          amount: -charged.amount,
          reference: `refund:${input.chargeReference}`,
          description: input.description
        })
      }).pipe(db.withLockRetry)

    const balance = (userId: string) =>
      repo.balance(userId).pipe(
        orFail(() => noAccount(userId)),
        Effect.map(({ credit_balance }) => ({ user_id: userId, balance: credit_balance })),
        orDatabaseError,
        // The hottest read of all: its span captures no stack trace (an Error per request).
        Effect.withSpan("Credits.balance", { captureStackTrace: false })
      )

    const transactions = (userId: string, page: PageRequest<string>) =>
      Effect.gen(function*() {
        yield* balance(userId)
        const rows = yield* repo.list({ userId, limit: limitOf(page), before: page.starting_after ?? null })
        return toPage(rows, page, (row) => row.id)
      }).pipe(orDatabaseError, Effect.withSpan("Credits.transactions"))

    const packages = repo.packages().pipe(
      Effect.map((data) => ({ data })),
      orDatabaseError,
      Effect.withSpan("Credits.packages")
    )

    /** The user's stored balance and the ledger's sum, which must agree. */
    const audit = (userId: string) =>
      Effect.all({ stored: balance(userId), ledger: orDatabaseError(repo.ledgerSum(userId)) }).pipe(
        Effect.map(({ ledger, stored }) => ({ stored: stored.balance, ledger }))
      )

    return { grant, charge, refund, purchase, reclaim, balance, transactions, packages, audit } as const
  }),
  dependencies: [CreditsRepo.Default]
}) {}
