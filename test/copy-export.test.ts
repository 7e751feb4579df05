// An upload read on the parsing thread as COPY rows: the thread writes the very text the server would
// write itself, stops writing when the server stops taking rows (the thread is free for the next call),
// and a transaction run again stores the rows again, read anew.
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream } from "effect"
import { copyRows, MessageStore } from "../src/Chats/MessageCopy.js"
import { Database } from "../src/Database.js"
import { probesOf } from "../src/Ingest/Columns.js"
import { allRows, copyChunks } from "../src/Ingest/CopyText.js"
import { readExport } from "../src/Ingest/Export.js"
import { ParserThreads } from "../src/Ingest/ParserThreads.js"
import { computeStatistics } from "../src/Ingest/Statistics.js"
import { columnSource } from "../src/Ingest/Columns.js"
import { onPostgres, TestDatabase } from "./support/TestApp.js"

const CHAT = [
  "12/03/2022, 09:15 - Messages and calls are end-to-end encrypted.",
  "12/03/2022, 09:16 - Priya Raman: Welcome! 🎉",
  "13/03/2022, 13:05 - Olu Bakare: <Media omitted>",
  "13/03/2022, 13:06 - Olu Bakare: a\ttab and a \\ backslash <This message was edited>",
  "13/03/2022, 13:07 - Priya Raman: two",
  "lines"
].join("\n")

const bytesOf = (text: string) => new TextEncoder().encode(text)

/** A chat of `n` messages: 600,000 make about 300 buffers of rows, more than the thread may write ahead. */
const longChat = (n: number) =>
  bytesOf(Array.from({ length: n }, (_, i) => `01/02/2024, 10:00 - Member ${i % 7}: message number ${i}`).join("\n"))

const chatId = "00000000-0000-4000-8000-000000000001"

const Live = Layer.mergeAll(MessageStore.Default, ParserThreads.Default).pipe(Layer.provideMerge(TestDatabase()))

layer(Live, { excludeTestServices: true })("an upload read as COPY rows", (it) => {
  describe("on the thread", () => {
    it.effect("the rows are the text the server writes from the columns, with the report, probes and statistics", () =>
      Effect.gen(function*() {
        const threads = yield* ParserThreads
        const bytes = bytesOf(CHAT)
        const read = yield* threads.copy({ bytes, filename: "chat.txt", export: {}, statistics: {}, chatId })
        const local = yield* readExport(bytes, "chat.txt")
        const rows = yield* Stream.runCollect(read.rows)
        const decoder = new TextDecoder()
        expect(Chunk.toArray(rows).map((chunk) => decoder.decode(chunk)).join(""))
          .toBe([...copyChunks(chatId, local.columns, allRows(local.columns), 1 << 20)].join(""))
        expect(read.report).toEqual(local.report)
        expect(read.count).toBe(local.columns.count)
        expect(read.probes).toEqual(probesOf(local.columns))
        expect(yield* read.statistics).toEqual(computeStatistics(columnSource(local.columns)))
        // The caller's bytes were copied before theirs moved to the thread.
        expect(new TextDecoder().decode(bytes)).toBe(CHAT)
      }))

    it.effect("rows no longer taken: the thread stops writing them, sends the statistics and serves the next call", () =>
      Effect.gen(function*() {
        const threads = yield* ParserThreads
        const read = yield* threads.copy({ bytes: longChat(600_000), filename: "chat.txt", export: {}, statistics: {}, chatId })
        const first = yield* Stream.runCollect(Stream.take(read.rows, 1))
        expect(Chunk.size(first)).toBe(1)
        expect((yield* read.statistics).totals.messages).toBe(600_000)
        // The thread takes two calls at a time: one more waiting for the database to take its rows, and
        // this one is served only if the first is over. Were it still waiting, this would time out.
        yield* threads.copy({ bytes: longChat(600_000), filename: "chat.txt", export: {}, statistics: {}, chatId })
        const next = yield* threads.copy({ bytes: bytesOf(CHAT), filename: "chat.txt", export: {}, statistics: {}, chatId })
        expect(next.count).toBe(5)
      }))

    it.effect("an upload whose rows wait for the database does not keep the thread from reading the next export", () =>
      Effect.gen(function*() {
        const threads = yield* ParserThreads
        const waiting = yield* threads.copy({ bytes: longChat(600_000), filename: "chat.txt", export: {}, statistics: {}, chatId })
        // Were the thread held until the first one's rows are taken, this would time out.
        const next = yield* threads.copy({ bytes: bytesOf(CHAT), filename: "chat.txt", export: {}, statistics: {}, chatId })
        expect(next.count).toBe(5)
        expect(Chunk.size(yield* Stream.runCollect(next.rows))).toBe(1)
        // The first one's rows are all there still, in order.
        const rows = yield* Stream.runFold(waiting.rows, 0, (n, chunk) => n + new TextDecoder().decode(chunk).split("\n").length - 1)
        expect(rows).toBe(600_000)
      }))
  })

  describe("stored", () => {
    it.effect("a transaction run again stores every row again, read anew from the export", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const db = yield* Database
        const store = yield* MessageStore
        yield* sql`INSERT INTO users (id) VALUES ('copy-export-user') ON CONFLICT DO NOTHING`
        const read = yield* store.readUpload(chatId, { bytes: longChat(300_000), filename: "chat.txt", export: {}, statistics: {} })
        yield* sql`INSERT INTO chats (id, user_id, display_name, content_hash)
                   VALUES (${chatId}::uuid, 'copy-export-user', 'copy', 'copy-export-hash')`
        // The first attempt fails after its rows went in: rolled back with them.
        const lost = new Error("lost a race")
        const failed = yield* db.transaction(Effect.zipRight(read.store("UTC"), Effect.fail(lost))).pipe(Effect.flip)
        expect(failed).toMatchObject({ message: lost.message })
        yield* db.transaction(read.store("Europe/Lisbon"))
        const [stored] = yield* sql<{ n: number; last: number }>`
          SELECT count(*)::int AS n, max(seq)::int AS last FROM messages WHERE chat_id = ${chatId}::uuid`
        expect(stored).toEqual({ n: 300_000, last: 299_999 })
      }))

    // COPY is PostgreSQL's: on PGlite the messages go in as batches of columns.
    it.effect.skipIf(!onPostgres)("rows that fail before their end cancel the COPY: nothing is stored and the connection serves on", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const db = yield* Database
        yield* sql`INSERT INTO users (id) VALUES ('copy-export-user') ON CONFLICT DO NOTHING`
        const [chat] = yield* sql<{ id: string }>`INSERT INTO chats (user_id, display_name, content_hash)
          VALUES ('copy-export-user', 'broken', 'copy-export-broken') RETURNING id::text AS id`
        const row = new TextEncoder().encode(`${chat!.id}\t0\t2024-01-01 10:00:00\t2024-01-01 10:00:00\tAna\thi\ttext\t\\N\t\\N\t\\N\n`)
        const broken = new Error("the thread died")
        const rows = Stream.concat(Stream.make(row), Stream.fail(broken))
        const failed = yield* db.transaction(copyRows("UTC", 2, rows)).pipe(Effect.flip, Effect.timeout("20 seconds"))
        expect(failed).toMatchObject({ message: broken.message })
        const [stored] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE chat_id = ${chat!.id}::uuid`
        expect(stored?.n).toBe(0)
      }))
  })
})
