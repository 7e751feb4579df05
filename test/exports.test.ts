/**
 * Data exports (GDPR article 20) on real PostgreSQL: the archive of a user with two chats, an unlocked
 * insight, a conversation and a purchase holds all of it (original message text, statistics, citations,
 * ledger, orders without provider payloads) and nothing of another user; only its owner reads it; asking
 * again while it is pending answers the same export; progress shows while it is written; a rerun starts
 * over; an expired export is refused and its parts are deleted. And the archive writer on its own: parts
 * of the size asked for that join into a readable zip, and a failing entry that fails the write.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer, Schema, Stream } from "effect"
import yauzl from "yauzl"
import { ExportedMessage, ExportStatus } from "../src/Domain/Exports.js"
import { Exports } from "../src/Exports.js"
import { writeArchive } from "../src/Exports/Archive.js"
import { ExportUser } from "../src/Exports/Job.js"
import { ExportsRepo } from "../src/Exports/Repo.js"
import { UserDataRepo } from "../src/Exports/UserData.js"
import { Insights } from "../src/Insights.js"
import type { RunningJob } from "../src/Worker/Handler.js"
import { insightChatFile } from "./support/insightChat.js"
import { createOrder, deliverStripe, Doubles, PaymentsApp } from "./support/payments.js"
import { call, client, TestApp, tokenFor, upload, waitFor } from "./support/TestApp.js"

// ---------------------------------------------------------------------------------------------------
// Helpers

const chatFile = (name: string, lines: ReadonlyArray<string>) => ({ name, bytes: new Uint8Array(Buffer.from(`${lines.join("\n")}\n`)) })

const ownerChat = chatFile("WhatsApp Chat with Bo.txt", [
  "12/03/2024, 08:58 - Bo Chen created group \"Shed\"",
  "12/03/2024, 09:00 - Ana Lopes: The spare bike lock code is OWNER-MARK-5151, do not lose it",
  "12/03/2024, 09:05 - Bo Chen: Who has the shed key?",
  "12/03/2024, 09:06 - Ana Lopes: I have the shed key, it is under the blue pot",
  "13/03/2024, 18:30 - Bo Chen: Thanks! Dinner on Friday?",
  "13/03/2024, 18:31 - Ana Lopes: Yes, at eight 🍝"
])

const strangerChat = chatFile("WhatsApp Chat with Eve.txt", [
  "02/01/2024, 10:00 - Eve Park: STRANGER-MARK-9090 is my locker code",
  "02/01/2024, 10:02 - Dan Roe: Noted, the shed key is with me"
])

/** A user with an account (and its 10 welcome credits). */
const account = (sub: string) =>
  Effect.gen(function*() {
    const token = yield* tokenFor(sub, { email: `${sub}@example.com`, name: `Name of ${sub}` })
    expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
    return token
  })

const uploaded = (token: string, file: { readonly name: string; readonly bytes: Uint8Array }) =>
  Effect.map(upload(token, file), (reply) => {
    expect(reply.status, JSON.stringify(reply.body).slice(0, 300)).toBe(201)
    return Schema.decodeUnknownSync(Schema.Struct({ id: Schema.String, message_count: Schema.Number }))(reply.body)
  })

const decodeStatus = Schema.decodeUnknownSync(ExportStatus)

const startExport = (token: string) =>
  Effect.map(call("POST", "/api/users/export", { token }), (reply) => {
    expect(reply.status, JSON.stringify(reply.body)).toBe(202)
    return decodeStatus(reply.body)
  })

/** GET of an export: its bytes as sent, whatever they are. */
const fetchExport = (token: string, exportId: string) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const response = yield* http.execute(
      HttpClientRequest.get(`/api/users/exports/${exportId}`).pipe(HttpClientRequest.bearerToken(token))
    )
    const bytes = new Uint8Array(yield* response.arrayBuffer)
    return { status: response.status, headers: response.headers, bytes }
  }).pipe(Effect.scoped, Effect.orDie)

