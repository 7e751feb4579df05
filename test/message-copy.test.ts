/**
 * Messages stored the fast way (COPY FROM STDIN on PostgreSQL, batched INSERTs on PGlite) come back
 * exactly as they went in, whatever their text holds, with the UTC reading PostgreSQL itself would give.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { copyText, MessageStore } from "../src/Chats/MessageCopy.js"
import { Database } from "../src/Database.js"
import { kinds, type MessageColumns } from "../src/Ingest/Columns.js"
import { mediaKinds, systemEvents } from "../src/Domain/MessageKind.js"
import { parseWallClock } from "../src/Ingest/WallClock.js"
import { TestDatabase } from "./support/TestApp.js"

interface Row {
  readonly at: string
  readonly author: string | null
  readonly text: string
  readonly kind: (typeof kinds)[number]
  readonly media?: (typeof mediaKinds)[number]
  readonly file?: string
  readonly event?: (typeof systemEvents)[number]
}

const awkward: ReadonlyArray<Row> = [
  { at: "2023-03-25 23:59:59", author: "Zoë\tTab", text: "a\ttab, a\\backslash, \\N and \\. and \\t as written", kind: "text" },
  { at: "2023-03-26 02:30:00", author: "Ana", text: "line one\nline two\r\nline three\rend", kind: "text" },
  { at: "2023-03-26 03:00:00", author: "Ana", text: "\\", kind: "text" },
  { at: "2023-10-29 02:30:00", author: "Бен", text: "emoji 👩‍👩‍👧 and 🇵🇹, Arabic مرحبا, Thai สวัสดี", kind: "edited" },
  { at: "2023-10-29 02:31:00", author: "Ana", text: "", kind: "media", media: "document", file: "C:\\docs\\plan\tv2.pdf" },
  { at: "2023-10-29 04:00:00", author: null, text: "Ana added Бен", kind: "system", event: "added" },
  { at: "2024-02-29 12:00:00", author: "Ana", text: "\\\\server\\share\n\t\n", kind: "text" }
]

/** The rows as the parser's columns: bodies and file names are slices of one source text. */
const columnsOf = (rows: ReadonlyArray<Row>): MessageColumns => {
  const authors = [...new Set(rows.flatMap((r) => (r.author === null ? [] : [r.author])))]
  let source = ""
  const slice = (text: string): [number, number] => {
    const start = source.length
    source += text
    return [start, source.length]
  }
  const n = rows.length
  const columns = {
    count: n,
    sentAt: new Float64Array(n),
    kind: new Uint8Array(n),
    author: new Int32Array(n),
    authors,
    textStart: new Uint32Array(n),
    textEnd: new Uint32Array(n),
    mediaKind: new Uint8Array(n),
    event: new Uint8Array(n),
    fileStart: new Uint32Array(n),
    fileEnd: new Uint32Array(n)
  }
  rows.forEach((row, i) => {
    columns.sentAt[i] = parseWallClock(row.at)
    columns.kind[i] = kinds.indexOf(row.kind)
    columns.author[i] = row.author === null ? -1 : authors.indexOf(row.author)
    ;[columns.textStart[i], columns.textEnd[i]] = slice(row.text)
    ;[columns.fileStart[i], columns.fileEnd[i]] = slice(row.file ?? "")
    columns.mediaKind[i] = row.media === undefined ? 0 : mediaKinds.indexOf(row.media) + 1
    columns.event[i] = row.event === undefined ? 0 : systemEvents.indexOf(row.event) + 1
  })
  return { ...columns, source }
}

const Live = MessageStore.Default.pipe(Layer.provideMerge(TestDatabase()))

layer(Live, { excludeTestServices: true })("message copy", (it) => {
  it("escapes exactly the characters COPY's text format gives a meaning", () => {
    expect(copyText("plain text, é 👍")).toBe("plain text, é 👍")
    expect(copyText("a\tb\nc\rd\\e")).toBe("a\\tb\\nc\\rd\\\\e")
    expect(copyText("\\N")).toBe("\\\\N")
  })

  it.effect("awkward text, file names and authors come back byte for byte, in order, with PostgreSQL's own UTC reading", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* Database
      const store = yield* MessageStore
      yield* sql`INSERT INTO users (id) VALUES ('copy-user')`
      const [chat] = yield* sql<{ id: string }>`
        INSERT INTO chats (user_id, display_name, content_hash) VALUES ('copy-user', 'copy', 'copy-hash') RETURNING id::text AS id`
      const chatId = chat!.id
      const zones = yield* db.transaction(Effect.gen(function*() {
        const [before] = yield* sql<{ zone: string }>`SELECT current_setting('TimeZone') AS zone`
        // Stored out of order on purpose: the seq each row is given is what orders them.
        yield* store.store(chatId, "Europe/Berlin", columnsOf(awkward), {
          count: awkward.length,
          index: (k) => awkward.length - 1 - k,
          seq: (k) => 10 * (awkward.length - 1 - k)
        })
        const [after] = yield* sql<{ zone: string }>`SELECT current_setting('TimeZone') AS zone`
        return [before?.zone, after?.zone]
      }))
      // The chat's zone was the copy's alone.
      expect(zones[1]).toBe(zones[0])

      const stored = yield* sql<{ seq: number; at: string; author: string | null; text: string; kind: string; media_kind: string | null; file_name: string | null; event: string | null }>`
        SELECT seq, to_char(sent_at_local, 'YYYY-MM-DD HH24:MI:SS') AS at, author, text, kind, media_kind, file_name, event
        FROM messages WHERE chat_id = ${chatId}::uuid ORDER BY seq`
      expect(stored).toEqual(awkward.map((row, i) => ({
        seq: 10 * i,
        at: row.at,
        author: row.author,
        text: row.text,
        kind: row.kind,
        media_kind: row.media ?? null,
        file_name: row.file ?? null,
        event: row.event ?? null
      })))
      // Including the hour that does not exist (spring) and the one that happens twice (autumn) in Berlin.
      const [differing] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM messages
        WHERE chat_id = ${chatId}::uuid AND sent_at IS DISTINCT FROM (sent_at_local AT TIME ZONE 'Europe/Berlin')`
      expect(differing?.n).toBe(0)
    }))
})
