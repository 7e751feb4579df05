/**
 * The parsing thread: reads exports (parse and statistics are CPU-heavy) so the server's event loop
 * keeps serving, and posts back the columns, the report and the statistics, or a refusal. It stays up
 * between uploads, so its start-up is paid once.
 */
import { Cause, Effect, Exit, Option } from "effect"
import { parentPort } from "node:worker_threads"
import { columnSource } from "./Columns.js"
import { readExport } from "./Export.js"
import { computeStatistics } from "./Statistics.js"
import type { ThreadCall, ThreadReply } from "./Thread.js"

const parse = (call: ThreadCall) =>
  Effect.map(readExport(call.request.bytes, call.request.filename, call.request.export), (chat): ThreadReply => {
    const statistics = computeStatistics(columnSource(chat.columns), call.request.statistics)
    return { _tag: "Parsed", report: chat.report, statistics, columns: chat.columns }
  })

parentPort?.on("message", (call: ThreadCall) => {
  // A thread entry, like main.ts: each call is run here, once.
  void Effect.runPromiseExit(parse(call)).then((exit) => {
    const reply: ThreadReply = Exit.match(exit, {
      onSuccess: (parsed) => parsed,
      onFailure: (cause) =>
        Option.match(Cause.failureOption(cause), {
          onSome: (error) => ({ _tag: "Refused", error: { _tag: error._tag, message: error.message } }),
          onNone: () => ({ _tag: "Crashed", message: Cause.pretty(cause) })
        })
    })
    // The columns' buffers move without a copy; the chat text they point into is copied once.
    const transfer = reply._tag === "Parsed"
      ? [
        reply.columns.sentAt.buffer,
        reply.columns.kind.buffer,
        reply.columns.author.buffer,
        reply.columns.textStart.buffer,
        reply.columns.textEnd.buffer
      ]
      : []
    parentPort?.postMessage({ id: call.id, reply }, transfer)
  })
})
