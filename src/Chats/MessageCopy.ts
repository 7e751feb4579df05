/**
 * Messages stored with `COPY messages FROM STDIN`: rows in PostgreSQL's text format (Ingest/CopyText.ts)
 * go onto the connection of the current transaction a few hundred kilobytes at a time and never faster
 * than the server takes them. An upload's rows are written by the parsing thread and arrive as buffers
 * the event loop only forwards; a merge's (some messages of an export, under new seqs) are written here
 * from the columns, a chunk at a time. Embedded PGlite cannot take COPY FROM STDIN over its socket (the
 * connection loses protocol synchronisation), so there the same rows go in as batched INSERTs of
 * unnested arrays (`batches`), from columns the thread sends back.
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Option, Stream } from "effect"
import * as Pg from "pg"
import { from as copyFrom } from "pg-copy-streams"
import type { Writable } from "node:stream"
import type { ChatStatistics } from "../Domain/Statistics.js"
import type { InternalError } from "../Domain/Errors.js"
import { fileNameAt, kinds, mediaKindOf, type MessageColumns, type MessageProbe, probesOf, systemEventOf, textAt } from "../Ingest/Columns.js"
import { allRows, copyChunks, type CopyRows, copyStatement } from "../Ingest/CopyText.js"
import type { ExportToParse } from "../Ingest/ParseRequest.js"
import { nextTurn, ParserThreads, type ReadFailure, type ReadForCopy } from "../Ingest/ParserThreads.js"
import { storedWallClock } from "../Ingest/WallClock.js"
import { IngestConfig } from "../Config.js"
import { Database } from "../Database.js"
import { ChatsRepo, type MessageColumns as MessageBatch } from "./Repo.js"

export { allRows, copyText, type CopyRows } from "../Ingest/CopyText.js"

/** Characters of text handed to the connection at a time: large enough to keep the server busy, small enough to stay bounded. */
const chunkChars = 128 * 1024

/** The `pg` client under the current transaction; only a bug calls this outside one. */
const transactionClient = Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (connection) => {
  const client: unknown = Option.isSome(connection) ? Reflect.get(connection.value[0], "pg") : undefined
  return client instanceof Pg.Client
    ? Effect.succeed(client)
    : Effect.dieMessage("MessageCopy.copyMessages runs inside a transaction of the PostgreSQL client")
})

const copyFailed = (cause: unknown) => new SqlError({ cause, message: "Failed to copy messages" })

/** Waits until the stream asks for more, or fails with what broke it. */
const drained = (stream: Writable) =>
  Effect.async<void, SqlError>((resume) => {
    const onDrain = () => {
      stream.off("error", onError)
      resume(Effect.void)
    }
    const onError = (error: unknown) => {
      stream.off("drain", onDrain)
      resume(Effect.fail(copyFailed(error)))
    }
    stream.once("drain", onDrain)
    stream.once("error", onError)
    return Effect.sync(() => {
      stream.off("drain", onDrain)
      stream.off("error", onError)
    })
  })

/** Ends the COPY and waits for the server's answer. */
const finished = (stream: Writable) =>
  Effect.async<void, SqlError>((resume) => {
    stream.once("finish", () => resume(Effect.void))
    stream.once("error", (error) => resume(Effect.fail(copyFailed(error))))
    stream.end()
  })

/**
 * Runs one COPY on the current transaction's connection, writing it with `write`, and answers the rows
 * it stored. `sent_at` (UTC) is the wall-clock time read in `timeZone`: COPY cannot compute, so the
 * transaction's session zone is set to the chat's for the copy (PostgreSQL then reads the written time
 * as `AT TIME ZONE` would) and set back after it, as is the statement timeout, which a whole chat in one
 * statement would outlast. Interrupted, or failed by `write`, the COPY is cancelled (the connection
 * would otherwise wait for its end) and the transaction rolls back with it.
 */
const copyInto = <E>(
  timeZone: string,
  count: number,
  write: (send: (chunk: string | Uint8Array) => Effect.Effect<void, SqlError>) => Effect.Effect<void, E | SqlError>
): Effect.Effect<number, E | SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const client = yield* transactionClient
    const [previous] = yield* sql<{ zone: string; timeout: string }>`
      SELECT current_setting('TimeZone') AS zone, current_setting('statement_timeout') AS timeout`
    // The whole chat is one statement: its time limit grows with it (a millisecond a row, a minute at least).
    const timeout = `${Math.max(60_000, count)}ms`
    yield* sql`SELECT set_config('TimeZone', ${timeZone}, true), set_config('statement_timeout', ${timeout}, true)`
    const stream = client.query(copyFrom(copyStatement))
    // Until the end, a failure arrives at the next write or wait; none may go unheard. A COPY that
    // failed by itself is over: only one that did not is cancelled.
    let failed = false
    stream.on("error", () => {
      failed = true
    })
    // After each chunk, the server's other requests get in, even when the socket never fills.
    const copied = yield* write((chunk) => stream.write(chunk) ? nextTurn : drained(stream)).pipe(
      Effect.zipRight(Effect.suspend(() => finished(stream))),
      Effect.map(() => stream.rowCount),
      Effect.onError(() =>
        Effect.sync(() => {
          if (!failed) stream.destroy(new Error("the messages stopped before their end"))
        })
      )
    )
    yield* sql`SELECT set_config('TimeZone', ${previous?.zone ?? "UTC"}, true),
                      set_config('statement_timeout', ${previous?.timeout ?? "0"}, true)`
    return copied
  })

