/** The credit ledger's SQL. Balances are read and locked through `active_users`. */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { CreditKind, CreditPackage, LedgerRow, Reference } from "../Domain/Credits.js"

const ledgerColumns = "id::text AS id, user_id, kind, amount, balance_after, reference, description, created_at"

export class CreditsRepo extends Effect.Service<CreditsRepo>()("chatsight/CreditsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const columns = sql.literal(ledgerColumns)

    /** Locks the user's row without waiting (55P03 when someone else holds it). */
    const lockBalance = SqlSchema.findOne({
      Request: Schema.String,
      Result: Schema.Struct({ credit_balance: Schema.Int }),
      execute: (userId) => sql`SELECT credit_balance FROM active_users WHERE id = ${userId} FOR UPDATE NOWAIT`
    })

    const balance = SqlSchema.findOne({
      Request: Schema.String,
      Result: Schema.Struct({ credit_balance: Schema.Int }),
      execute: (userId) => sql`SELECT credit_balance FROM active_users WHERE id = ${userId}`
    })

    const findByReference = SqlSchema.findOne({
      Request: Schema.Struct({ userId: Schema.String, reference: Reference }),
      Result: LedgerRow,
      execute: ({ reference, userId }) =>
        sql`SELECT ${columns} FROM credit_transactions WHERE user_id = ${userId} AND reference = ${reference}`
    })

    const append = SqlSchema.single({
      Request: Schema.Struct({
        user_id: Schema.String,
        kind: CreditKind,
        amount: Schema.Int,
        balance_after: Schema.Int,
        reference: Reference,
        description: Schema.String
      }),
      Result: LedgerRow,
      execute: (entry) => sql`INSERT INTO credit_transactions ${sql.insert(entry)} RETURNING ${columns}`
    })

    const setBalance = (userId: string, balance: number) =>
      sql`UPDATE users SET credit_balance = ${balance}, updated_at = now() WHERE id = ${userId}`

    /** Newest first; `limit + 1` rows so the caller knows whether there are more. */
    const list = SqlSchema.findAll({
      Request: Schema.Struct({ userId: Schema.String, limit: Schema.Int, before: Schema.NullOr(Schema.String) }),
      Result: LedgerRow,
      execute: ({ before, limit, userId }) =>
        sql`SELECT ${columns} FROM credit_transactions
            WHERE user_id = ${userId} ${before === null ? sql`` : sql`AND id < ${before}::bigint`}
            ORDER BY credit_transactions.id DESC LIMIT ${limit + 1}`
    })

    /** The ledger's sum for a user, to check it against the stored balance. */
    const ledgerSum = (userId: string) =>
      sql<{ sum: number }>`SELECT coalesce(sum(amount), 0)::int AS sum FROM credit_transactions WHERE user_id = ${userId}`
        .pipe(Effect.map((rows) => rows[0]?.sum ?? 0))

    const packages = SqlSchema.findAll({
      Request: Schema.Void,
      Result: CreditPackage,
      execute: () =>
        sql`SELECT p.id, p.name, p.description, p.credits,
                   coalesce(json_agg(json_build_object('currency', pr.currency, 'unit_amount', pr.unit_amount)
                            ORDER BY pr.currency) FILTER (WHERE pr.currency IS NOT NULL), '[]') AS prices
            FROM credit_packages p LEFT JOIN credit_package_prices pr ON pr.package_id = p.id
            WHERE p.is_active
            GROUP BY p.id ORDER BY p.sort_order, p.id`
    })

    return { lockBalance, balance, findByReference, append, setBalance, list, ledgerSum, packages } as const
  })
}) {}
