/** Users' SQL. Reads go through `active_users`; only `status` looks at deleted rows, to refuse them. */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { User } from "../Domain/User.js"

const columns = "id, email, name, credit_balance, created_at, updated_at"

export class UsersRepo extends Effect.Service<UsersRepo>()("chatsight/UsersRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const userColumns = sql.literal(columns)

    /** Creates the row unless one exists (deleted or not); true when it was created. */
    const insertIfMissing = (user: { readonly id: string; readonly email: string | null; readonly name: string | null }) =>
      sql`INSERT INTO users (id, email, name) VALUES (${user.id}, ${user.email}, ${user.name})
          ON CONFLICT (id) DO NOTHING RETURNING id`.pipe(Effect.map((rows) => rows.length === 1))

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
     * Whether a token's subject has an account, and whether that account was deleted: closed now, or
     * erased before the token was issued (a token without `iat` predates every erasure of its subject).
     */
    const status = (input: { readonly id: string; readonly subjectHash: string; readonly issuedAt: number | null }) =>
      sql<{ deleted: boolean | null; erased: boolean }>`SELECT
          (SELECT deleted_at IS NOT NULL FROM users WHERE id = ${input.id}) AS deleted,
          EXISTS (SELECT 1 FROM erasures WHERE subject_hash = ${input.subjectHash}
                  AND (${input.issuedAt}::float8 IS NULL OR ${input.issuedAt}::float8 <= extract(epoch FROM requested_at)))
            AS erased`.pipe(
        Effect.map((rows) => {
          const row = rows[0]
          if (row === undefined) return "unknown" as const
          if (row.deleted === true || row.erased) return "deleted" as const
          return row.deleted === null ? "unknown" as const : "active" as const
        })
      )

    return { insertIfMissing, lockActive, findActive, updateProfile, status } as const
  })
}) {}
