/**
 * The credit ledger through the `Credits` service on a fresh database: balances move only through
 * grant, charge and refund; a reference posts once; a balance never goes below zero; the stored
 * balance always equals the ledger's sum; and the database itself refuses edits of the ledger and
 * negative balances. Under real concurrency (PostgreSQL only) nothing is lost or taken twice.
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { expect, layer } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Layer } from "effect"
import { Credits } from "../src/Credits.js"
import { sqlState } from "../src/Database.js"
import { needsPostgres, onPostgres, TestDatabase } from "./support/TestApp.js"

const TestCredits = Credits.Default.pipe(Layer.provideMerge(TestDatabase()))

/** A test that needs a real PostgreSQL server says why it did not run elsewhere. */
const pgOnly = (name: string) => onPostgres ? name : `${name} (${needsPostgres})`

/** Creates an account with a zero balance, as `POST /api/users/store` would before its welcome grant. */
const newUser = (id: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`INSERT INTO users (id) VALUES (${id})`).pipe(Effect.as(id))

/** The user's ledger, oldest first, as stored. */
const ledgerOf = (userId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{ readonly kind: string; readonly amount: number; readonly balance_after: number; readonly reference: string }>`
        SELECT kind, amount, balance_after, reference FROM credit_transactions WHERE user_id = ${userId} ORDER BY id`
  )

const storedBalance = (userId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ readonly credit_balance: number }>`SELECT credit_balance FROM users WHERE id = ${userId}`
  ).pipe(Effect.map((rows) => rows[0]?.credit_balance))

/** The SQLSTATE a statement failed with; fails the test if it succeeded or failed otherwise. */
const refusedWith = <A, E, R>(statement: Effect.Effect<A, E, R>) =>
  statement.pipe(
    Effect.flip,
    Effect.map((error) => error instanceof SqlError ? sqlState(error) : `not a SqlError: ${String(error)}`)
  )

const entry = (userId: string, amount: number, reference: string) => ({
  userId,
  amount,
  reference,
  description: `test ${reference}`
})

