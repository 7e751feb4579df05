/** Idempotency keys on POSTs that create or charge: repeating a request with its key repeats nothing. */
import { Schema } from "effect"

/** The longest Idempotency-Key accepted (the tables' limit). */
export const IdempotencyKey = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255))

/** The optional `Idempotency-Key` header of an endpoint; `description` says what a repeat gets. */
export const idempotencyHeaders = (description: string) =>
  Schema.Struct({ "idempotency-key": Schema.optional(IdempotencyKey).annotations({ description }) })
