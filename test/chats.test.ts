/**
 * Chats through HTTP on a fresh database: uploads (.txt and .zip, the same file twice, refusals, size
 * limit, form fields), the list and its cursor, a chat and its messages with filters, renaming,
 * deleting (with the purge job run by a real worker), sharing and the anonymised public page, and
 * isolation between users.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import type { ChatCursor } from "../src/Domain/Chat.js"
import { zip } from "./support/zipWriter.js"
import {
  call,
  client,
  refused,
  rejected,
  TestApp,
  TestAppWithWorker,
  tokenFor,
  upload,
  type UploadFile,
  uploadForm,
  waitFor
} from "./support/TestApp.js"

// ---------------------------------------------------------------------------------------------------
// Fixtures

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`./fixtures/whatsapp/${name}`, import.meta.url)))

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "utf8"))

/** android-24h-group.txt: 19 entries (8 messages, 11 system events), four participants. */
const GROUP = "android-24h-group.txt"
const groupParticipants = ["Mira Okafor", "Tomasz Wierzba", "+44 7700 900123", "Ines Duarte"]


const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1])

// ---------------------------------------------------------------------------------------------------
// Requests. Through the typed client (src/Client.ts), which decodes with the contract's own schemas;
// raw `call`/`upload` only where a test reads the wire itself or sends what the client would refuse.

type ApiClient = Effect.Effect.Success<ReturnType<typeof client>>

/** A user who has called POST /api/users/store: their typed client, and their token for raw requests. */
const user = (sub: string) =>
  Effect.gen(function*() {
    const token = yield* tokenFor(sub, { email: `${sub}@example.com`, name: sub })
    const api = yield* client(token)
    yield* api.users.store()
    return { token, api }
  })

/** Uploads through the typed client: the chat, and the status it came with (201 new, 200 already stored). */
const uploadWith = (api: ApiClient, file: UploadFile, fields: Record<string, string> = {}) =>
  api.chats.upload({ payload: uploadForm(file, fields), withResponse: true }).pipe(
    Effect.map(([chat, response]) => ({ chat, status: response.status }))
  )

/** Uploads and expects a new chat (201). */
const uploadNew = (api: ApiClient, file: UploadFile, fields: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const { chat, status } = yield* uploadWith(api, file, fields)
    expect(status).toBe(201)
    expect(chat.created).toBe(true)
    return chat
  })

const listAll = (api: ApiClient) => api.chats.list({ urlParams: { limit: 100 } })

interface MessageFilters {
  readonly author?: string
  readonly q?: string
  readonly from?: string
  readonly to?: string
}

const allMessages = (api: ApiClient, chatId: string, filters: MessageFilters = {}) =>
  api.chats.messages({ path: { chat_id: chatId }, urlParams: { limit: 100, ...filters } })

/** A page of any list, whose cursor is a position of type C. */
interface Paged<A, C> {
  readonly data: ReadonlyArray<A>
  readonly has_more: boolean
  readonly next_cursor: C | null
}

/** Reads pages, each after the previous one's next_cursor, until has_more is false; at most `maxPages`. */
const pages = <A, C, E, R>(read: (cursor: C | null) => Effect.Effect<Paged<A, C>, E, R>, maxPages: number) =>
  Effect.gen(function*() {
    const seen: Array<Paged<A, C>> = []
    let cursor: C | null = null
    do {
      const page: Paged<A, C> = yield* read(cursor)
      seen.push(page)
      expect(page.has_more).toBe(page.next_cursor !== null)
      expect(seen.length).toBeLessThanOrEqual(maxPages)
      cursor = page.next_cursor
    } while (cursor !== null)
    return seen
  })

/** A page of GET /api/chats after `cursor`, passing back the position the previous page handed out. */
const chatPageAfter = (token: string, limit: number, cursor: typeof ChatCursor.Type | null) =>
  Effect.flatMap(client(token), (api) =>
    api.chats.list({ urlParams: cursor === null ? { limit } : { limit, starting_after: cursor } }))

/** The words of a text, lower-cased, letters and digits only. */
const wordsOf = (text: string) => text.toLowerCase().split(/[^\p{L}\p{N}+]+/u).filter((word) => word.length > 0)


const AppWithWorker = TestAppWithWorker()

