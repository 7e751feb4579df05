/**
 * The maintenance sweep: chats past DATA_RETENTION_DAYS are deleted and purged; a deleted chat or an
 * erasure whose purge never ran is purged anyway after PURGE_SWEEP_AFTER; the sweep is enqueued by its
 * timer. The worker here runs only the sweep: the purge jobs the routes enqueue wait forever, as they
 * would with the worker down for them.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { MaintenanceLive } from "../src/Background.js"
import { Sweep } from "../src/Maintenance.js"
import { insightChatFile } from "./support/insightChat.js"
import { runOnce } from "./support/jobs.js"
import { call, TestApp, TestAppWithWorker, TestConfig, tokenFor, upload, waitFor } from "./support/TestApp.js"
import { ChatsRepo } from "../src/Chats/Repo.js"
import { Exports } from "../src/Exports.js"
import { Users } from "../src/Users.js"
import type { Vector } from "../src/Vector.js"
import { VectorLive } from "../src/Vector/Live.js"
import { Worker } from "../src/Worker.js"
import { JobHandlers } from "../src/Worker/Handler.js"

const Id = Schema.Struct({ id: Schema.String })

const newUser = (prefix: string) =>
  Effect.gen(function*() {
    const sub = `${prefix}-${randomUUID()}`
    const token = yield* tokenFor(sub)
    expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
    return { sub, token }
  })

const uploadChat = (token: string) =>
  Effect.map(upload(token, insightChatFile), (reply) => {
    expect(reply.status).toBe(201)
    return Schema.decodeUnknownSync(Id)(reply.body).id
  })

const rowsOf = (chatId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ chats: number; messages: number }>`SELECT
      (SELECT count(*) FROM chats WHERE id = ${chatId})::int AS chats,
      (SELECT count(*) FROM messages WHERE chat_id = ${chatId})::int AS messages`).pipe(
      Effect.map((rows) => rows[0]),
      Effect.orDie
    )

const settings = { DATA_RETENTION_DAYS: "30", PURGE_SWEEP_AFTER: "10 minutes", RATE_LIMITS: "false" }

const SweepOnly = Worker.Default.pipe(
  Layer.provide(
    JobHandlers.layer<ChatsRepo | Vector | Users | Exports>(Sweep).pipe(
      Layer.provide([ChatsRepo.Default, Users.Default, Exports.Default]),
      Layer.provide(VectorLive)
    )
  )
)

const SweepApp = (config: Record<string, string>) => {
  const all = { WORKER_POLL_INTERVAL: "100 millis", WORKER_SHUTDOWN_GRACE: "2 seconds", ...config }
  return SweepOnly.pipe(Layer.provide(TestConfig(all)), Layer.provideMerge(TestApp(all)))
}

layer(SweepApp(settings), { excludeTestServices: true })("the maintenance sweep", (it) => {
  it.effect("chats untouched past DATA_RETENTION_DAYS are deleted at once and purged; recent ones stay", () =>
    Effect.gen(function*() {
      const { token } = yield* newUser("retention")
      const old = yield* uploadChat(token)
      const sql = yield* SqlClient.SqlClient
      // A second, distinct chat: the same file would be the same chat.
      const recent = yield* Effect.map(
        upload(token, { name: "recent.txt", bytes: new Uint8Array(Buffer.from("01/06/2024, 10:00 - A: hello\n01/06/2024, 10:01 - B: hi\n")) }),
        (reply) => Schema.decodeUnknownSync(Id)(reply.body).id
      )
      yield* sql`UPDATE chats SET updated_at = now() - interval '40 days' WHERE id = ${old}`
      yield* runOnce(Sweep, {})
      expect((yield* call("GET", `/api/chats/${old}`, { token })).status).toBe(404)
      expect((yield* call("GET", `/api/chats/${recent}`, { token })).status).toBe(200)
      // Deleted by retention now; its content goes once PURGE_SWEEP_AFTER has passed.
      yield* sql`UPDATE chats SET deleted_at = now() - interval '11 minutes' WHERE id = ${old}`
      yield* runOnce(Sweep, {})
      expect(yield* rowsOf(old)).toEqual({ chats: 0, messages: 0 })
      expect((yield* rowsOf(recent))?.chats).toBe(1)
    }))

  it.effect("a deleted chat whose purge never ran is purged by the sweep after PURGE_SWEEP_AFTER, not before", () =>
    Effect.gen(function*() {
      const { token } = yield* newUser("lost-purge")
      const chatId = yield* uploadChat(token)
      const sql = yield* SqlClient.SqlClient
      expect((yield* call("DELETE", `/api/chats/${chatId}`, { token })).status).toBe(200)
      yield* runOnce(Sweep, {})
      expect(yield* rowsOf(chatId)).toMatchObject({ chats: 1 })
      yield* sql`UPDATE chats SET deleted_at = now() - interval '11 minutes' WHERE id = ${chatId}`
      yield* runOnce(Sweep, {})
      expect(yield* rowsOf(chatId)).toEqual({ chats: 0, messages: 0 })
    }))

  it.effect("an erasure whose purge failed for good is queued again after PURGE_SWEEP_AFTER", () =>
    Effect.gen(function*() {
      const { sub, token } = yield* newUser("stalled-erasure")
      const reply = yield* call("DELETE", "/api/users/delete-account", { token, json: { confirm: sub } })
      expect(reply.status).toBe(202)
      const { id } = Schema.decodeUnknownSync(Id)(reply.body)
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE jobs SET status = 'failed', finished_at = now() WHERE kind = 'user.erase' AND payload ->> 'erasure_id' = ${id}`
      const queued = sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs
        WHERE kind = 'user.erase' AND status = 'queued' AND payload ->> 'erasure_id' = ${id}`.pipe(
        Effect.map((rows) => rows[0]?.n ?? 0)
      )
      yield* runOnce(Sweep, {})
      expect(yield* queued).toBe(0)
      yield* sql`UPDATE erasures SET requested_at = now() - interval '11 minutes' WHERE id = ${id}`
      yield* runOnce(Sweep, {})
      expect(yield* queued).toBe(1)
      yield* runOnce(Sweep, {})
      expect(yield* queued).toBe(1)
    }))
})

const timer = { MAINTENANCE_INTERVAL: "300 millis", PURGE_SWEEP_AFTER: "0 seconds", RATE_LIMITS: "false" }

layer(MaintenanceLive.pipe(Layer.provide(TestConfig(timer)), Layer.provideMerge(TestAppWithWorker(timer))), { excludeTestServices: true })(
  "the maintenance sweep on its timer",
  (it) => {
    it.effect("runs every MAINTENANCE_INTERVAL by itself", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const runs = sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs WHERE kind = 'maintenance.sweep' AND status = 'succeeded'`.pipe(
          Effect.map((rows) => rows[0]?.n ?? 0),
          Effect.orDie
        )
        expect(yield* waitFor("two sweeps", runs, (n) => n >= 2)).toBeGreaterThanOrEqual(2)
      }))
  }
)
