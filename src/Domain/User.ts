/** The user as stored and as shown to its owner. */
import { Schema } from "effect"
import { NotFound } from "./Errors.js"

export const UserId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255))

export class User extends Schema.Class<User>("User")({
  id: UserId,
  email: Schema.NullOr(Schema.String),
  name: Schema.NullOr(Schema.String),
  credit_balance: Schema.Int,
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf
}) {}

/** The identity a verified token vouches for. */
export interface Claims {
  readonly sub: string
  readonly email: string | null
  readonly name: string | null
  /** The token's `iat` (seconds), when it has one: tokens issued before an erasure are refused. */
  readonly issuedAt: number | null
}

export const UserProfile = Schema.Struct({
  id: Schema.String,
  email: Schema.NullOr(Schema.String),
  name: Schema.NullOr(Schema.String),
  credit_balance: Schema.Int,
  created_at: Schema.Date,
  /** True when this call created the account (and granted the welcome credits). */
  created: Schema.Boolean
}).annotations({ identifier: "UserProfile" })

/** A valid token whose subject has no account yet. */
export const noAccount = (userId: string) =>
  new NotFound({ message: `No account for user ${userId}; call POST /api/users/store first` })
