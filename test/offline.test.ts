/**
 * With no network at all: the server on its embedded database, with no key set, and every outgoing
 * socket, DNS lookup and fetch recorded and anything but loopback refused (test/support/networkGuard.mjs,
 * preloaded into the server process). Upload, embedding and questions work end to end, and the process
 * tried to reach nothing but its own database.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { freePort, http, serverEnv, startServer, until } from "./support/serverProcess.js"
import { tokenFor } from "./support/TestApp.js"

const guard = fileURLToPath(new URL("./support/networkGuard.mjs", import.meta.url))

const filler = [
  "did anyone see the match last night",
  "I'm running late, start without me",
  "can you pick up bread on the way home",
  "the cat knocked the plant over again",
  "what time is dinner on Sunday",
  "I finished the book you lent me"
]

/** A fictional two-person export; one message, late in it, says what the boiler repair costs. */
const exportText = (): string => {
  const lines: Array<string> = []
  for (let i = 0; i < 60; i++) {
    const day = String(1 + Math.floor(i / 6)).padStart(2, "0")
    const minute = String((i * 7) % 60).padStart(2, "0")
    const author = i % 2 === 0 ? "Ana Ferreira" : "Bruno Costa"
    const text = i === 41 ? "the boiler guy wants £80 for Tuesday, cash only" : `${filler[i % filler.length]} (${i})`
    lines.push(`${day}/03/2024, 18:${minute} - ${author}: ${text}`)
  }
  return lines.join("\n")
}

const Answer = Schema.Struct({
  answer: Schema.String,
  mode: Schema.String,
  citations: Schema.Array(Schema.Struct({ text: Schema.String }))
})
const Uploaded = Schema.Struct({ id: Schema.String })
const VectorStatus = Schema.Struct({ status: Schema.String })
const Attempt = Schema.parseJson(Schema.Struct({
  kind: Schema.String,
  host: Schema.optional(Schema.String),
  port: Schema.optional(Schema.Number),
  refused: Schema.optional(Schema.Boolean)
}))

layer(Layer.empty, { excludeTestServices: true })("with no network at all", (it) => {
  it.scoped("upload then ask works on the embedded database, reaching nothing but the database", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "chatsight-offline-"))),
        (path) => Effect.sync(() => rmSync(path, { recursive: true, force: true }))
      )
      const log = join(dir, "network.log")
      const port = yield* freePort
      const base = `http://127.0.0.1:${port}`
      const server = yield* startServer({
        ...serverEnv(port),
        DATA_DIR: join(dir, "data"),
        NETWORK_LOG: log,
        NODE_OPTIONS: `--import ${guard}`
      })
      yield* until("the embedded server to answer /health", 120, Effect.promise(() =>
        fetch(`${base}/health`).then((r) => r.ok, () => false)), (ok) => ok).pipe(
          Effect.tapDefect(() => Effect.logError(server.output()))
        )

      const token = yield* tokenFor("offline-user")
      yield* http(`${base}/api/users/store`, { method: "POST", token })
      const form = new FormData()
      form.append("file", new Blob([exportText()]), "WhatsApp Chat with Bruno.txt")
      const uploaded = yield* http(`${base}/api/chats/upload`, { method: "POST", token, body: form })
      expect(uploaded.status).toBe(201)
      const chatId = (yield* Schema.decodeUnknown(Uploaded)(uploaded.body)).id
      yield* until("the chat to be embedded", 120, Effect.flatMap(
        http(`${base}/api/chats/${chatId}/vector-status`, { token }),
        (reply) => Schema.decodeUnknown(VectorStatus)(reply.body)
      ), (status) => status.status === "ready")

      const ask = (question: string) =>
        Effect.flatMap(
          http(`${base}/api/rag/query`, { method: "POST", token, json: { chat_id: chatId, question } }),
          (reply) => {
            expect(reply.status).toBe(200)
            return Schema.decodeUnknown(Answer)(reply.body)
          }
        )
      // Worded unlike the message: no content word in common.
      const paraphrase = yield* ask("what's the price for fixing the heater?")
      expect(paraphrase.mode.startsWith("offline"), JSON.stringify(paraphrase)).toBe(true)
      expect(paraphrase.citations.map((c) => c.text), JSON.stringify(paraphrase)).toContain("the boiler guy wants £80 for Tuesday, cash only")
      const count = yield* ask("how many messages did Ana send?")
      expect(count.mode).toBe("exact")
      expect(count.answer).toContain("30")

      const attempts = readFileSync(log, "utf8").trim().split("\n").filter((line) => line !== "")
        .map((line) => Schema.decodeUnknownSync(Attempt)(line))
      // Nothing refused: no socket, lookup or fetch to anything but loopback.
      expect(attempts.filter((a) => a.refused === true)).toEqual([])
      // Loopback only, and to one port: the embedded database's.
      const ports = new Set(attempts.filter((a) => a.kind === "tcp").map((a) => a.port))
      expect(ports.size).toBeLessThanOrEqual(1)
      expect(ports.has(port)).toBe(false)
    }), 240_000)
})