const asJson = (bytes: Uint8Array): unknown => JSON.parse(Buffer.from(bytes).toString("utf8"))

/** Polls the export until its archive comes (200), and returns it. */
const downloaded = (token: string, exportId: string) =>
  waitFor("the export to be ready", fetchExport(token, exportId), (reply) => {
    if (reply.status === 202) {
      expect(decodeStatus(asJson(reply.bytes)).status).not.toBe("failed")
      return false
    }
    return true
  })

/** Every entry of a zip, by name, as text (yauzl checks each entry's size as it inflates it). */
const unzip = (bytes: Uint8Array) =>
  Effect.async<Map<string, string>, Error>((resume) => {
    yauzl.fromBuffer(Buffer.from(bytes), { lazyEntries: true }, (error, zip) => {
      if (error !== null || zip === undefined) return resume(Effect.fail(error ?? new Error("not a zip")))
      const files = new Map<string, string>()
      zip.on("error", (failure: Error) => resume(Effect.fail(failure)))
      zip.on("end", () => resume(Effect.succeed(files)))
      zip.on("entry", (entry: yauzl.Entry) =>
        zip.openReadStream(entry, (openError, stream) => {
          if (openError !== null || stream === undefined) return resume(Effect.fail(openError ?? new Error("no stream")))
          const chunks: Array<Buffer> = []
          stream.on("data", (chunk: Buffer) => chunks.push(chunk))
          stream.on("end", () => {
            files.set(entry.fileName, Buffer.concat(chunks).toString("utf8"))
            zip.readEntry()
          })
        }))
      zip.readEntry()
    })
  }).pipe(Effect.orDie)

const json = (files: Map<string, string>, name: string): unknown => JSON.parse(files.get(name) ?? "null")

const deleteExpired = Effect.flatMap(Exports, (exports) => exports.deleteExpired).pipe(Effect.provide(Exports.Default))

const partsOf = (exportId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ n: number; largest: number | null }>`SELECT count(*)::int AS n, max(octet_length(bytes))::int AS largest
      FROM export_parts WHERE export_id = ${exportId}::uuid`).pipe(Effect.map((rows) => rows[0] ?? { n: 0, largest: null }), Effect.orDie)

const linesOf = (files: Map<string, string>, name: string) =>
  (files.get(name) ?? "").split("\n").filter((line) => line.length > 0)
    .map((line) => Schema.decodeUnknownSync(ExportedMessage)(JSON.parse(line)))

// ---------------------------------------------------------------------------------------------------
// With the worker, payments against their doubles

