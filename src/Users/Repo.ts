/** Users' SQL. Reads go through `active_users`; only `status` looks at deleted rows, to refuse them. */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { Database } from "../Database.js"
import { User } from "../Domain/User.js"

const columns = "id, email, name, credit_balance, created_at, updated_at"

export class UsersRepo extends Effect.Service<UsersRepo>()("chatsight/UsersRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const database = yield* Database
    const userColumns = sql.literal(columns)
    // Every authenticated request reads it: a prepared statement (see `Database.prepared`).
    const standing = database.prepared<{ deleted: boolean; after: number | null; balance: number }>(
      "users.standing",
      "SELECT deleted_at IS NOT NULL AS deleted, extract(epoch FROM tokens_issued_after)::float8 AS after, " +
        "credit_balance AS balance FROM users WHERE id = $1"
    )

    /**
     * Creates the row unless one exists (deleted or not). A subject whose earlier account was erased gets
     * a row that refuses the tokens issued before that erasure. Says whether it was created, and whether
     * it is such a returning subject's.
     */
    const insertIfMissing = (user: {
      readonly id: string
      readonly email: string | null
      readonly name: string | null
      readonly subjectHash: string
    }) =>
      sql<{ returning: boolean }>`INSERT INTO users (id, email, name, tokens_issued_after)
          VALUES (${user.id}, ${user.email}, ${user.name},
                  (SELECT max(requested_at) FROM erasures WHERE subject_hash = ${user.subjectHash}))
          ON CONFLICT (id) DO NOTHING RETURNING tokens_issued_after IS NOT NULL AS returning`.pipe(
        Effect.map((rows) => ({ created: rows.length === 1, returning: rows[0]?.returning === true }))
      )

    /** Locks an active user's row without waiting (55P03 when someone else holds it). */
    const lockActive = SqlSchema.findOne({
      Request: Schema.String,
      Result: User,
      execute: (id) => sql`SELECT ${userColumns} FROM active_users WHERE id = ${id} FOR UPDATE NOWAIT`
    })

    const findActive = SqlSchema.findOne({
      Request: Schema.String,
      Result: User,
      execute: (id) => sql`SELECT ${userColumns} FROM active_users WHERE id = ${id}`
    })

    const updateProfile = SqlSchema.single({
      Request: Schema.Struct({ id: Schema.String, email: Schema.NullOr(Schema.String), name: Schema.NullOr(Schema.String) }),
      Result: User,
      execute: ({ email, id, name }) =>
        sql`UPDATE users SET email = ${email}, name = ${name}, updated_at = now()
            WHERE id = ${id} AND deleted_at IS NULL RETURNING ${userColumns}`
    })

    /**
     * Whether a token's subject has an account, and whether that account was deleted: closed, or (for a
     * returning subject's fresh account) the token issued before its erasure. A subject with no row is
     * looked up among the erasures: a token issued before one is refused (one without `iat` predates them all).
     * An active account's balance comes with it, from the same row: the balance route needs no second query.
     */
    // The subject's hash is needed only for a subject without an account (rare): computed then.
    const status = (input: { readonly id: string; readonly subjectHash: () => string; readonly issuedAt: number | null }) =>
      Effect.gen(function*() {
        const [row] = yield* standing([input.id])
        const before = (after: number) => input.issuedAt === null || input.issuedAt <= after
        if (row !== undefined) {
          return row.deleted || (row.after !== null && before(row.after))
            ? { status: "deleted" as const, balance: null }
            : { status: "active" as const, balance: row.balance }
        }
        const [erased] = yield* sql<{ after: number | null }>`
          SELECT extract(epoch FROM max(requested_at))::float8 AS after FROM erasures WHERE subject_hash = ${input.subjectHash()}`
        const refused = erased?.after !== null && erased?.after !== undefined && before(erased.after)
        return { status: refused ? "deleted" as const : "unknown" as const, balance: null }
      })

    return { insertIfMissing, lockActive, findActive, updateProfile, status } as const
  })
}) {}
