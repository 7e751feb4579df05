/**
 * Messages stored with `COPY messages FROM STDIN`: rows are written in PostgreSQL's text format straight
 * from the parser's columns onto the connection of the current transaction, a few hundred kilobytes at a
 * time and never faster than the server takes them, so a million messages cost no more memory than one
 * chunk and the event loop keeps serving between chunks. Embedded PGlite cannot take COPY FROM STDIN over
 * its socket (the connection loses protocol synchronisation), so there the same rows go in as batched
 * INSERTs of unnested arrays (`batches`).
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import * as Pg from "pg"
import { from as copyFrom } from "pg-copy-streams"
import type { Writable } from "node:stream"
import { mediaKinds, systemEvents } from "../Domain/MessageKind.js"
import { fileNameAt, kinds, mediaKindOf, type MessageColumns, systemEventOf, textAt } from "../Ingest/Columns.js"
import { storedWallClock } from "../Ingest/WallClock.js"
import { IngestConfig } from "../Config.js"
import { Database } from "../Database.js"
import { ChatsRepo, type MessageColumns as MessageBatch } from "./Repo.js"

/** Which messages of the columns to store, and under which seq: by default all, message i as seq i. */
export interface CopyRows {
  readonly count: number
  /** The column index of the k-th row to store. */
  readonly index: (k: number) => number
  readonly seq: (k: number) => number
}

export const allRows = (columns: MessageColumns): CopyRows => ({
  count: columns.count,
  index: (k) => k,
  seq: (k) => k
})

/** Bytes of text handed to the connection at a time: large enough to keep the server busy, small enough to stay bounded. */
const chunkChars = 128 * 1024

const copyStatement =
  "COPY messages (chat_id, seq, sent_at_local, sent_at, author, text, kind, media_kind, file_name, event) FROM STDIN"

const special = /[\\\t\n\r]/
const specialAll = /[\\\t\n\r]/g
const escapes: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" }

/**
 * A value in COPY's text format: the backslash, the column and row separators escaped. A chat's text
 * never holds NUL (the export reader refuses it), the one character the format cannot carry.
 */
export const copyText = (value: string): string =>
  special.test(value) ? value.replace(specialAll, (c) => escapes[c] ?? c) : value

const copyNullable = (value: string | null): string => value === null ? "\\N" : copyText(value)

const twoDigits = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, "0"))
const dayMs = 86_400_000

/**
 * `storedWallClock` for a whole chat at a time: the date text is made once a day and the time of day
 * from integers, not a `Date` and its ISO text per message (a million of them show in a profile).
 */
const wallClockWriter = () => {
  let day = Number.NaN
  let date = ""
  return (ms: number): string => {
    const d = Math.floor(ms / dayMs)
    if (d !== day) {
      day = d
      date = storedWallClock(d * dayMs).slice(0, 11)
    }
    const seconds = Math.floor((ms - d * dayMs) / 1000)
    return `${date}${twoDigits[Math.floor(seconds / 3600)]}:${twoDigits[Math.floor(seconds / 60) % 60]}:${twoDigits[seconds % 60]}`
  }
}

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
 * Stores `rows` of `columns` as messages of `chatId` with one COPY on the current transaction's
 * connection. `sent_at` (UTC) is the wall-clock time read in `timeZone`: COPY cannot compute, so the
 * transaction's session zone is set to the chat's for the copy (PostgreSQL then reads the written time
 * as `AT TIME ZONE` would) and set back after it, as is the statement timeout, which a whole chat in one
 * statement would outlast. Interrupted, the COPY is cancelled and the transaction rolls back with it.
 */
