/**
 * The real server process killed (SIGKILL) in the middle of an account's purge, then started again on
 * the same database: the purge is taken up once its lease lapses and finishes, leaving nothing. The kill
 * lands mid-purge because a test session holds the account's row, which the purge renames last: the
 * chats are purged, the rename waits.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { randomUUID } from "node:crypto"
import * as Pg from "pg"
import { Erasure } from "../src/Domain/Erasure.js"
import { insightChatFile } from "./support/insightChat.js"
import { freePort, http, query, serverEnv, startServer, until } from "./support/serverProcess.js"
import { needsPostgres, onPostgres, scratchDatabase, tokenFor } from "./support/TestApp.js"

layer(Layer.empty, { excludeTestServices: true })("an erasure across a crash", (it) => {
  const name = "SIGKILL mid-purge, then a restart: the purge finishes and leaves nothing"
  it.scoped.skipIf(!onPostgres)(onPostgres ? name : `${name} (${needsPostgres})`, () =>
    Effect.gen(function*() {
      const database = yield* scratchDatabase({ fromTemplate: true })
      const env = (port: number) => ({
        ...serverEnv(port, database.url),
        RATE_LIMITS: "false",
        WORKER_LEASE: "3 seconds",
        WORKER_POLL_INTERVAL: "200 millis"
      })
      const sub = `crash-erase-${randomUUID()}`
      const token = yield* tokenFor(sub)
      const port = yield* freePort
      const first = yield* startServer(env(port))
      const base = `http://127.0.0.1:${port}`
      yield* until("the first server to start", 60, http(`${base}/health`, { token }), (reply) => reply.status === 200)
      expect((yield* http(`${base}/api/users/store`, { method: "POST", token })).status).toBe(200)
      const form = new FormData()
      form.append("file", new Blob([Buffer.from(insightChatFile.bytes)]), insightChatFile.name)
      const uploaded = yield* http(`${base}/api/chats/upload`, { method: "POST", token, body: form })
      expect(uploaded.status).toBe(201)
      const chatId = Schema.decodeUnknownSync(Schema.Struct({ id: Schema.String }))(uploaded.body).id

      // Another session holds the account's row: the purge gets as far as the rename, and waits there.
      const holder = new Pg.Client({ connectionString: database.url })
      yield* Effect.promise(() => holder.connect())
      yield* Effect.addFinalizer(() => Effect.promise(() => holder.end()))
      const erased = yield* http(`${base}/api/users/delete-account`, { method: "DELETE", token, json: { confirm: sub } })
      expect(erased.status).toBe(202)
      yield* Effect.promise(() => holder.query("BEGIN"))
      yield* Effect.promise(() => holder.query("SELECT id FROM users WHERE id = $1 FOR UPDATE", [sub]))
      const { id } = Schema.decodeUnknownSync(Erasure)(erased.body)
      yield* until("the chat to be purged", 30, query<{ n: number }>(database.url, "SELECT count(*)::int AS n FROM chats WHERE id = $1", [chatId]),
        (rows) => rows[0]?.n === 0)
      const midway = yield* query<{ status: string }>(database.url, "SELECT status FROM erasures WHERE id = $1", [id])
      expect(midway).toEqual([{ status: "purging" }])
      if (first.child.pid !== undefined) process.kill(-first.child.pid, "SIGKILL")
      expect((yield* Effect.promise(() => first.exited)).signal).toBe("SIGKILL")
      yield* Effect.promise(() => holder.query("ROLLBACK"))

      const secondPort = yield* freePort
      yield* startServer(env(secondPort))
      const again = `http://127.0.0.1:${secondPort}`
      const done = yield* until("the purge to finish after the restart", 60, http(`${again}/api/users/erasures/${id}`, { token }), (reply) =>
        reply.status === 200 && Schema.decodeUnknownSync(Erasure)(reply.body).status === "done")
      expect(Schema.decodeUnknownSync(Erasure)(done.body).counts).toMatchObject({ chats: 1 })
      const left = yield* query<{ users: number; messages: number; jobs: number }>(
        database.url,
        `SELECT (SELECT count(*) FROM users WHERE id = $1)::int AS users,
                (SELECT count(*) FROM messages)::int AS messages,
                (SELECT count(*) FROM jobs WHERE payload::text LIKE '%' || $2 || '%')::int AS jobs`,
        [sub, chatId]
      )
      expect(left).toEqual([{ users: 0, messages: 0, jobs: 0 }])
      expect((yield* query(database.url, "SELECT 1 FROM users WHERE id = $1", [`erased:${id}`])).length).toBe(1)
    }), 120_000)
})
