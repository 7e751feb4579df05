import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { call, send, TestAppWithWorker, tokenFor, upload, uploadForm, type UploadFile, waitFor } from "./support/TestApp.js"

const people = ["Ana Lima", "Ben Okafor", "Chidi Eze"]
const words = ["tea", "train", "garden", "deadline", "concert", "recipe", "ferry", "puzzle", "market", "storm"]

/**
 * The k-th message of the chat, as an Android export writes it: eleven a day over four weeks of March
 * (so the gaps between days cut the chunks), with multi-line bodies, emoji, tabs and media now and then,
 * and a repeated "ok" in one minute.
 */
const lineOf = (k: number): string => {
  const at = new Date(Date.UTC(2023, 2, 1 + Math.floor(k / 11), 8 + (k % 11), (k * 7) % 60))
  const pad = (n: number) => String(n).padStart(2, "0")
  const stamp = `${pad(at.getUTCDate())}/${pad(at.getUTCMonth() + 1)}/${at.getUTCFullYear()}, ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}`
  const author = people[k % 3 === 2 && k % 5 === 0 ? 2 : k % 2]!
  const body = k % 17 === 0
    ? "<Media omitted>"
    : k % 13 === 0
    ? `about the ${words[k % 10]}:\nfirst line\tand a tab\nsecond line \\ with a backslash 🎉`
    : k % 29 === 0
    ? "ok"
    : `message ${k} about the ${words[k % 10]} ${k % 4 === 0 ? "😀" : ""}`.trim()
  // The same short answer twice in one minute: both are messages of their own.
  return k % 29 === 0 ? `${stamp} - ${author}: ${body}\n${stamp} - ${author}: ${body}` : `${stamp} - ${author}: ${body}`
}

const total = 300
/** How many messages the export of lines [from, to) holds: a repeated "ok" counts twice. */
const size = (from: number, to: number) => {
  let n = 0
  for (let k = from; k < to; k++) n += k % 29 === 0 ? 2 : 1
  return n
}
const exportOf = (from: number, to: number, name = "WhatsApp Chat with Ana Lima.txt"): UploadFile => ({
  name,
  bytes: new Uint8Array(Buffer.from(Array.from({ length: to - from }, (_, i) => lineOf(from + i)).join("\n") + "\n", "utf8"))
})

const Chat = Schema.Struct({
  id: Schema.String,
  message_count: Schema.Number,
  participants: Schema.Array(Schema.String),
  first_message_at: Schema.NullOr(Schema.String),
  last_message_at: Schema.NullOr(Schema.String),
  parse_report: Schema.Struct({ possible_duplicate_of: Schema.optional(Schema.String) })
})
const Merged = Schema.Struct({
  new_messages: Schema.Number,
  overlapping: Schema.Number,
  conflicting: Schema.Number,
  chat: Chat
})

const signedUp = (sub: string) =>
  Effect.gen(function*() {
    const token = yield* tokenFor(sub, { email: `${sub}@example.com`, name: sub })
    expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
    return token
  })

const uploaded = (token: string, file: UploadFile) =>
  Effect.map(upload(token, file), (reply) => {
    expect(reply.status, JSON.stringify(reply.body).slice(0, 400)).toBe(201)
    return Schema.decodeUnknownSync(Chat)(reply.body)
  })

/** POST /api/chats/{id}/imports with the export and text fields, as a browser would encode the form. */
const importInto = (token: string, chatId: string, file: UploadFile, fields: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const encoded = new Response(uploadForm(file, fields))
    const body = new Uint8Array(yield* Effect.promise(() => encoded.arrayBuffer()))
    const contentType = encoded.headers.get("content-type") ?? ""
    return yield* send("POST", `/api/chats/${chatId}/imports`, { token, body, contentType })
  })

const merged = (token: string, chatId: string, file: UploadFile, fields: Record<string, string> = {}) =>
  Effect.map(importInto(token, chatId, file, fields), (reply) => {
    expect(reply.status, JSON.stringify(reply.body).slice(0, 400)).toBe(200)
    return Schema.decodeUnknownSync(Merged)(reply.body)
  })

const rows = <A extends object>(query: Effect.Effect<ReadonlyArray<A>, unknown>) => Effect.orDie(query)