layer(TestCredits)("Credits", (it) => {
  it.effect("grant adds credits and returns applied: true with the new balance and its ledger entry", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      const userId = yield* newUser("grant-user")
      const first = yield* credits.grant(entry(userId, 15, "welcome"))
      expect(first.applied).toBe(true)
      expect(first.balance).toBe(15)
      expect(first.transaction).toMatchObject({ kind: "grant", amount: 15, balance_after: 15, reference: "welcome" })
      const second = yield* credits.grant(entry(userId, 5, "goodwill"))
      expect(second).toMatchObject({ applied: true, balance: 20 })
      expect(yield* credits.balance(userId)).toEqual({ user_id: userId, balance: 20 })
    }))

  it.effect("charge subtracts and records a negative ledger amount", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      const userId = yield* newUser("charge-user")
      yield* credits.grant(entry(userId, 10, "welcome"))
      const charged = yield* credits.charge(entry(userId, 3, "insight:a"))
      expect(charged.applied).toBe(true)
      expect(charged.balance).toBe(7)
      expect(charged.transaction).toMatchObject({ kind: "charge", amount: -3, balance_after: 7 })
      expect((yield* credits.balance(userId)).balance).toBe(7)
    }))

  it.effect("a charge larger than the balance fails with InsufficientCredits and changes neither balance nor ledger", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      const userId = yield* newUser("poor-user")
      yield* credits.grant(entry(userId, 5, "welcome"))
      const ledgerBefore = yield* ledgerOf(userId)

      const error = yield* Effect.flip(credits.charge(entry(userId, 6, "too-much")))
      expect(error._tag).toBe("InsufficientCredits")

      expect(yield* storedBalance(userId)).toBe(5)
      expect(yield* ledgerOf(userId)).toEqual(ledgerBefore)
      // The refused reference was not consumed: it posts once the balance covers it.
      yield* credits.grant(entry(userId, 1, "top-up"))
      expect(yield* credits.charge(entry(userId, 6, "too-much"))).toMatchObject({ applied: true, balance: 0 })
    }))

  it.effect("a repeated reference with the same kind and amount returns applied: false and changes nothing", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      const userId = yield* newUser("repeat-user")
      yield* credits.grant(entry(userId, 10, "welcome"))
      const first = yield* credits.charge(entry(userId, 4, "insight:x"))
      const ledgerAfterFirst = yield* ledgerOf(userId)

      const again = yield* credits.charge(entry(userId, 4, "insight:x"))
      expect(again.applied).toBe(false)
      expect(again.balance).toBe(6)
      expect(again.transaction).toEqual(first.transaction)
      const grantAgain = yield* credits.grant(entry(userId, 10, "welcome"))
      expect(grantAgain).toMatchObject({ applied: false, balance: 6 })

      expect(yield* storedBalance(userId)).toBe(6)
      expect(yield* ledgerOf(userId)).toEqual(ledgerAfterFirst)
    }))

  it.effect("a reference reused for a different amount or kind fails with Conflict and changes nothing", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      const userId = yield* newUser("conflict-user")
      yield* credits.grant(entry(userId, 10, "welcome"))
      yield* credits.charge(entry(userId, 4, "insight:y"))
      const ledgerBefore = yield* ledgerOf(userId)

      const otherAmount = yield* Effect.flip(credits.charge(entry(userId, 5, "insight:y")))
      expect(otherAmount._tag).toBe("Conflict")
      const otherKind = yield* Effect.flip(credits.grant(entry(userId, 4, "insight:y")))
      expect(otherKind._tag).toBe("Conflict")
      const grantReusedForCharge = yield* Effect.flip(credits.charge(entry(userId, 10, "welcome")))
      expect(grantReusedForCharge._tag).toBe("Conflict")

      expect(yield* storedBalance(userId)).toBe(6)
      expect(yield* ledgerOf(userId)).toEqual(ledgerBefore)
    }))

  it.effect("a refund returns a charge's credits once; a second refund of it is applied: false", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      const userId = yield* newUser("refund-user")
      yield* credits.grant(entry(userId, 10, "welcome"))
      yield* credits.charge(entry(userId, 7, "insight:z"))

      const refunded = yield* credits.refund({ userId, chargeReference: "insight:z", description: "generation failed" })
      expect(refunded.applied).toBe(true)
      expect(refunded.balance).toBe(10)
      expect(refunded.transaction).toMatchObject({ kind: "refund", amount: 7, balance_after: 10, reference: "refund:insight:z" })

      const again = yield* credits.refund({ userId, chargeReference: "insight:z", description: "generation failed" })
      expect(again.applied).toBe(false)
      expect(again.balance).toBe(10)
      expect(yield* storedBalance(userId)).toBe(10)
      expect((yield* ledgerOf(userId)).map((row) => row.kind)).toEqual(["grant", "charge", "refund"])
    }))

  it.effect("refunding a reference that is not a charge fails with Conflict; an unknown one with NotFound", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      const userId = yield* newUser("bad-refund-user")
      yield* credits.grant(entry(userId, 10, "welcome"))
      yield* credits.charge(entry(userId, 2, "insight:w"))
      yield* credits.refund({ userId, chargeReference: "insight:w", description: "once" })
      const ledgerBefore = yield* ledgerOf(userId)

      const ofGrant = yield* Effect.flip(credits.refund({ userId, chargeReference: "welcome", description: "no" }))
      expect(ofGrant._tag).toBe("Conflict")
      const ofRefund = yield* Effect.flip(credits.refund({ userId, chargeReference: "refund:insight:w", description: "no" }))
      expect(ofRefund._tag).toBe("Conflict")
      const ofUnknown = yield* Effect.flip(credits.refund({ userId, chargeReference: "never-charged", description: "no" }))
      expect(ofUnknown._tag).toBe("NotFound")

      expect(yield* storedBalance(userId)).toBe(10)
      expect(yield* ledgerOf(userId)).toEqual(ledgerBefore)
    }))

  it.effect("after a sequence of operations the stored balance equals the ledger's sum", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      const userId = yield* newUser("audit-user")
      yield* credits.grant(entry(userId, 10, "welcome"))
      yield* credits.grant(entry(userId, 50, "order:1"))
      yield* credits.charge(entry(userId, 12, "insight:1"))
      yield* credits.charge(entry(userId, 8, "insight:2"))
      yield* credits.refund({ userId, chargeReference: "insight:1", description: "failed" })
      yield* credits.charge(entry(userId, 8, "insight:2"))
      yield* Effect.either(credits.charge(entry(userId, 1000, "insight:3")))
      yield* Effect.either(credits.grant(entry(userId, 11, "welcome")))

      expect(yield* credits.audit(userId)).toEqual({ stored: 52, ledger: 52 })
      const ledger = yield* ledgerOf(userId)
      expect(ledger.map((row) => row.amount)).toEqual([10, 50, -12, -8, 12])
      // Every entry records the balance it left behind.
      let running = 0
      for (const row of ledger) {
        running += row.amount
        expect(row.balance_after).toBe(running)
      }
    }))

  it.effect("the operations of a user with no account fail with NotFound", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      expect((yield* Effect.flip(credits.grant(entry("nobody", 5, "welcome"))))._tag).toBe("NotFound")
      expect((yield* Effect.flip(credits.balance("nobody")))._tag).toBe("NotFound")
    }))

  it.effect("an amount that is not a positive whole number is a defect (a bug of the caller), and nothing is written", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      const userId = yield* newUser("invalid-amount-user")
      for (const amount of [0, -5, 1.5]) {
        const exit = yield* Effect.exit(credits.grant(entry(userId, amount, `bad:${amount}`)))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      }
      expect(yield* ledgerOf(userId)).toEqual([])
    }))

  it.effect("the database refuses to update or delete ledger entries", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      const sql = yield* SqlClient.SqlClient
      const userId = yield* newUser("append-only-user")
      yield* credits.grant(entry(userId, 10, "welcome"))
      yield* credits.charge(entry(userId, 3, "insight:q"))
      const ledgerBefore = yield* ledgerOf(userId)
      expect(ledgerBefore).toHaveLength(2)

      // 23001 restrict_violation: raised by the append-only trigger, before any other check.
      expect(yield* refusedWith(sql`UPDATE credit_transactions SET amount = 1`)).toBe("23001")
      expect(yield* refusedWith(sql`DELETE FROM credit_transactions`)).toBe("23001")
      expect(yield* ledgerOf(userId)).toEqual(ledgerBefore)
    }))

  it.effect("the database refuses a negative balance", () =>
    Effect.gen(function*() {
      const credits = yield* Credits
      const sql = yield* SqlClient.SqlClient
      const userId = yield* newUser("negative-user")
      yield* credits.grant(entry(userId, 4, "welcome"))

      // 23514 check_violation
      expect(yield* refusedWith(sql`UPDATE users SET credit_balance = -1 WHERE id = ${userId}`)).toBe("23514")
      expect(yield* storedBalance(userId)).toBe(4)
    }))
})