/** Stores `rows` of `columns` as messages of `chatId` with one COPY on the current transaction's connection. */
export const copyMessages = (
  chatId: string,
  timeZone: string,
  columns: MessageColumns,
  rows: CopyRows = allRows(columns)
): Effect.Effect<number, SqlError, SqlClient.SqlClient> =>
  rows.count === 0
    ? Effect.succeed(0)
    : copyInto(timeZone, rows.count, (send) =>
      Effect.suspend(() => {
        const chunks = copyChunks(chatId, columns, rows, chunkChars)
        const next = (): Effect.Effect<void, SqlError> => {
          const chunk = chunks.next()
          return chunk.done ? Effect.void : Effect.zipRight(send(chunk.value), Effect.suspend(next))
        }
        return next()
      })).pipe(Effect.withSpan("MessageCopy.copyMessages", { attributes: { rows: rows.count } }))

/**
 * Stores `count` messages already written as COPY text (`rows`, whole rows in order) with one COPY on
 * the current transaction's connection: the buffers go to the connection as they are.
 */
export const copyRows = <E>(
  timeZone: string,
  count: number,
  rows: Stream.Stream<Uint8Array, E>
): Effect.Effect<number, E | SqlError, SqlClient.SqlClient> =>
  count === 0
    ? Effect.succeed(0)
    : copyInto(timeZone, count, (send) => Stream.runForEach(rows, send)).pipe(
      Effect.withSpan("MessageCopy.copyRows", { attributes: { rows: count } })
    )

/** The same rows as `insertMessages` batches of at most `size` rows, for PGlite. */
export function* batches(columns: MessageColumns, rows: CopyRows, size: number): Generator<MessageBatch> {
  for (let start = 0; start < rows.count; start += size) {
    const end = Math.min(rows.count, start + size)
    const batch = {
      seq: new Array<number>(),
      sentAt: new Array<string>(),
      author: new Array<string | null>(),
      text: new Array<string>(),
      kind: new Array<string>(),
      mediaKind: new Array<string | null>(),
      fileName: new Array<string | null>(),
      event: new Array<string | null>()
    }
    for (let k = start; k < end; k++) {
      const i = rows.index(k)
      const author = columns.author[i]!
      batch.seq.push(rows.seq(k))
      batch.sentAt.push(storedWallClock(columns.sentAt[i]!))
      batch.author.push(author < 0 ? null : columns.authors[author]!)
      batch.text.push(textAt(columns, i))
      batch.kind.push(kinds[columns.kind[i]!]!)
      batch.mediaKind.push(mediaKindOf(columns.mediaKind[i]!))
      batch.fileName.push(fileNameAt(columns, i))
      batch.event.push(systemEventOf(columns.event[i]!))
    }
    yield batch
  }
}

/** An upload read on the parsing thread in the form the database in use stores fastest. */
export interface UploadToStore {
  readonly report: ReadForCopy["report"]
  readonly count: number
  /** A few of its messages, to find another export of the same chat among the user's. */
  readonly probes: ReadonlyArray<MessageProbe>
  /** Computed by the thread while the messages are stored. */
  readonly statistics: Effect.Effect<ChatStatistics, InternalError>
  /**
   * Stores its messages, as the chat it was read for, in the current transaction. Again when the
   * transaction is run again (a serialization failure): the rows, written once, are then read anew.
   */
  readonly store: (timeZone: string) => Effect.Effect<void, SqlError | ReadFailure>
}

/** Stores messages the fastest way the database in use takes them: COPY on PostgreSQL, batches on PGlite. */
export class MessageStore extends Effect.Service<MessageStore>()("chatsight/MessageStore", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* ChatsRepo
    const threads = yield* ParserThreads
    const { backend } = yield* Effect.flatMap(Database, (db) => db.poolStats)
    const { insertBatchSize } = yield* IngestConfig

    /** Stores `rows` of `columns` (all by default) in the current transaction. */
    const store = (chatId: string, timeZone: string, columns: MessageColumns, rows: CopyRows = allRows(columns)) =>
      backend === "postgres"
        ? Effect.asVoid(Effect.provideService(copyMessages(chatId, timeZone, columns, rows), SqlClient.SqlClient, sql))
        : Effect.forEach(batches(columns, rows, insertBatchSize), (batch) => repo.insertMessages(chatId, timeZone, batch), {
          discard: true
        })

    /**
     * Reads an upload on a parsing thread to be stored as the chat `chatId` (its row not inserted yet).
     * On PostgreSQL the thread writes the COPY rows and the event loop only forwards them; PGlite's
     * batches need the messages themselves, so there the columns come back (the chat text as one string).
     */
    const readUpload = (chatId: string, request: ExportToParse) =>
      backend === "postgres"
        ? Effect.map(threads.copy({ ...request, chatId }), (read): UploadToStore => {
          let taken = false
          const rows = Effect.suspend(() => {
            const first = !taken
            taken = true
            return first ? Effect.succeed(read.rows) : Effect.map(threads.copy({ ...request, chatId }), (again) => again.rows)
          })
          return {
            report: read.report,
            count: read.count,
            probes: read.probes,
            statistics: read.statistics,
            store: (timeZone) =>
              Effect.flatMap(rows, (rows) => Effect.provideService(copyRows(timeZone, read.count, rows), SqlClient.SqlClient, sql)).pipe(
                Effect.asVoid
              )
          }
        })
        : Effect.map(threads.read(request), (read): UploadToStore => ({
          report: read.report,
          count: read.columns.count,
          probes: probesOf(read.columns),
          statistics: read.statistics,
          store: (timeZone) => store(chatId, timeZone, read.columns)
        }))

    return { store, readUpload } as const
  }),
  dependencies: [ChatsRepo.Default, ParserThreads.Default]
}) {}