export const copyMessages = (
  chatId: string,
  timeZone: string,
  columns: MessageColumns,
  rows: CopyRows = allRows(columns)
): Effect.Effect<number, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    if (rows.count === 0) return 0
    const sql = yield* SqlClient.SqlClient
    const client = yield* transactionClient
    const [previous] = yield* sql<{ zone: string; timeout: string }>`
      SELECT current_setting('TimeZone') AS zone, current_setting('statement_timeout') AS timeout`
    // The whole chat is one statement: its time limit grows with it (a millisecond a row, a minute at least).
    const timeout = `${Math.max(60_000, rows.count)}ms`
    yield* sql`SELECT set_config('TimeZone', ${timeZone}, true), set_config('statement_timeout', ${timeout}, true)`
    const stream = client.query(copyFrom(copyStatement))
    // Until the end, a failure arrives at the next write or wait; none may go unheard.
    stream.on("error", () => {})
    // What repeats is written once: authors, kinds, media kinds and events as COPY text, by their codes.
    const authors = columns.authors.map(copyText)
    const kindText = kinds.map(copyText)
    const mediaText = Array.from({ length: mediaKinds.length + 1 }, (_, code) => copyNullable(mediaKindOf(code)))
    const eventText = Array.from({ length: systemEvents.length + 1 }, (_, code) => copyNullable(systemEventOf(code)))
    const copied = yield* Effect.gen(function*() {
      const wallClock = wallClockWriter()
      // Neighbouring messages often share their time: the last one's text is kept.
      let lastAt = Number.NaN
      let lastText = ""
      let k = 0
      while (k < rows.count) {
        let chunk = ""
        for (; k < rows.count && chunk.length < chunkChars; k++) {
          const i = rows.index(k)
          const at = columns.sentAt[i]!
          if (at !== lastAt) {
            lastAt = at
            const written = wallClock(at)
            // Twice: the wall-clock time, and the UTC reading PostgreSQL makes of it in the session's zone.
            lastText = `${written}\t${written}`
          }
          const author = columns.author[i]!
          const file = columns.fileEnd[i]! > columns.fileStart[i]!
            ? copyText(columns.source.slice(columns.fileStart[i]!, columns.fileEnd[i]!))
            : "\\N"
          chunk += `${chatId}\t${rows.seq(k)}\t${lastText}\t${author < 0 ? "\\N" : authors[author]!}\t${
            copyText(textAt(columns, i))
          }\t${kindText[columns.kind[i]!]}\t${mediaText[columns.mediaKind[i]!]}\t${file}\t${eventText[columns.event[i]!]}\n`
        }
        if (!stream.write(chunk)) yield* drained(stream)
        // Lets the server's other requests in between chunks even when the socket never fills.
        else yield* Effect.yieldNow()
      }
      yield* finished(stream)
      return stream.rowCount
    }).pipe(
      Effect.onInterrupt(() => Effect.sync(() => stream.destroy(new Error("the upload was interrupted"))))
    )
    yield* sql`SELECT set_config('TimeZone', ${previous?.zone ?? "UTC"}, true),
                      set_config('statement_timeout', ${previous?.timeout ?? "0"}, true)`
    return copied
  }).pipe(Effect.withSpan("MessageCopy.copyMessages", { attributes: { rows: rows.count } }))

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

/** Stores messages the fastest way the database in use takes them: COPY on PostgreSQL, batches on PGlite. */
export class MessageStore extends Effect.Service<MessageStore>()("chatsight/MessageStore", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* ChatsRepo
    const { backend } = yield* Effect.flatMap(Database, (db) => db.poolStats)
    const { insertBatchSize } = yield* IngestConfig

    /** Stores `rows` of `columns` (all by default) in the current transaction. */
    const store = (chatId: string, timeZone: string, columns: MessageColumns, rows: CopyRows = allRows(columns)) =>
      backend === "postgres"
        ? Effect.asVoid(Effect.provideService(copyMessages(chatId, timeZone, columns, rows), SqlClient.SqlClient, sql))
        : Effect.forEach(batches(columns, rows, insertBatchSize), (batch) => repo.insertMessages(chatId, timeZone, batch), {
          discard: true
        })

    return { store } as const
  }),
  dependencies: [ChatsRepo.Default]
}) {}
