/** Account erasure as the API shows it: the request, and the purge's progress with what it removed. */
import { Schema } from "effect"

export const EraseRequest = Schema.Struct({
  /** The account's email (its id when it has none): a guard against erasing an account by mistake. */
  confirm: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(320))
}).annotations({ identifier: "EraseRequest" })

export const ErasureStatus = Schema.Literal("pending", "purging", "done")

export const Erasure = Schema.Struct({
  /** Also the secret that reads this report: keep it. */
  id: Schema.UUID,
  status: ErasureStatus,
  /** Rows removed or pseudonymised so far, per store (messages, chunks, vectors, ledger entries, ...). */
  counts: Schema.Record({ key: Schema.String, value: Schema.Int }),
  requested_at: Schema.Date,
  finished_at: Schema.NullOr(Schema.Date)
}).annotations({ identifier: "Erasure" })
export type Erasure = typeof Erasure.Type

export const ErasureRow = Schema.Struct({
  ...Erasure.fields,
  user_id: Schema.String,
  requested_at: Schema.DateFromSelf,
  finished_at: Schema.NullOr(Schema.DateFromSelf)
})
export type ErasureRow = typeof ErasureRow.Type