// On the live clock (`excludeTestServices`): contended `withLockRetry` blocks back off with real
// sleeps, which the test clock would never end. The lock-retry settings are the defaults (8 retries,
// 50 ms doubling, each delay capped at 1 s): with the earlier 5 uncapped retries, 50 contenders on
// one row ran out of retries in 9 of 32 runs.
const ContendedCredits = Credits.Default.pipe(Layer.provideMerge(TestDatabase()))

layer(ContendedCredits, { excludeTestServices: true })("Credits under concurrency", (it) => {
  it.effect.skipIf(!onPostgres)(
    pgOnly("50 concurrent charges of 1 on a balance of 20: exactly 20 succeed, 30 are refused, the balance ends at 0"),
    () =>
      Effect.gen(function*() {
        const credits = yield* Credits
        const userId = yield* newUser("contended-user")
        yield* credits.grant(entry(userId, 20, "welcome"))

        const results = yield* Effect.all(
          Array.from({ length: 50 }, (_, i) => Effect.either(credits.charge(entry(userId, 1, `burst:${i}`)))),
          { concurrency: "unbounded" }
        )

        const succeeded = results.filter(Either.isRight)
        const failedWith = results.filter(Either.isLeft).map((result) => result.left._tag)
        expect(succeeded).toHaveLength(20)
        expect(succeeded.every((result) => result.right.applied)).toBe(true)
        expect(failedWith).toEqual(Array.from({ length: 30 }, () => "InsufficientCredits"))
        expect(new Set(succeeded.map((result) => result.right.balance))).toEqual(
          new Set(Array.from({ length: 20 }, (_, i) => i))
        )
        expect(yield* credits.audit(userId)).toEqual({ stored: 0, ledger: 0 })
        expect((yield* ledgerOf(userId)).filter((row) => row.kind === "charge")).toHaveLength(20)
      })
  )

  it.effect.skipIf(!onPostgres)(
    pgOnly("the same charge sent 10 times concurrently is taken once"),
    () =>
      Effect.gen(function*() {
        const credits = yield* Credits
        const userId = yield* newUser("double-click-user")
        yield* credits.grant(entry(userId, 10, "welcome"))

        const results = yield* Effect.all(
          Array.from({ length: 10 }, () => Effect.either(credits.charge(entry(userId, 3, "insight:same")))),
          { concurrency: "unbounded" }
        )

        expect(results.filter(Either.isLeft).map((result) => result.left._tag)).toEqual([])
        const applied = results.filter(Either.isRight).map((result) => result.right.applied)
        expect(applied.filter((value) => value)).toHaveLength(1)
        expect(applied.filter((value) => !value)).toHaveLength(9)
        expect(results.filter(Either.isRight).every((result) => result.right.balance === 7)).toBe(true)
        expect(yield* credits.audit(userId)).toEqual({ stored: 7, ledger: 7 })
        expect((yield* ledgerOf(userId)).filter((row) => row.reference === "insight:same")).toHaveLength(1)
      })
  )
})
