/**
 * Reads an upload's multipart/form-data body: the export in the part named `file` and the short text
 * fields beside it, holding at most the upload limit in memory.
 *
 * It drives multipasta (the parser @effect/platform uses) itself, for two reasons: the platform reads a
 * part's name and file name with a pattern that refuses anything outside Latin-1 (WhatsApp names exports
 * after the contact or group: "WhatsApp Chat with Иван.txt" would lose its part), and its part stream
 * never ends when a body stops before its closing boundary (fixed in Effect 4). Here the raw
 * Content-Disposition is read leniently, and a body cut short is a 400.
 */
import type { HttpServerRequest } from "@effect/platform"
import { Effect, Option, Stream } from "effect"
import * as Multipasta from "multipasta"
import { hasNul, nulRefused, PayloadTooLarge, ValidationError } from "../Domain/Errors.js"
import { formatBytes } from "../Domain/Size.js"

export interface UploadForm {
  readonly file: Option.Option<{ readonly name: string; readonly bytes: Uint8Array }>
  readonly fields: ReadonlyMap<string, string>
}

type FormError = PayloadTooLarge | ValidationError

/** Text fields are short (a name, a flag, a time zone); a form has a handful of parts. */
const maxFieldBytes = 16 * 1024
const maxParts = 16
/** After a refusal the rest of the body is read and dropped, up to this much, so the client is there for the answer. */
const maxDrainBytes = 8 * 1024 * 1024

const unreadable = (why: string) =>
  new ValidationError({ message: `The body is not a readable multipart/form-data upload: ${why}` })

/** A parameter of a Content-Disposition header, quoted or not; `name=` does not match `filename=`. */
const parameter = (header: string, name: string): string | undefined => {
  const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, "i").exec(header)
  if (match === null) return undefined
  // Browsers send backslashes as they are (C:\Users\...) and escape only the quote.
  return match[1] !== undefined ? match[1].replace(/\\"/g, "\"") : match[2]
}

/** `filename*=UTF-8''<percent-encoded>` (RFC 5987) when a client sends it, else `filename`. */
const fileNameOf = (header: string): string | undefined => {
  const extended = parameter(header, "filename\\*")
  const encoded = extended === undefined ? undefined : /^[\w-]+'[\w-]*'(.*)$/.exec(extended)?.[1]
  if (encoded !== undefined) {
    try {
      return decodeURIComponent(encoded)
    } catch {
      // Not valid percent-encoding: fall back to the plain parameter.
    }
  }
  return parameter(header, "filename")
}

const dispositionOf = (info: Multipasta.PartInfo): string => {
  const header = info.headers["content-disposition"]
  return (Array.isArray(header) ? header[0] : header) ?? ""
}

export const readUploadForm = (
  request: HttpServerRequest.HttpServerRequest,
  maxFileBytes: number
): Effect.Effect<UploadForm, FormError> =>
  Effect.suspend(() => {
    const tooLarge = new PayloadTooLarge({ message: `The upload is larger than the limit of ${formatBytes(maxFileBytes)}` })
    const fields = new Map<string, string>()
    let file: Option.Option<{ readonly name: string; readonly bytes: Uint8Array }> = Option.none()
    let failure: FormError | undefined
    let done = false
    const fail = (error: FormError) => {
      failure ??= error
    }

    const parser = Multipasta.make({
      headers: request.headers,
      maxParts,
      maxFieldSize: maxFieldBytes,
      maxPartSize: maxFileBytes,
      // A part with a file name is the file, whatever its content type says.
      isFile: (info) => fileNameOf(dispositionOf(info)) !== undefined || Multipasta.defaultIsFile(info),
      onField: (info, value) => {
        const name = parameter(dispositionOf(info), "name") ?? info.name
        const text = Multipasta.decodeField(info, value)
        if (hasNul(name)) return fail(nulRefused("a field name"))
        if (hasNul(text)) return fail(nulRefused(name))
        fields.set(name, text)
      },
      onFile: (info) => {
        const disposition = dispositionOf(info)
        const name = parameter(disposition, "name") ?? info.name
        const fileName = fileNameOf(disposition) ?? ""
        if (name !== "file" || Option.isSome(file)) fail(new ValidationError({ message: "file: send exactly one file, in the field named file" }))
        else if (hasNul(fileName)) fail(nulRefused("file (its name)"))
        // Each piece is copied into one buffer as it arrives, not joined at the end: joining 80 MB of
        // pieces in one go held the event loop for 50 ms and more. The body's length sizes the buffer
        // (a little more than the file); without one it doubles as it fills.
        const declared = Number(request.headers["content-length"])
        let buffer = new Uint8Array(Number.isSafeInteger(declared) && declared > 0 ? Math.min(maxFileBytes, declared) : 64 * 1024)
        let size = 0
        return (chunk) => {
          if (failure !== undefined) return
          if (chunk === null) {
            file = Option.some({ name: fileName, bytes: buffer.subarray(0, size) })
            return
          }
          if (size + chunk.length > maxFileBytes) return fail(tooLarge)
          if (size + chunk.length > buffer.length) {
            const grown = new Uint8Array(Math.min(maxFileBytes, Math.max(2 * buffer.length, size + chunk.length)))
            grown.set(buffer.subarray(0, size))
            buffer = grown
          }
          buffer.set(chunk, size)
          size += chunk.length
        }
      },
      onError: (error) => {
        switch (error._tag) {
          case "ReachedLimit":
            return fail(
              error.limit === "MaxPartSize" || error.limit === "MaxTotalSize"
                ? tooLarge
                : unreadable(error.limit === "MaxParts" ? `more than ${maxParts} parts` : "a text field is too long")
            )
          case "EndNotReached":
            return fail(unreadable("it ends before its closing boundary"))
          case "InvalidBoundary":
            return fail(unreadable("its Content-Type names no valid boundary"))
          default:
            return fail(unreadable("a part's headers cannot be read"))
        }
      },
      onDone: () => {
        done = true
      }
    })

    let drained = 0
    return Stream.runForEachWhile(request.stream, (chunk) =>
      Effect.sync(() => {
        if (failure === undefined) {
          parser.write(chunk)
          return true
        }
        drained += chunk.length
        return drained <= maxDrainBytes
      })).pipe(
        Effect.mapError(() => unreadable("the body could not be read to its end")),
        Effect.flatMap(() =>
          Effect.suspend(() => {
            if (failure === undefined) parser.end()
            if (failure !== undefined) return Effect.fail(failure)
            if (!done) return Effect.fail(unreadable("it ends before its closing boundary"))
            return Effect.succeed<UploadForm>({ file, fields })
          })
        )
      )
  })
