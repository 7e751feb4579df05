/**
 * The parsing thread's entry: reads one export (parse and statistics are CPU-heavy) so the server's
 * event loop keeps serving, and posts back the columns, the report and the statistics, or a refusal.
 */
import { Cause, Effect, Exit, Option } from "effect"
import { parentPort, workerData } from "node:worker_threads"
import { toColumns } from "./Columns.js"
import { readExport, type ExportOptions } from "./Export.js"
import { computeStatistics, type StatisticsOptions } from "./Statistics.js"
import type { ThreadReply, ThreadRequest } from "./Thread.js"

const request: ThreadRequest = workerData

const program = Effect.map(
  readExport(request.bytes, request.filename, request.export satisfies ExportOptions),
  (chat): ThreadReply => {
    const columns = toColumns(chat.messages)
    const statistics = computeStatistics(chat.messages, request.statistics satisfies StatisticsOptions)
    return { _tag: "Parsed", report: chat.report, statistics, columns }
  }
)

// A thread entry, like main.ts: the one place this program is run.
void Effect.runPromiseExit(program).then((exit) => {
  const reply: ThreadReply = Exit.match(exit, {
    onSuccess: (parsed) => parsed,
    onFailure: (cause) =>
      Option.match(Cause.failureOption(cause), {
        onSome: (error) => ({ _tag: "Refused", error: { _tag: error._tag, message: error.message } }),
        onNone: () => ({ _tag: "Crashed", message: Cause.pretty(cause) })
      })
  })
  const { columns } = reply._tag === "Parsed" ? reply : { columns: undefined }
  parentPort?.postMessage(
    reply,
    columns === undefined ? [] : [columns.sentAt.buffer, columns.kind.buffer, columns.author.buffer, columns.textEnd.buffer]
  )
})
