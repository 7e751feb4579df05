/** Credits: the ledger entries, balances and packages, as stored and as shown. */
import { Schema } from "effect"

/** A `reversal` takes back credits of a refunded or disputed purchase; it and `charge` are negative. */
export const CreditKind = Schema.Literal("grant", "charge", "refund", "purchase", "reversal")
export type CreditKind = typeof CreditKind.Type

/** A business reference: what a ledger entry is for, unique per user (`welcome`, `insight:<chat>:<type>`). */
export const Reference = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200))

const transactionFields = {
  /** The ledger's own id; also the pagination cursor. */
  id: Schema.String,
  kind: CreditKind,
  /** Signed: negative for charges and reversals. */
  amount: Schema.Int,
  balance_after: Schema.Int,
  reference: Reference,
  description: Schema.String
}

export const CreditTransaction = Schema.Struct({ ...transactionFields, created_at: Schema.Date })
  .annotations({ identifier: "CreditTransaction" })

export const LedgerRow = Schema.Struct({
  ...transactionFields,
  user_id: Schema.String,
  created_at: Schema.DateFromSelf
})
export type LedgerRow = typeof LedgerRow.Type

export const Balance = Schema.Struct({
  user_id: Schema.String,
  balance: Schema.Int
}).annotations({ identifier: "Balance" })

export const Price = Schema.Struct({
  currency: Schema.String,
  /** In the currency's minor unit (cents, paise). */
  unit_amount: Schema.Int
})

export const CreditPackage = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  description: Schema.String,
  credits: Schema.Int,
  prices: Schema.Array(Price)
}).annotations({ identifier: "CreditPackage" })
