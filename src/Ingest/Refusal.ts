/**
 * Why an export cannot be read, in words a person understands: what every step of reading one (bytes to
 * text, unzipping, parsing) refuses with. (The HTTP error a refusal becomes is in Export.ts.)
 */

export type RefusalReason =
  | "empty"
  | "binary"
  | "invalid-utf8"
  | "not-a-chat"
  | "no-chat-file"
  | "corrupt-zip"
  | "zip-bomb"
  | "too-large"

export interface Refusal {
  readonly _tag: "Refusal"
  readonly reason: RefusalReason
  readonly message: string
}

export const refusal = (reason: RefusalReason, message: string): Refusal => ({ _tag: "Refusal", reason, message })