layer(PaymentsApp(), { excludeTestServices: true })("a data export, written by the worker", (it) => {
  it.effect("holds both chats, the insight with citations, the conversation, the ledger and the order, and nothing of anyone else", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const owner = yield* account("export-owner")
      const stranger = yield* account("export-stranger")
      const first = yield* uploaded(owner, insightChatFile)
      const second = yield* uploaded(owner, ownerChat)
      const theirs = yield* uploaded(stranger, strangerChat)
      const api = yield* client(owner)
      const unlocked = yield* api.insights.unlock({ payload: { chat_id: first.id, category_id: "communication-style" }, headers: {} })
      yield* waitFor("the insights", api.insights.jobStatus({ path: { job_id: unlocked.job_id } }), (job) =>
        job.status !== "queued" && job.status !== "running")
      const asked = yield* api.rag.query({ payload: { chat_id: second.id, question: "Who has the shed key?" } })
      yield* (yield* client(stranger)).rag.query({ payload: { chat_id: theirs.id, question: "Who has the shed key?" } })
      const order = yield* createOrder(owner, { package_id: "starter", provider: "stripe" })
      expect((yield* deliverStripe(stripe.pay(order.provider_order_id ?? ""))).status).toBe(200)
      const balance = (yield* api.credits.balance()).balance
      const started = yield* startExport(owner)
      expect(started).toMatchObject({ status: "queued", ready_at: null, expires_at: null, size_bytes: null })
      const strangers = yield* startExport(stranger)
      const reply = yield* downloaded(owner, started.id)
      expect(reply.status).toBe(200)
      expect(reply.headers["content-type"]).toBe("application/zip")
      expect(reply.headers["content-disposition"]).toMatch(/^attachment; filename="chatsight-export-\d{4}-\d{2}-\d{2}\.zip"$/)
      expect(Number(reply.headers["content-length"])).toBe(reply.bytes.length)
      const files = yield* unzip(reply.bytes)
      const chatFiles = (id: string) => ["chat.json", "messages.jsonl", "insights.json", "conversations.json"].map((f) => `chats/${id}/${f}`)
      expect([...files.keys()].sort()).toEqual(
        ["README.txt", "account.json", "ledger.json", "orders.json", ...chatFiles(first.id), ...chatFiles(second.id)].sort()
      )
      expect(json(files, "account.json"))
        .toMatchObject({ id: "export-owner", email: "export-owner@example.com", name: "Name of export-owner", credit_balance: balance })
      // Both chats: metadata with parse report and statistics, and every message with its original text.
      const chatOne = json(files, `chats/${first.id}/chat.json`)
      expect(chatOne).toMatchObject({ id: first.id, message_count: first.message_count, parse_report: { messages: first.message_count } })
      expect(chatOne).toHaveProperty("statistics.totals.messages", first.message_count)
      expect(json(files, `chats/${second.id}/chat.json`)).toHaveProperty("statistics.totals.messages", second.message_count)
      const messagesOne = linesOf(files, `chats/${first.id}/messages.jsonl`)
      const messagesTwo = linesOf(files, `chats/${second.id}/messages.jsonl`)
      expect(messagesOne).toHaveLength(first.message_count)
      expect(messagesOne.map((m) => m.seq)).toEqual(messagesOne.map((_, i) => i))
      expect(messagesOne).toContainEqual(expect.objectContaining({
        author: "Noor Aziz",
        text: "Big news: I got the job in Lisbon!",
        sent_at_local: "2024-05-25T09:15:00",
        sent_at: "2024-05-25T09:15:00.000Z",
        kind: "text"
      }))
      expect(messagesTwo.map((m) => m.text)).toEqual([
        "Bo Chen created group \"Shed\"",
        "The spare bike lock code is OWNER-MARK-5151, do not lose it",
        "Who has the shed key?",
        "I have the shed key, it is under the blue pot",
        "Thanks! Dinner on Friday?",
        "Yes, at eight 🍝"
      ])
      // The insights with their findings' citations, each a message of the chat.
      const Cited = Schema.Struct({ citations: Schema.Array(Schema.Struct({ message_id: Schema.String, text: Schema.String })) })
      const insights = Schema.decodeUnknownSync(Schema.Array(Schema.Struct({ content: Schema.NullOr(Schema.Struct({ findings: Schema.Array(Cited) })) })))(
        json(files, `chats/${first.id}/insights.json`)
      )
      expect(insights.length).toBeGreaterThan(0)
      const citations = insights.flatMap((insight) => insight.content?.findings.flatMap((finding) => finding.citations) ?? [])
      expect(citations.length).toBeGreaterThan(0)
      const textById = new Map(messagesOne.map((m) => [m.id, m.text]))
      for (const citation of citations) expect(textById.get(citation.message_id)).toBe(citation.text)
      expect(json(files, `chats/${second.id}/insights.json`)).toEqual([])
      // The conversation, its turns with their citations.
      expect(json(files, `chats/${second.id}/conversations.json`)).toEqual([
        expect.objectContaining({
          id: asked.conversation_id,
          messages: [
            expect.objectContaining({ role: "user", content: "Who has the shed key?" }),
            expect.objectContaining({
              role: "assistant",
              content: asked.answer,
              citations: asked.citations.map((c) => expect.objectContaining({ message_id: c.message_id, text: c.text }))
            })
          ]
        })
      ])
      expect(json(files, `chats/${first.id}/conversations.json`)).toEqual([])
      // The ledger and the order with its events, without the provider's payload.
      const ledger = Schema.decodeUnknownSync(Schema.Array(Schema.Struct({ kind: Schema.String, amount: Schema.Number })))(
        json(files, "ledger.json")
      )
      expect(ledger.map((entry) => entry.kind)).toEqual(expect.arrayContaining(["grant", "charge", "purchase"]))
      expect(ledger.reduce((sum, entry) => sum + entry.amount, 0)).toBe(balance)
      const orders = json(files, "orders.json")
      expect(orders).toEqual([expect.objectContaining({ id: order.id, status: "paid", credits_granted: 10 })])
      expect(orders).toHaveProperty("0.events.0.outcome", "credited")
      expect(files.get("orders.json")).not.toContain("payload")
      expect(files.get("orders.json")).not.toContain("evt_")
      expect(files.get("README.txt")).toContain("messages.jsonl")
      // Nothing of the other user, whose own export is theirs alone.
      const everything = [...files.values()].join("\n")
      for (const foreign of ["STRANGER-MARK-9090", theirs.id, "export-stranger", strangers.id]) expect(everything).not.toContain(foreign)
      const refused = yield* fetchExport(stranger, started.id)
      expect([refused.status, asJson(refused.bytes)]).toMatchObject([404, { error: { code: "not_found" } }])
      const theirFiles = [...(yield* unzip((yield* downloaded(stranger, strangers.id)).bytes)).values()].join("\n")
      for (const foreign of ["OWNER-MARK-5151", first.id, second.id, "export-owner"]) expect(theirFiles).not.toContain(foreign)
      expect(theirFiles).toContain("STRANGER-MARK-9090")
      // Ready: its status says when it expires (EXPORT_RETENTION, 24 hours by default); the job kept its progress too.
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ size: number; retention: number; job_progress: unknown; progress: unknown }>`
        SELECT e.size_bytes::float8 AS size, extract(epoch FROM e.expires_at - e.ready_at)::float8 AS retention,
               j.progress AS job_progress, e.progress
        FROM exports e JOIN jobs j ON j.id = e.job_id WHERE e.id = ${started.id}::uuid`
      expect(row).toMatchObject({ size: reply.bytes.length, retention: 24 * 3600 })
      const messages = messagesOne.length + messagesTwo.length
      expect(row?.progress).toEqual({ stage: "orders", chats_done: 2, chats_total: 2, messages_done: messages, messages_total: messages })
      expect(row?.job_progress).toEqual(row?.progress)
      expect((yield* partsOf(started.id)).largest).toBeLessThanOrEqual(1024 * 1024)
    }), 60_000)

  it.effect("an expired export is refused with 410, and deleteExpired deletes its parts and no one else's", () =>
    Effect.gen(function*() {
      const token = yield* account("export-expiring")
      yield* uploaded(token, ownerChat)
      const old = yield* startExport(token)
      yield* downloaded(token, old.id)
      const fresh = yield* startExport(token)
      expect(fresh.id).not.toBe(old.id)
      yield* downloaded(token, fresh.id)
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE exports SET expires_at = now() - interval '1 second' WHERE id = ${old.id}::uuid`
      const gone = yield* fetchExport(token, old.id)
      const goneBody = { error: { code: "gone", message: expect.stringContaining("POST /api/users/export") } }
      expect([gone.status, asJson(gone.bytes)]).toMatchObject([410, goneBody])
      expect((yield* partsOf(old.id)).n).toBeGreaterThan(0)
      expect((yield* deleteExpired).exports).toBe(1)
      expect((yield* partsOf(old.id)).n).toBe(0)
      const [status] = yield* sql<{ status: string }>`SELECT status FROM exports WHERE id = ${old.id}::uuid`
      expect(status?.status).toBe("expired")
      expect((yield* fetchExport(token, old.id)).status).toBe(410)
      // The one not yet expired is untouched, and a second sweep finds nothing to do.
      expect((yield* partsOf(fresh.id)).n).toBeGreaterThan(0)
      expect((yield* fetchExport(token, fresh.id)).status).toBe(200)
      expect(yield* deleteExpired).toEqual({ exports: 0, parts: 0 })
    }), 60_000)
})

// ---------------------------------------------------------------------------------------------------
// Without a worker: the job is run here, step by step

const JobLayers = Layer.mergeAll(ExportsRepo.Default, UserDataRepo.Default, Insights.Default)

/** The job as the worker hands it to its handler (a rerun: attempt 2), its progress reports going to `setProgress`. */
const fakeJob = (exportId: string, userId: string, setProgress: RunningJob["setProgress"] = () => Effect.void): RunningJob =>
  ({ id: exportId, kind: ExportUser.kind, attempt: 2, maxAttempts: 5, userId, instanceId: "test", setProgress })

layer(TestApp({ EXPORT_RETENTION: "2 hours" }), { excludeTestServices: true })("an export while it is pending", (it) => {
  it.effect("20 requests at once make one export and one job; asking again while it is queued answers it", () =>
    Effect.gen(function*() {
      const token = yield* account("export-racer")
      const answers = yield* Effect.all(Array.from({ length: 20 }, () => startExport(token)), { concurrency: "unbounded" })
      expect(new Set(answers.map((answer) => answer.id)).size).toBe(1)
      const again = yield* startExport(token)
      expect(again.id).toBe(answers[0]?.id)
      const sql = yield* SqlClient.SqlClient
      const [counts] = yield* sql<{ exports: number; jobs: number }>`
        SELECT (SELECT count(*)::int FROM exports WHERE user_id = 'export-racer') AS exports,
               (SELECT count(*)::int FROM jobs WHERE kind = 'user.export' AND user_id = 'export-racer') AS jobs`
      expect(counts).toEqual({ exports: 1, jobs: 1 })
      const status = yield* fetchExport(token, again.id)
      expect(status.status).toBe(202)
      expect(decodeStatus(asJson(status.bytes))).toMatchObject({ id: again.id, status: "queued", progress: null })
    }))

  it.effect("progress shows while it is written, a POST meanwhile answers it, and a rerun deletes what an earlier run wrote", () =>
    Effect.gen(function*() {
      const token = yield* account("export-watched")
      const chat = yield* uploaded(token, insightChatFile)
      yield* uploaded(token, ownerChat)
      const started = yield* startExport(token)
      const sql = yield* SqlClient.SqlClient
      // What a run that died midway left behind.
      yield* sql`INSERT INTO export_parts (export_id, seq, bytes) SELECT ${started.id}::uuid, s, 'stale' FROM generate_series(0, 2) s`
      const http = yield* HttpClient.HttpClient
      const seen: Array<{ readonly status: number; readonly body: ExportStatus; readonly posted: string }> = []
      // At each progress report: what GET and POST answer at that moment.
      const job = fakeJob(started.id, "export-watched", () =>
        Effect.gen(function*() {
          const reply = yield* fetchExport(token, started.id)
          const posted = yield* startExport(token)
          seen.push({ status: reply.status, body: decodeStatus(asJson(reply.bytes)), posted: posted.id })
        }).pipe(Effect.provideService(HttpClient.HttpClient, http)))
      yield* ExportUser.execute({ export_id: started.id, user_id: "export-watched" }, job).pipe(Effect.provide(JobLayers), Effect.orDie)
      expect(seen.length).toBeGreaterThan(2)
      for (const moment of seen) {
        expect(moment.status).toBe(202)
        expect(moment.body.status).toBe("building")
        expect(moment.posted).toBe(started.id)
      }
      const progress = seen.map((moment) => moment.body.progress)
      expect(progress).toContainEqual(expect.objectContaining({ stage: "chats", chats_done: 1, chats_total: 2 }))
      expect(progress).toContainEqual(expect.objectContaining({ messages_done: chat.message_count }))
      expect(progress.at(-1)).toMatchObject({ stage: "orders", chats_done: 2 })
      const reply = yield* fetchExport(token, started.id)
      expect(reply.status).toBe(200)
      const files = yield* unzip(reply.bytes)
      expect(linesOf(files, `chats/${chat.id}/messages.jsonl`)).toHaveLength(chat.message_count)
      const [row] = yield* sql<{ parts: number; retention: number }>`
        SELECT parts, extract(epoch FROM expires_at - ready_at)::float8 AS retention FROM exports WHERE id = ${started.id}::uuid`
      expect(row).toEqual({ parts: 1, retention: 2 * 3600 })
      expect((yield* partsOf(started.id)).n).toBe(1)

      // Ready now: a new request starts a new export.
      expect((yield* startExport(token)).id).not.toBe(started.id)
    }))

  it.effect("a job that fails for good fails its export, with the reason, and deletes its parts", () =>
    Effect.gen(function*() {
      const token = yield* account("export-failing")
      const started = yield* startExport(token)
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO export_parts (export_id, seq, bytes) VALUES (${started.id}::uuid, 0, ${Buffer.from("half")})`
      const payload = { export_id: started.id, user_id: "export-failing" }
      yield* ExportUser.giveUp(payload, fakeJob(started.id, "export-failing")).pipe(Effect.provide(JobLayers), Effect.orDie)
      const reply = yield* fetchExport(token, started.id)
      expect(reply.status).toBe(202)
      expect(decodeStatus(asJson(reply.bytes))).toMatchObject({ status: "failed", error: expect.stringContaining("start a new one") })
      expect((yield* partsOf(started.id)).n).toBe(0)
      expect((yield* startExport(token)).id).not.toBe(started.id)
    }))

  it.effect("an export of a missing id, or of a malformed one, is refused", () =>
    Effect.gen(function*() {
      const token = yield* account("export-prober")
      expect((yield* fetchExport(token, "7b0e4a52-3f7c-4f0e-9a59-3c1f2a4b5c6d")).status).toBe(404)
      expect((yield* fetchExport(token, "not-a-uuid")).status).toBe(400)
      expect((yield* call("POST", "/api/users/export")).status).toBe(401)
    }))
})

