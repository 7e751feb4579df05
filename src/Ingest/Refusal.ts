/**
 * Why an export cannot be read, in words a person understands: what every step of reading one (bytes to
 * text, unzipping, parsing) refuses with, and the HTTP error a refusal becomes.
 */
import { PayloadTooLarge, UnsupportedExport } from "../Domain/Errors.js"

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

export type ExportError = UnsupportedExport | PayloadTooLarge

/** The HTTP-facing error for a refusal: too large is 413, every other refusal 422. */
export const refusalError = (r: Refusal): ExportError =>
  r.reason === "too-large" ? new PayloadTooLarge({ message: r.message }) : new UnsupportedExport({ message: r.message })