/** Everything a chat holds that a merge must get right, without its ids. */
const contentOf = (chatId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const messages = yield* rows(sql`
      SELECT seq, sent_at_local::text AS local, sent_at::text AS utc, author, text, kind, media_kind, file_name, event
      FROM messages WHERE chat_id = ${chatId}::uuid ORDER BY seq`)
    const [stats] = yield* rows(sql<{ stats: unknown }>`SELECT stats FROM chat_stats WHERE chat_id = ${chatId}::uuid`)
    const [chat] = yield* rows(sql`
      SELECT message_count, participants, first_message_at::text AS first, last_message_at::text AS last
      FROM chats WHERE id = ${chatId}::uuid`)
    const chunks = yield* rows(sql`
      SELECT embedder, seq, text, token_count, embedding IS NOT NULL AS embedded
      FROM chunks WHERE chat_id = ${chatId}::uuid ORDER BY embedder, seq`)
    return { messages, stats: stats?.stats, chat, chunks }
  })

/** Waits until no embedding job of the chat is left and every chunk has its vector. */
const embedded = (chatId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const state = rows(sql<{ jobs: number; pending: number; chunks: number }>`
      SELECT (SELECT count(*) FROM jobs WHERE payload->>'chat_id' = ${chatId} AND status IN ('queued', 'running'))::int AS jobs,
             (SELECT count(*) FROM chunks WHERE chat_id = ${chatId}::uuid AND embedding IS NULL)::int AS pending,
             (SELECT count(*) FROM chunks WHERE chat_id = ${chatId}::uuid)::int AS chunks`)
    yield* waitFor(`the embedding of ${chatId}`, state, ([s]) => s !== undefined && s.jobs === 0 && s.pending === 0 && s.chunks > 0)
  })