// ---------------------------------------------------------------------------------------------------
// The archive writer on its own

describe("the archive writer", () => {
  it.effect("cuts the archive into parts of the size asked for, which join into the zip of every entry", () =>
    Effect.gen(function*() {
      const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${(i * 7919).toString(36)}\n`)
      const parts: Array<{ readonly seq: number; readonly bytes: Uint8Array }> = []
      const written = yield* writeArchive({
        entries: [
          { name: "small.txt", content: Stream.succeed("hello") },
          { name: "dir/lines.txt", content: Stream.fromIterable(lines) },
          { name: "empty.txt", content: Stream.empty }
        ],
        writePart: (seq, bytes) => Effect.sync(() => void parts.push({ seq, bytes: new Uint8Array(bytes) })),
        partBytes: 4096
      })
      expect(parts.map((part) => part.seq)).toEqual(parts.map((_, i) => i))
      expect(written.parts).toBe(parts.length)
      expect(parts.length).toBeGreaterThan(2)
      expect(parts.slice(0, -1).every((part) => part.bytes.length === 4096)).toBe(true)
      const joined = Buffer.concat(parts.map((part) => part.bytes))
      expect(written.sizeBytes).toBe(joined.length)
      const files = yield* unzip(joined)
      expect(files).toEqual(new Map([["small.txt", "hello"], ["dir/lines.txt", lines.join("")], ["empty.txt", ""]]))
    }))

  it.effect("fails with an entry's failure, however far the archive got", () =>
    Effect.gen(function*() {
      const failing = Stream.concat(Stream.succeed("some bytes"), Stream.fail("the database went away" as const))
      const outcome = yield* Effect.either(writeArchive({
        entries: [{ name: "a.txt", content: Stream.succeed("first") }, { name: "b.txt", content: failing }],
        writePart: () => Effect.void
      }))
      expect(outcome._tag === "Left" ? outcome.left : outcome).toBe("the database went away")
    }))
})