// The live clock: the server's retries and the worker's polling sleep for real.
layer(AppWithWorker, { excludeTestServices: true })("chats", (it) => {
  it.effect("a .txt export answers 201 with the chat, its parse report and statistics", () =>
    Effect.gen(function*() {
      const { api } = yield* user("chats-upload")
      const { chat, status } = yield* uploadWith(api, { name: "WhatsApp Chat with Allotment crew.txt", bytes: fixture(GROUP) })
      expect(status).toBe(201)
      expect(chat).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        // The export's name, without "WhatsApp Chat with" and the extension.
        display_name: "Allotment crew",
        source_platform: "whatsapp",
        source_filename: "WhatsApp Chat with Allotment crew.txt",
        participants: groupParticipants,
        message_count: 8,
        first_message_at: "2021-02-03T09:02:00",
        last_message_at: "2021-02-13T20:19:00",
        status: "ready",
        is_shared: false,
        time_zone: "UTC",
        created_at: expect.any(Date),
        parse_report: {
          format: "d/m/yyyy, H:MM - (android-dash)",
          shape: "android-dash",
          day_first: true,
          day_first_confidence: expect.any(String),
          messages: 8,
          system_events: 11,
          media: 2,
          deleted: 2,
          edited: 1,
          participants: groupParticipants,
          unreadable_lines: 0,
          unreadable_samples: [],
          first_message_at: "2021-02-03T09:02:00",
          last_message_at: "2021-02-13T20:19:00",
          warnings: []
        },
        statistics: expect.anything(),
        created: true
      })
      expect(Number.isNaN(chat.created_at.getTime())).toBe(false)
      const statistics = chat.statistics
      if (statistics === null) return yield* Effect.dieMessage("no statistics")
      expect(statistics.totals).toMatchObject({ messages: chat.message_count, participants: 4, media: 2, deleted: 2, edited: 1 })
      expect(statistics.participants.map((p) => p.name).sort()).toEqual([...groupParticipants].sort())
      expect(statistics.participants.reduce((sum, p) => sum + p.messages, 0)).toBe(8)
      expect(statistics.timeline.reduce((sum, day) => sum + day.messages, 0)).toBe(8)
      expect(statistics.first_message).toEqual({ at: "2021-02-03T09:02:00", author: "Mira Okafor" })
      expect(statistics.last_message).toEqual({ at: "2021-02-13T20:19:00", author: "Ines Duarte" })

      // Every entry is stored, system events included, in one chat row.
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ chats: number; messages: number; stats: number }>`
        SELECT (SELECT count(*)::int FROM chats WHERE user_id = ${"chats-upload"}) AS chats,
               (SELECT count(*)::int FROM messages WHERE chat_id = ${chat.id}::uuid) AS messages,
               (SELECT count(*)::int FROM chat_stats WHERE chat_id = ${chat.id}::uuid) AS stats`
      expect(rows).toEqual([{ chats: 1, messages: 19, stats: 1 }])
    }))

  // BUG (src/Chats.ts `upload` / src/Chats/Repo.ts `insert`): nothing checks that the account exists, so
  // the INSERT into chats violates chats.user_id REFERENCES users (23503) and the client gets a 500
  // database_error. The credits endpoints answer this case with a 404 that says to call
  // POST /api/users/store first (src/Credits.ts line 31); an upload should too.
  it.effect("an upload before POST /api/users/store is a 404 that says to call it, not a 500", () =>
    Effect.gen(function*() {
      const api = yield* client(yield* tokenFor("chats-never-stored"))
      yield* rejected(
        api.chats.upload({ payload: uploadForm({ name: GROUP, bytes: fixture(GROUP) }) }),
        "NotFound",
        "POST /api/users/store"
      )
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM chats WHERE user_id = ${"chats-never-stored"}`
      expect(rows).toEqual([{ n: 0 }])
    }))

  it.effect("the same file again is the same chat (200, created false); another user gets a chat of their own", () =>
    Effect.gen(function*() {
      const a = yield* user("chats-same-a")
      const b = yield* user("chats-same-b")
      const file = { name: GROUP, bytes: fixture(GROUP) }
      const first = yield* uploadNew(a.api, file)
      expect(first.display_name).toBe("android-24h-group")

      // Another name and other fields change nothing: the bytes decide.
      const again = yield* uploadWith(a.api, { name: "renamed.txt", bytes: fixture(GROUP) }, { display_name: "Other" })
      expect(again.status).toBe(200)
      expect(again.chat).toEqual({ ...first, created: false, ignored_options: ["display_name"], notice: expect.any(String) })

      const listed = yield* listAll(a.api)
      expect(listed.data.map((chat) => chat.id)).toEqual([first.id])

      const theirs = yield* uploadNew(b.api, file)
      expect(theirs.id).not.toBe(first.id)
      expect(theirs.message_count).toBe(first.message_count)
      expect((yield* listAll(b.api)).data.map((chat) => chat.id)).toEqual([theirs.id])
      expect((yield* listAll(a.api)).data.map((chat) => chat.id)).toEqual([first.id])
    }))

  it.effect("identical uploads racing make one chat: one 201, the others 200 with its id", () =>
    Effect.gen(function*() {
      const { api } = yield* user("chats-race")
      const replies = yield* Effect.all(
        Array.from({ length: 5 }, () => uploadWith(api, { name: "year-first.txt", bytes: fixture("year-first.txt") })),
        { concurrency: "unbounded" }
      )
      expect(replies.map((reply) => reply.status).sort()).toEqual([200, 200, 200, 200, 201])
      const chats = replies.map((reply) => reply.chat)
      expect(new Set(chats.map((chat) => chat.id)).size).toBe(1)
      expect(chats.filter((chat) => chat.created)).toHaveLength(1)
      expect((yield* listAll(api)).data).toHaveLength(1)
    }))

  it.effect("a zip export with _chat.txt and media is read", () =>
    Effect.gen(function*() {
      const { api } = yield* user("chats-zip")
      const bytes = zip([
        { name: "00000012-PHOTO-2022-03-12-13-06-10.jpg", data: jpeg, stored: true },
        { name: "_chat.txt", data: fixture("ios-12h-bracketed.txt") }
      ])
      const chat = yield* uploadNew(api, { name: "WhatsApp Chat - Lakeside Book Club.zip", bytes })
      expect(chat).toMatchObject({
        display_name: "Lakeside Book Club",
        source_filename: "WhatsApp Chat - Lakeside Book Club.zip",
        participants: ["Priya Raman", "Olu Bakare", "+1 (555) 010-0199"],
        message_count: 8,
        status: "ready",
        parse_report: { shape: "ios-bracketed", messages: 8, system_events: 5, media: 4, deleted: 1, edited: 1 }
      })
      expect(chat.statistics?.totals.messages).toBe(8)
      const messages = yield* allMessages(api, chat.id)
      expect(messages.data).toHaveLength(13)
      expect(messages.data[3]).toMatchObject({ author: "Priya Raman", text: "Welcome! First pick:\nThe Glass Orchard", kind: "text" })
    }))

  it.effect("refusals: empty, not a chat, binary, a zip without a chat (422); no file, bad fields (400)", () =>
    Effect.gen(function*() {
      const { api, token } = yield* user("chats-refusals")
      const send = (file: UploadFile) => api.chats.upload({ payload: uploadForm(file) })

      yield* rejected(send({ name: "empty.txt", bytes: new Uint8Array(0) }), "UnsupportedExport", "The file is empty.")
      yield* rejected(
        send({ name: "list.txt", bytes: fixture("not-a-chat.txt") }),
        "UnsupportedExport",
        "does not look like a WhatsApp chat export"
      )
      yield* rejected(send({ name: "photo.txt", bytes: jpeg }), "UnsupportedExport", "binary")
      yield* rejected(
        send({ name: "export.zip", bytes: zip([{ name: "IMG-1.jpg", data: jpeg, stored: true }]) }),
        "UnsupportedExport",
        "holds no chat text"
      )

      // Raw: forms that do not decode (a client would not build them), checked on the wire.
      const noFile = yield* upload(token, undefined, { display_name: "No file" })
      refused(noFile, 400, "validation_error", "file")

      const file = { name: GROUP, bytes: fixture(GROUP) }
      const badZone = yield* upload(token, file, { timezone: "Mars/Olympus_Mons" })
      refused(badZone, 400, "validation_error", "timezone", "Mars/Olympus_Mons")

      const blankName = yield* upload(token, file, { display_name: "   " })
      refused(blankName, 400, "validation_error", "display_name")
      const longName = yield* upload(token, file, { display_name: "x".repeat(101) })
      refused(longName, 400, "validation_error", "display_name")

      const anonymous = yield* client("not-a-token")
      yield* rejected(anonymous.chats.upload({ payload: uploadForm(file) }), "Unauthorized")

      // Nothing was stored.
      expect((yield* listAll(api)).data).toEqual([])
    }))

  it.effect("display_name, day_first and timezone form fields are honoured", () =>
    Effect.gen(function*() {
      const a = yield* user("chats-fields-a")
      const b = yield* user("chats-fields-b")
      // Every date could be either order: only day_first decides.
      const ambiguous = { name: "ambiguous.txt", bytes: utf8("03/04/2021, 09:00 - Ann Lee: hi\n05/04/2021, 10:00 - Bob Ray: hello\n") }

      const dayFirst = yield* uploadNew(a.api, ambiguous, { day_first: "true", display_name: "  Spring plans  " })
      expect(dayFirst).toMatchObject({
        display_name: "Spring plans",
        first_message_at: "2021-04-03T09:00:00",
        last_message_at: "2021-04-05T10:00:00",
        parse_report: { day_first: true }
      })
      const monthFirst = yield* uploadNew(b.api, ambiguous, { day_first: "false", timezone: "Europe/Berlin" })
      expect(monthFirst).toMatchObject({
        display_name: "ambiguous",
        first_message_at: "2021-03-04T09:00:00",
        last_message_at: "2021-05-04T10:00:00",
        parse_report: { day_first: false }
      })
      const messages = yield* allMessages(b.api, monthFirst.id)
      expect(messages.data.map((m) => m.sent_at)).toEqual(["2021-03-04T09:00:00", "2021-05-04T10:00:00"])

      // The written times stay as written; their UTC reading follows the time zone (CET, then CEST).
      const sql = yield* SqlClient.SqlClient
      const utc = yield* sql<{ utc: string }>`
        SELECT to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS utc
        FROM messages WHERE chat_id = ${monthFirst.id}::uuid ORDER BY seq`
      expect(utc.map((row) => row.utc)).toEqual(["2021-03-04T08:00:00", "2021-05-04T08:00:00"])
      const defaultZone = yield* sql<{ utc: string }>`
        SELECT to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS utc
        FROM messages WHERE chat_id = ${dayFirst.id}::uuid ORDER BY seq`
      expect(defaultZone.map((row) => row.utc)).toEqual(["2021-04-03T09:00:00", "2021-04-05T10:00:00"])
    }))

  // BUG (src/Chats/Http.ts, the upload handler): the multipart form is read by hand, so the contract's
  // Literal("true", "false") for day_first is never applied, and `dayFirst === "true"` turns any other
  // value ("maybe", "1", "yes") into day_first=false: the chat is parsed month-first without a word.
  it.effect("a day_first other than \"true\" or \"false\" is a 400 naming day_first, and nothing is stored", () =>
    Effect.gen(function*() {
      const { api, token } = yield* user("chats-day-first")
      const ambiguous = { name: "ambiguous.txt", bytes: utf8("03/04/2021, 09:00 - Ann Lee: hi\n05/04/2021, 10:00 - Bob Ray: hello\n") }
      // Raw: a field value that does not decode.
      const reply = yield* upload(token, ambiguous, { day_first: "yes" })
      refused(reply, 400, "validation_error", "day_first")
      expect((yield* listAll(api)).data).toEqual([])
    }))

  it.effect("GET /api/chats lists newest activity first and pages through next_cursor without repeats", () =>
    Effect.gen(function*() {
      const { api, token } = yield* user("chats-list")
      // Uploaded out of order; the last dates differ.
      const uploads = yield* Effect.forEach(
        ["ios-12h-bracketed.txt", GROUP, "android-us-12h.txt", "year-first.txt", "android-fr.txt"],
        (name) => uploadNew(api, { name, bytes: fixture(name) })
      )
      const lastOf = new Map(uploads.map((chat) => [chat.display_name, chat.last_message_at]))
      expect(Object.fromEntries(lastOf)).toEqual({
        "ios-12h-bracketed": "2022-03-13T08:00:00",
        "android-24h-group": "2021-02-13T20:19:00",
        "android-us-12h": "2023-01-14T12:45:00",
        "year-first": "2021-07-02T07:00:00",
        "android-fr": "2022-09-02T14:32:00"
      })

      const all = yield* api.chats.list({ urlParams: { limit: 20 } })
      expect(all.has_more).toBe(false)
      expect(all.next_cursor).toBeNull()
      const newestFirst = ["android-us-12h", "android-fr", "ios-12h-bracketed", "year-first", "android-24h-group"]
      expect(all.data.map((chat) => chat.display_name)).toEqual(newestFirst)

      const seen = yield* pages((cursor: typeof ChatCursor.Type | null) => chatPageAfter(token, 2, cursor), 3)
      expect(seen.map((page) => [page.data.length, page.has_more])).toEqual([[2, true], [2, true], [1, false]])
      const ids = seen.flatMap((page) => page.data.map((chat) => chat.id))
      expect(new Set(ids).size).toBe(5)
      expect(ids).toEqual(all.data.map((chat) => chat.id))
      // The list shows summaries: no report, no statistics. Read on the wire, since decoding would drop them.
      const wire = yield* call("GET", "/api/chats", { token })
      expect(wire.body).toMatchObject({ data: expect.any(Array) })
      expect(JSON.stringify(wire.body)).not.toContain(`"statistics"`)
      expect(JSON.stringify(wire.body)).not.toContain(`"parse_report"`)

      // Raw: cursors and limits the typed client would refuse to encode.
      for (const cursor of ["garbage", Buffer.from(JSON.stringify(["yesterday", "x"])).toString("base64url")]) {
        const reply = yield* call("GET", `/api/chats?starting_after=${cursor}`, { token })
        refused(reply, 400, "validation_error", "starting_after")
      }
      for (const limit of ["0", "101", "two"]) {
        const reply = yield* call("GET", `/api/chats?limit=${limit}`, { token })
        refused(reply, 400, "validation_error", "limit")
      }
      yield* rejected((yield* client()).chats.list({ urlParams: { limit: 20 } }), "Unauthorized")
    }))

  it.effect("a chat whose entries are all system events has no dates and lists last, across a page boundary", () =>
    Effect.gen(function*() {
      const { api, token } = yield* user("chats-list-nulls")
      const systemOnly = utf8(
        "03/02/2021, 09:00 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.\n" +
          "03/02/2021, 09:00 - Mira Okafor created group \"Quiet\"\n"
      )
      const empty = yield* uploadNew(api, { name: "quiet.txt", bytes: systemOnly })
      expect(empty).toMatchObject({
        message_count: 0,
        first_message_at: null,
        last_message_at: null,
        parse_report: { messages: 0, system_events: 2 }
      })
      const other = yield* uploadNew(api, { name: "quiet-too.txt", bytes: utf8(new TextDecoder().decode(systemOnly) + "\n") })
      const dated = yield* uploadNew(api, { name: "year-first.txt", bytes: fixture("year-first.txt") })
      const all = yield* listAll(api)
      expect(all.data.map((chat) => chat.id)).toEqual([dated.id, ...[empty.id, other.id].sort()])
      for (const limit of [1, 2]) {
        const seen = yield* pages((cursor: typeof ChatCursor.Type | null) => chatPageAfter(token, limit, cursor), 3)
        expect(seen.flatMap((page) => page.data.map((chat) => chat.id))).toEqual(all.data.map((chat) => chat.id))
      }
    }))

  it.effect("GET /api/chats/{id} answers the chat with its statistics", () =>
    Effect.gen(function*() {
      const { api, token } = yield* user("chats-get")
      const uploaded = yield* uploadNew(api, { name: GROUP, bytes: fixture(GROUP) })
      const chat = yield* api.chats.get({ path: { chat_id: uploaded.id } })
      const { created: _created, ...stored } = uploaded
      expect(chat).toEqual(stored)
      expect(chat.statistics?.totals.messages).toBe(8)

      yield* rejected(api.chats.get({ path: { chat_id: randomUUID() } }), "NotFound")
      // Raw: a path the typed client would refuse to encode.
      const notAnId = yield* call("GET", "/api/chats/not-a-uuid", { token })
      refused(notAnId, 400, "validation_error", "chat_id")
    }))

  it.effect("GET /api/chats/{id}/messages: file order, pages, filters by author, text and dates; line breaks kept", () =>
    Effect.gen(function*() {
      const { api, token } = yield* user("chats-messages")
      const chat = yield* uploadNew(api, { name: GROUP, bytes: fixture(GROUP) })
      const path = `/api/chats/${chat.id}/messages`

      const all = yield* allMessages(api, chat.id)
      expect(all.has_more).toBe(false)
      expect(all.data.map((m) => m.seq)).toEqual(Array.from({ length: 19 }, (_, i) => i))
      expect(all.data.map((m) => m.kind)).toEqual([
        "system", "system", "system", "text", "media", "text", "deleted", "text", "edited",
        "system", "system", "system", "system", "system", "system", "system", "system", "deleted", "media"
      ])
      expect(all.data[3]).toEqual({
        id: expect.any(String),
        seq: 3,
        sent_at: "2021-02-03T09:02:00",
        author: "Mira Okafor",
        text: "Morning all!\nSeeds arrive Friday.\n\nBring gloves.",
        kind: "text",
        media_kind: null,
        file_name: null,
        event: null
      })
      expect(all.data[0]).toMatchObject({ author: null, kind: "system", sent_at: "2021-02-03T09:00:00" })
      expect(all.data[7]?.text).toBe("I do. Meeting notes: [05/02/21, 10:00:00] sort the compost")
      expect(all.data[8]).toMatchObject({ text: "See you at 8", kind: "edited" })

      // Pages of five through starting_after, in file order, without repeats.
      const seen = yield* pages(
        (cursor: string | null) =>
          api.chats.messages({
            path: { chat_id: chat.id },
            urlParams: cursor === null ? { limit: 5 } : { limit: 5, starting_after: cursor }
          }),
        4
      )
      expect(seen.map((page) => page.data.length)).toEqual([5, 5, 5, 4])
      expect(seen.flatMap((page) => page.data)).toEqual(all.data)

      const seqs = (page: Paged<{ readonly seq: number }, string>) => page.data.map((m) => m.seq)
      const byMira = yield* allMessages(api, chat.id, { author: "Mira Okafor" })
      expect(seqs(byMira)).toEqual([3, 6])
      expect(byMira.data.every((m) => m.author === "Mira Okafor")).toBe(true)
      const byPhone = yield* allMessages(api, chat.id, { author: "+44 7700 900123" })
      expect(byPhone.data.map((m) => m.text)).toEqual(["Who has the shed key?"])
      expect(seqs(yield* allMessages(api, chat.id, { author: "Mira" }))).toEqual([])

      // q: a case-insensitive substring; LIKE's wildcards are plain characters.
      expect(seqs(yield* allMessages(api, chat.id, { q: "SEEDS ARRIVE" }))).toEqual([3])
      expect(seqs(yield* allMessages(api, chat.id, { q: "compost" }))).toEqual([7])
      expect(seqs(yield* allMessages(api, chat.id, { q: "%" }))).toEqual([])
      expect(seqs(yield* allMessages(api, chat.id, { q: "_" }))).toEqual([])
      expect(seqs(yield* allMessages(api, chat.id, { q: "deleted", author: "Ines Duarte" }))).toEqual([17])

      // Dates: a bare date covers its whole day; a time bound is inclusive.
      expect(seqs(yield* allMessages(api, chat.id, { from: "2021-02-05", to: "2021-02-05" }))).toEqual([8, 9, 10, 11, 12, 13, 14])
      expect(seqs(yield* allMessages(api, chat.id, { from: "2021-02-13" }))).toEqual([15, 16, 17, 18])
      expect(seqs(yield* allMessages(api, chat.id, { to: "2021-02-03" }))).toEqual([0, 1, 2, 3, 4])
      expect(seqs(yield* allMessages(api, chat.id, { from: "2021-02-04T18:31", to: "2021-02-04T18:32:00" }))).toEqual([6, 7])
      expect(seqs(yield* allMessages(api, chat.id, { from: "2021-02-06", to: "2021-02-12" }))).toEqual([])

      // Filters and pages together: the cursor continues within the filter.
      const messages = (urlParams: { readonly limit: number; readonly q?: string; readonly from?: string; readonly starting_after?: string }) =>
        api.chats.messages({ path: { chat_id: chat.id }, urlParams })
      const first = yield* messages({ limit: 2, q: "omitted" })
      expect(first).toMatchObject({ has_more: false })
      const system = yield* messages({ limit: 3, from: "2021-02-05" })
      expect(seqs(system)).toEqual([8, 9, 10])
      expect(system.next_cursor).not.toBeNull()
      if (system.next_cursor === null) return yield* Effect.dieMessage("no next_cursor on a page with more")
      const rest = yield* messages({ limit: 100, from: "2021-02-05", starting_after: system.next_cursor })
      expect(seqs(rest)).toEqual([11, 12, 13, 14, 15, 16, 17, 18])

      // Raw: parameters the typed client would refuse to encode.
      refused(yield* call("GET", `${path}?from=yesterday`, { token }), 400, "validation_error", "from")
      refused(yield* call("GET", `${path}?starting_after=abc`, { token }), 400, "validation_error", "starting_after")
      yield* rejected(allMessages(api, randomUUID()), "NotFound")
    }))

  // BUG (src/Chats/Api.ts, DateBound): the pattern accepts any digits, so 2021-02-30 or 2021-13-01 reach
  // `::timestamp` in src/Chats/Repo.ts (messages), PostgreSQL raises 22008, and the client gets a 500
  // database_error instead of a 400 naming the parameter.
  it.effect("a date bound or list cursor that is no calendar time is a 400, not a server error", () =>
    Effect.gen(function*() {
      const { api, token } = yield* user("chats-bad-dates")
      const chat = yield* uploadNew(api, { name: "year-first.txt", bytes: fixture("year-first.txt") })
      // Raw: bounds and cursors the typed client would refuse to encode.
      for (const query of ["from=2021-02-30", "to=2021-13-01", "from=2021-07-01T25:00"]) {
        const reply = yield* call("GET", `/api/chats/${chat.id}/messages?${query}`, { token })
        refused(reply, 400, "validation_error", query.split("=")[0] ?? "")
      }
      // The same with a list cursor of the right shape but no real time (src/Chats.ts decodeCursor checks
      // only the pattern; src/Chats/Repo.ts list casts it with ::timestamp).
      const cursor = Buffer.from(JSON.stringify(["2021-13-45T99:99:99", randomUUID()])).toString("base64url")
      refused(yield* call("GET", `/api/chats?starting_after=${cursor}`, { token }), 400, "validation_error", "starting_after")
    }))

  it.effect("PUT /api/chats/{id}/display-name trims and renames; empty or over 100 characters is a 400", () =>
    Effect.gen(function*() {
      const { api, token } = yield* user("chats-rename")
      const chat = yield* uploadNew(api, { name: GROUP, bytes: fixture(GROUP) })
      const path = `/api/chats/${chat.id}/display-name`
      const rename = (chatId: string, displayName: string) =>
        api.chats.rename({ path: { chat_id: chatId }, payload: { display_name: displayName } })

      // Raw: the typed client only sends trimmed names, so the server's trimming is seen on the wire.
      const renamed = yield* call("PUT", path, { token, json: { display_name: "  Garden gang  " } })
      expect(renamed.status, JSON.stringify(renamed.body)).toBe(200)
      expect(renamed.body).toMatchObject({ id: chat.id, display_name: "Garden gang", message_count: 8 })
      const read = yield* api.chats.get({ path: { chat_id: chat.id } })
      expect(read.display_name).toBe("Garden gang")
      expect((yield* listAll(api)).data.map((c) => c.display_name)).toEqual(["Garden gang"])

      const longest = "y".repeat(100)
      const max = yield* rename(chat.id, longest)
      expect(max.display_name).toBe(longest)

      // Raw: names the typed client would refuse to encode.
      for (const displayName of ["", "   ", "z".repeat(101)]) {
        const reply = yield* call("PUT", path, { token, json: { display_name: displayName } })
        refused(reply, 400, "validation_error", "display_name")
      }
      refused(yield* call("PUT", path, { token, json: {} }), 400, "validation_error", "display_name")
      const after = yield* api.chats.get({ path: { chat_id: chat.id } })
      expect(after.display_name).toBe(longest)
      yield* rejected(rename(randomUUID(), "x"), "NotFound")
    }))

  it.effect("DELETE /api/chats/{id}: gone from every read at once; the purge job removes its content", () =>
    Effect.gen(function*() {
      const { api } = yield* user("chats-delete")
      const anonymous = yield* client()
      const file = { name: GROUP, bytes: fixture(GROUP) }
      const chat = yield* uploadNew(api, file)
      const kept = yield* uploadNew(api, { name: "year-first.txt", bytes: fixture("year-first.txt") })
      const path = { chat_id: chat.id }
      // Shared, so that the public page going away is the deletion's doing.
      yield* api.chats.sharing({ path, payload: { enabled: true } })
      yield* anonymous.chats.publicStats({ path })

      const sql = yield* SqlClient.SqlClient
      const counts = (chatId: string) =>
        sql<{ chats: number; messages: number; stats: number }>`
          SELECT (SELECT count(*)::int FROM chats WHERE id = ${chatId}::uuid) AS chats,
                 (SELECT count(*)::int FROM messages WHERE chat_id = ${chatId}::uuid) AS messages,
                 (SELECT count(*)::int FROM chat_stats WHERE chat_id = ${chatId}::uuid) AS stats`.pipe(
          Effect.map((rows) => rows[0]),
          Effect.orDie
        )
      expect(yield* counts(chat.id)).toEqual({ chats: 1, messages: 19, stats: 1 })

      expect(yield* api.chats.delete({ path })).toEqual({ id: chat.id, deleted: true })

      expect((yield* listAll(api)).data.map((c) => c.id)).toEqual([kept.id])
      yield* rejected(api.chats.get({ path }), "NotFound")
      yield* rejected(api.chats.messages({ path, urlParams: { limit: 20 } }), "NotFound")
      yield* rejected(api.chats.rename({ path, payload: { display_name: "x" } }), "NotFound")
      yield* rejected(api.chats.sharing({ path, payload: { enabled: true } }), "NotFound")
      yield* rejected(anonymous.chats.publicStats({ path }), "NotFound")
      yield* rejected(api.chats.delete({ path }), "NotFound")

      // The purge job (one, whatever the second delete tried) runs on the worker and succeeds.
      const job = yield* waitFor(
        "the purge job to finish",
        sql<{ status: string; kind: string; user_id: string | null; attempts: number }>`
          SELECT status, kind, user_id, attempts FROM jobs WHERE dedupe_key = ${`chat.purge:${chat.id}`}`.pipe(Effect.orDie),
        (rows) => rows.length === 1 && ["succeeded", "failed", "cancelled"].includes(rows[0]?.status ?? "")
      )
      expect(job).toEqual([{ status: "succeeded", kind: "chat.purge", user_id: "chats-delete", attempts: 1 }])
      expect(yield* counts(chat.id)).toEqual({ chats: 0, messages: 0, stats: 0 })
      // The other chat is untouched.
      expect(yield* counts(kept.id)).toEqual({ chats: 1, messages: 3, stats: 1 })
      yield* rejected(api.chats.delete({ path }), "NotFound")

      // The same file again is a new chat.
      const again = yield* uploadNew(api, file)
      expect(again.id).not.toBe(chat.id)
      expect(again.message_count).toBe(8)
      expect((yield* listAll(api)).data.map((c) => c.id).sort()).toEqual([again.id, kept.id].sort())
    }))

  it.effect("the public page: 404 until sharing is on, anonymous and without names or words, 404 once off", () =>
    Effect.gen(function*() {
      const { api, token } = yield* user("chats-share")
      const anonymous = yield* client()
      const chat = yield* uploadNew(api, { name: GROUP, bytes: fixture(GROUP) })
      const path = { chat_id: chat.id }
      const publicPath = `/api/chats/public/${chat.id}/stats`

      yield* rejected(anonymous.chats.publicStats({ path }), "NotFound")
      yield* rejected(api.chats.publicStats({ path }), "NotFound")

      const on = yield* api.chats.sharing({ path, payload: { enabled: true } })
      expect(on).toMatchObject({ id: chat.id, is_shared: true })
      expect((yield* api.chats.get({ path })).is_shared).toBe(true)

      // No token needed.
      const page = yield* anonymous.chats.publicStats({ path })
      expect(page).toMatchObject({
        id: chat.id,
        source_platform: "whatsapp",
        message_count: 8,
        participant_count: 4,
        first_message_at: "2021-02-03T09:02:00",
        last_message_at: "2021-02-13T20:19:00"
      })
      const statistics = page.statistics
      if (statistics === null) return yield* Effect.dieMessage("no statistics on the public page")
      expect(statistics.totals).toMatchObject({ messages: 8, participants: 4, top_words: [] })
      expect(statistics.participants.map((p) => p.name).sort()).toEqual(
        ["Participant 1", "Participant 2", "Participant 3", "Participant 4"]
      )
      expect(statistics.participants.every((p) => p.top_words.length === 0 && p.top_emoji.length === 0)).toBe(true)
      expect(statistics.first_message?.author).toMatch(/^Participant [1-4]$/)
      expect(statistics.last_message?.author).toMatch(/^Participant [1-4]$/)

      // No name and no word of any message anywhere in the body: raw, since decoding would hide what the
      // contract does not name.
      const reply = yield* call("GET", publicPath)
      expect(reply.status).toBe(200)
      const serialized = JSON.stringify(reply.body).toLowerCase()
      expect(serialized).toContain(chat.id)
      for (const name of groupParticipants) expect(serialized).not.toContain(name.toLowerCase())
      const nameParts = groupParticipants.flatMap(wordsOf).filter((word) => word.length >= 4)
      expect(nameParts).toEqual(expect.arrayContaining(["mira", "okafor", "tomasz", "wierzba", "ines", "duarte", "900123"]))
      for (const part of nameParts) expect(serialized, part).not.toContain(part)
      const messages = yield* allMessages(api, chat.id)
      const words = new Set(
        messages.data
          .filter((m) => m.kind === "text" || m.kind === "edited")
          .flatMap((m) => wordsOf(m.text))
          .filter((word) => word.length >= 4)
      )
      expect([...words]).toEqual(expect.arrayContaining(["seeds", "gloves", "compost", "shed", "meeting"]))
      for (const word of words) expect(serialized, word).not.toContain(word)
      expect(serialized).not.toContain(chat.display_name.toLowerCase())
      expect(serialized).not.toContain("android-24h-group")

      const off = yield* api.chats.sharing({ path, payload: { enabled: false } })
      expect(off.is_shared).toBe(false)
      yield* rejected(anonymous.chats.publicStats({ path }), "NotFound")
      yield* rejected(anonymous.chats.publicStats({ path: { chat_id: randomUUID() } }), "NotFound")
      // Raw: a value of the wrong type.
      refused(yield* call("PUT", `/api/chats/${chat.id}/sharing`, { token, json: { enabled: "yes" } }), 400, "validation_error", "enabled")
    }))

  it.effect("another user's chat is as good as missing: 404 on every route, and the chat is untouched", () =>
    Effect.gen(function*() {
      const a = yield* user("chats-owner")
      const b = yield* user("chats-intruder")
      const chat = yield* uploadNew(a.api, { name: GROUP, bytes: fixture(GROUP) })
      const theirs = yield* uploadNew(b.api, { name: "year-first.txt", bytes: fixture("year-first.txt") })
      const path = { chat_id: chat.id }

      yield* rejected(b.api.chats.get({ path }), "NotFound")
      yield* rejected(b.api.chats.messages({ path, urlParams: { limit: 20 } }), "NotFound")
      yield* rejected(b.api.chats.rename({ path, payload: { display_name: "Mine now" } }), "NotFound")
      yield* rejected(b.api.chats.sharing({ path, payload: { enabled: true } }), "NotFound")
      yield* rejected(b.api.chats.delete({ path }), "NotFound")
      // And the other way round.
      yield* rejected(a.api.chats.get({ path: { chat_id: theirs.id } }), "NotFound")
      expect((yield* listAll(b.api)).data.map((c) => c.id)).toEqual([theirs.id])

      const after = yield* a.api.chats.get({ path })
      const { created: _created, ...stored } = chat
      expect(after).toEqual(stored)
      expect(after).toMatchObject({ display_name: "android-24h-group", is_shared: false })
      expect((yield* allMessages(a.api, chat.id)).data).toHaveLength(19)
      expect((yield* listAll(a.api)).data.map((c) => c.id)).toEqual([chat.id])
      yield* rejected((yield* client()).chats.publicStats({ path }), "NotFound")

      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ deleted: boolean; jobs: number }>`
        SELECT deleted_at IS NOT NULL AS deleted,
               (SELECT count(*)::int FROM jobs WHERE dedupe_key = ${`chat.purge:${chat.id}`}) AS jobs
        FROM chats WHERE id = ${chat.id}::uuid`
      expect(rows).toEqual([{ deleted: false, jobs: 0 }])
    }))
})

// ---------------------------------------------------------------------------------------------------
// The size limit, on an application configured with a small one.

layer(TestApp({ UPLOAD_MAX_BYTES: "2048" }), { excludeTestServices: true })("chats with a 2 KB upload limit", (it) => {
  it.effect("an upload over the limit is a 413; one under it is stored", () =>
    Effect.gen(function*() {
      const { api, token } = yield* user("chats-limit")
      const small = yield* uploadNew(api, { name: "year-first.txt", bytes: fixture("year-first.txt") })
      expect(small.message_count).toBe(3)

      const lines = Array.from({ length: 80 }, (_, i) => `03/02/2021, 09:${String(i % 60).padStart(2, "0")} - Ann Lee: line ${i}`)
      const big = utf8(lines.join("\n"))
      expect(big.length).toBeGreaterThan(2048)
      yield* rejected(api.chats.upload({ payload: uploadForm({ name: "big.txt", bytes: big }) }), "PayloadTooLarge")

      // A zip small enough to send whose chat unpacks to more than the limit.
      const zipped = zip([{ name: "_chat.txt", data: utf8(lines.concat(lines, lines).join("\n")) }])
      expect(zipped.length).toBeLessThan(1500)
      yield* rejected(api.chats.upload({ payload: uploadForm({ name: "export.zip", bytes: zipped }) }), "PayloadTooLarge", "zip")

      // Raw: a declared Content-Length over the limit is refused before the body is read.
      const declared = yield* call("POST", "/api/chats/upload", { token, body: "x".repeat(3000) })
      refused(declared, 413, "payload_too_large", "2048 bytes")

      expect((yield* listAll(api)).data.map((chat) => chat.id)).toEqual([small.id])
    }))

  // BUG (src/Chats/Http.ts `tooLarge`, src/Ingest/Zip.ts `mb`): sizes are written in whole MB, floored or
  // rounded, so a limit under 1 MB reads "larger than 0 MB" and the zip refusal says "the chat in the zip
  // file is 0 MB; the limit is 0 MB." (at the default 100 MB, a 100.4 MB chat reads "is 100 MB; the limit
  // is 100 MB"). The message must let a person see why the file was refused.
  it.effect("413 messages state sizes a person can act on: no \"0 MB\" limit, no size equal to its limit", () =>
    Effect.gen(function*() {
      const { api } = yield* user("chats-limit-words")
      const lines = Array.from({ length: 80 }, (_, i) => `03/02/2021, 09:${String(i % 60).padStart(2, "0")} - Ann Lee: line ${i}`)
      const send = (file: UploadFile) => rejected(api.chats.upload({ payload: uploadForm(file) }), "PayloadTooLarge")
      const streamed = yield* send({ name: "big.txt", bytes: utf8(lines.join("\n")) })
      const unpacked = yield* send({ name: "export.zip", bytes: zip([{ name: "_chat.txt", data: utf8(lines.join("\n")) }]) })
      for (const { message } of [streamed, unpacked]) {
        expect(message).not.toMatch(/\b0 MB\b/)
        const sizes = [...message.matchAll(/(\d+(?:\.\d+)?) ?(MB|KB|bytes)/g)].map((m) => m[0])
        expect(new Set(sizes).size, message).toBe(sizes.length)
      }
    }))
})
