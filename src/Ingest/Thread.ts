/**
 * Runs the parse of one export on a worker thread, off the event loop, and brings back its columns,
 * report and statistics. A refusal comes back as the same typed error the parser raises.
 */
import { Effect } from "effect"
import { Worker } from "node:worker_threads"
import { InternalError, PayloadTooLarge, UnsupportedExport } from "../Domain/Errors.js"
import type { MessageColumns } from "./Columns.js"
import type { ExportError, ExportOptions } from "./Export.js"
import type { ParseReport } from "./Model.js"
import type { ChatStatistics, StatisticsOptions } from "./Statistics.js"

export interface ThreadRequest {
  /** Transferred to the thread: a buffer of its own, unusable by the caller afterwards. */
  readonly bytes: Uint8Array<ArrayBuffer>
  readonly filename: string
  readonly export: ExportOptions
  readonly statistics: StatisticsOptions
}

export interface ParsedExport {
  readonly _tag: "Parsed"
  readonly report: ParseReport
  readonly statistics: ChatStatistics
  readonly columns: MessageColumns
}

export type ThreadReply =
  | ParsedExport
  | { readonly _tag: "Refused"; readonly error: { readonly _tag: string; readonly message: string } }
  | { readonly _tag: "Crashed"; readonly message: string }

const entry = new URL("./parse-thread.mjs", import.meta.url)

/** The bytes in an ArrayBuffer of their own, so transferring it cannot take anything else along. */
export const ownBuffer = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => {
  const copy = new Uint8Array(new ArrayBuffer(bytes.byteLength))
  copy.set(bytes)
  return copy
}

export const parseInThread = (request: ThreadRequest): Effect.Effect<ParsedExport, ExportError | InternalError> =>
  Effect.async<ParsedExport, ExportError | InternalError>((resume) => {
    // The bytes are transferred, not copied: the caller must not use them afterwards.
    const worker = new Worker(entry, { workerData: request, transferList: [request.bytes.buffer] })
    let settled = false
    const settle = (effect: Effect.Effect<ParsedExport, ExportError | InternalError>) => {
      if (settled) return
      settled = true
      resume(effect)
    }
    worker.once("message", (reply: ThreadReply) => {
      switch (reply._tag) {
        case "Parsed":
          return settle(Effect.succeed(reply))
        case "Refused":
          return settle(Effect.fail(
            reply.error._tag === "PayloadTooLarge"
              ? new PayloadTooLarge({ message: reply.error.message })
              : new UnsupportedExport({ message: reply.error.message })
          ))
        case "Crashed":
          return settle(
            Effect.logError("Parsing thread failed", reply.message).pipe(
              Effect.zipRight(Effect.fail(new InternalError({ message: "The export could not be read; it has been logged" })))
            )
          )
      }
    })
    worker.once("error", (error) =>
      settle(
        Effect.logError("Parsing thread crashed", error).pipe(
          Effect.zipRight(Effect.fail(new InternalError({ message: "The export could not be read; it has been logged" })))
        )
      ))
    worker.once("exit", (code) => {
      if (code !== 0) {
        settle(Effect.fail(new InternalError({ message: `The parsing thread exited with code ${code}` })))
      }
    })
    return Effect.promise(() => worker.terminate())
  }).pipe(Effect.withSpan("Ingest.parseInThread", { attributes: { filename: request.filename, bytes: request.bytes.length } }))
