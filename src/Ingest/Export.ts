/**
 * The one entry for an uploaded export: a `.txt` chat or a `.zip` export, read into a ParsedChat or
 * refused with an error a person understands (413 over the size limit, 422 for anything unreadable).
 */
import { Effect, Schema } from "effect"
import { PayloadTooLarge, UnsupportedExport } from "../Domain/Errors.js"
import { formatBytes } from "../Domain/Size.js"
import { decodeChatBytes } from "./ChatText.js"
import { type ParsedChat, parseChat, type ParseOptions } from "./Parser.js"
import type { Refusal } from "./Refusal.js"
import { matchAttachments } from "./Report.js"
import { looksLikeZip, readChatFromZip } from "./Zip.js"

export type ExportError = UnsupportedExport | PayloadTooLarge

/** The HTTP-facing error for a refusal: too large is 413, every other refusal 422. */
export const refusalError = (r: Refusal): ExportError =>
  r.reason === "too-large" ? new PayloadTooLarge({ message: r.message }) : new UnsupportedExport({ message: r.message })

export const ExportOptions = Schema.Struct({
  /** Force the day/month order instead of inferring it from the dates. */
  dayFirst: Schema.optional(Schema.Boolean),
  /** Largest upload, and largest chat text once unzipped, in bytes; 100 MB unless set. */
  maxBytes: Schema.optional(Schema.Number)
})
export type ExportOptions = typeof ExportOptions.Type

const DEFAULT_MAX_BYTES = 100 * 1024 * 1024

/** Reads an uploaded export: a zip when its bytes (or name) say so, otherwise chat text. */
export const readExport = (
  bytes: Uint8Array,
  filename: string,
  options: ExportOptions = {}
): Effect.Effect<ParsedChat, ExportError> => {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
  if (bytes.length > maxBytes) {
    return Effect.fail(
      new PayloadTooLarge({
        message: `The file is ${formatBytes(bytes.length)}; the limit is ${formatBytes(maxBytes)}.`
      })
    )
  }
  const parseOptions: ParseOptions = options.dayFirst === undefined ? {} : { dayFirst: options.dayFirst }
  const parseBytes = (text: Uint8Array): Effect.Effect<ParsedChat, ExportError> => {
    const decoded = decodeChatBytes(text)
    if (typeof decoded !== "string") return Effect.fail(refusalError(decoded))
    const outcome = parseChat(decoded, parseOptions)
    return outcome._tag === "Parsed" ? Effect.succeed(outcome.chat) : Effect.fail(refusalError(outcome))
  }
  if (bytes.length === 0) return parseBytes(bytes)
  if (looksLikeZip(bytes) || /\.zip$/i.test(filename)) {
    return readChatFromZip(bytes, { maxChatBytes: maxBytes }).pipe(
      Effect.mapError(refusalError),
      Effect.flatMap((zip) =>
        Effect.map(parseBytes(zip.bytes), (chat): ParsedChat => ({
          ...chat,
          report: { ...chat.report, attachments: matchAttachments(chat.columns, zip.files) }
        }))
      )
    )
  }
  return parseBytes(bytes)
}