layer(TestAppWithWorker(), { excludeTestServices: true })("imports", (it) => {
  it.effect("a chat uploaded as three overlapping exports and merged equals the chat uploaded once from the full export", () =>
    Effect.gen(function*() {
      const single = yield* uploaded(yield* signedUp("imports-single"), exportOf(0, total))

      const token = yield* signedUp("imports-merged")
      const middle = yield* uploaded(token, exportOf(100, 200))
      yield* embedded(middle.id)
      // An older export: it ends inside the stored one, so its first 100 messages go in before them.
      const older = yield* merged(token, middle.id, exportOf(0, 130))
      expect(older).toMatchObject({ new_messages: size(0, 100), overlapping: size(100, 130), conflicting: 0 })
      // A newer one: it starts inside, so its last 100 messages go after them.
      const newer = yield* merged(token, middle.id, exportOf(180, total))
      expect(newer).toMatchObject({ new_messages: size(200, total), overlapping: size(180, 200), conflicting: 0 })
      // While the merge's embedding job waits or runs, the chat's vectors are not reported ready.
      const sql = yield* SqlClient.SqlClient
      const unfinished = Effect.map(
        rows(sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs WHERE payload->>'chat_id' = ${middle.id} AND status IN ('queued', 'running')`),
        ([row]) => (row?.n ?? 0) > 0
      )
      const before = yield* unfinished
      const status = yield* call("GET", `/api/chats/${middle.id}/vector-status`, { token })
      if (before && (yield* unfinished)) expect(status.body).toMatchObject({ status: "indexing" })
      expect(newer.chat.message_count).toBe(single.message_count)
      expect(newer.chat.participants).toEqual(single.participants)
      expect([newer.chat.first_message_at, newer.chat.last_message_at]).toEqual([single.first_message_at, single.last_message_at])

      yield* embedded(middle.id)
      yield* embedded(single.id)
      const [whole, pieces] = [yield* contentOf(single.id), yield* contentOf(middle.id)]
      expect(whole.stats).toBeTruthy()
      expect(whole.chunks.length).toBeGreaterThan(10)
      expect(pieces.messages.length).toBe(whole.messages.length)
      expect(pieces.messages).toEqual(whole.messages)
      expect(pieces.chat).toEqual(whole.chat)
      expect(pieces.stats).toEqual(whole.stats)
      // The same chunks, each once, each with its vector.
      expect(pieces.chunks).toEqual(whole.chunks)
    }))

  it.effect("the same export merged twice adds nothing the second time", () =>
    Effect.gen(function*() {
      const token = yield* signedUp("imports-twice")
      const chat = yield* uploaded(token, exportOf(0, 120))
      const first = yield* merged(token, chat.id, exportOf(100, 160))
      expect(first).toMatchObject({ new_messages: size(120, 160), overlapping: size(100, 120) })
      const before = yield* contentOf(chat.id)
      const again = yield* merged(token, chat.id, exportOf(100, 160))
      expect(again).toMatchObject({ new_messages: 0, overlapping: size(100, 160), conflicting: 0 })
      expect((yield* contentOf(chat.id)).messages).toEqual(before.messages)
    }))

  it.effect("messages edited or deleted since the stored export are the same messages, counted as conflicts", () =>
    Effect.gen(function*() {
      const token = yield* signedUp("imports-conflicts")
      const chat = yield* uploaded(token, exportOf(0, 60))
      const text = new TextDecoder().decode(exportOf(40, 90).bytes)
        .replace(/^(\S+ \S+ - [^:]+): message 45 about the .*$/m, "$1: This message was deleted")
        .replace(/^(\S+ \S+ - [^:]+): (message 47 about the .*)$/m, "$1: $2 (fixed) <This message was edited>")
      const reply = yield* merged(token, chat.id, { name: "later.txt", bytes: new Uint8Array(Buffer.from(text, "utf8")) })
      expect(reply).toMatchObject({ new_messages: size(60, 90), overlapping: size(40, 60) - 2, conflicting: 2 })
      // The stored versions stay: nothing of the overlap was stored twice.
      const sql = yield* SqlClient.SqlClient
      const [counts] = yield* rows(sql<{ all: number; distinct: number }>`
        SELECT count(*)::int AS all, count(DISTINCT (sent_at_local, author))::int AS distinct
        FROM messages WHERE chat_id = ${chat.id}::uuid AND text LIKE 'message 4%'`)
      expect(counts?.all).toBe(counts?.distinct)
    }))

  it.effect("an export sharing nothing with the chat is refused with 409 unless forced; someone else's chat is 404", () =>
    Effect.gen(function*() {
      const token = yield* signedUp("imports-refusals")
      const chat = yield* uploaded(token, exportOf(0, 50))
      const unrelated = {
        name: "other.txt",
        bytes: new Uint8Array(Buffer.from("14/04/2023, 10:00 - Dana Roy: hello\n14/04/2023, 10:05 - Eli Park: hi Dana\n", "utf8"))
      }
      const refused = yield* importInto(token, chat.id, unrelated)
      expect(refused.status).toBe(409)
      expect(refused.body).toMatchObject({ error: { code: "conflict" } })
      expect((yield* contentOf(chat.id)).messages.length).toBe(size(0, 50))

      const forced = yield* merged(token, chat.id, unrelated, { force: "true" })
      expect(forced).toMatchObject({ new_messages: 2, overlapping: 0 })
      expect(forced.chat.participants).toEqual([...chat.participants, "Dana Roy", "Eli Park"])

      const stranger = yield* signedUp("imports-stranger")
      const theirs = yield* importInto(stranger, chat.id, exportOf(40, 60))
      expect(theirs.status).toBe(404)
      expect((yield* importInto(token, "00000000-0000-4000-8000-000000000000", exportOf(0, 10))).status).toBe(404)
      expect((yield* contentOf(chat.id)).messages.length).toBe(size(0, 50) + 2)
    }))

  it.effect("two merges into one chat at the same time are serialised: no message is stored twice", () =>
    Effect.gen(function*() {
      const token = yield* signedUp("imports-race")
      const chat = yield* uploaded(token, exportOf(0, 100))
      const replies = yield* Effect.all([merged(token, chat.id, exportOf(80, 200)), merged(token, chat.id, exportOf(90, 220))], {
        concurrency: 2
      })
      // Whichever went first stored its new messages; the other found them and added only the rest.
      const added = replies.map((r) => r.new_messages).sort((a, b) => a - b)
      expect([[size(200, 220), size(100, 200)], [0, size(100, 220)]]).toContainEqual(added)
      const content = yield* contentOf(chat.id)
      expect(content.messages.length).toBe(size(0, 220))
      const sql = yield* SqlClient.SqlClient
      const [seqs] = yield* rows(sql<{ min: number; max: number; n: number }>`
        SELECT min(seq)::int AS min, max(seq)::int AS max, count(*)::int AS n FROM messages WHERE chat_id = ${chat.id}::uuid`)
      expect(seqs).toEqual({ min: 0, max: content.messages.length - 1, n: content.messages.length })
    }))

  it.effect("an upload that overlaps a stored chat of the same user names it as a possible duplicate", () =>
    Effect.gen(function*() {
      const token = yield* signedUp("imports-duplicate")
      const chat = yield* uploaded(token, exportOf(0, 150))
      const later = yield* uploaded(token, exportOf(120, 260))
      expect(later.parse_report.possible_duplicate_of).toBe(chat.id)
      const unrelated = yield* uploaded(token, {
        name: "other.txt",
        bytes: new Uint8Array(Buffer.from("14/04/2023, 10:00 - Dana Roy: hello\n14/04/2023, 10:05 - Eli Park: hi Dana\n", "utf8"))
      })
      expect(unrelated.parse_report.possible_duplicate_of).toBeUndefined()
      // Another user's chats are never looked at.
      const other = yield* uploaded(yield* signedUp("imports-duplicate-other"), exportOf(120, 260))
      expect(other.parse_report.possible_duplicate_of).toBeUndefined()
    }))
})
