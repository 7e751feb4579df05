/**
 * A server killed in the middle of an embedding job (SIGKILL: no shutdown, no hand-back) and started
 * again finishes the job, once its lease has expired, with no duplicate chunks or vectors.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { freePort, query, serverEnv, type ServerProcess, startServer } from "./support/serverProcess.js"
import { needsPostgres, onPostgres, scratchDatabase, tokenFor } from "./support/TestApp.js"

const people = ["Ana Ferreira", "Bruno Costa", "Carla Mendes"]
const topics = [
  "the flat in Porto and the lease we signed",
  "Biscuit the dog and his vet appointment",
  "the shed key and the garden tools",
  "train tickets for the weekend trip",
  "the new job and the first week there",
  "a recipe for lentil soup with cumin"
]

/** A fictional export of `count` messages in conversations separated by silences of two hours. */
const exportOf = (count: number): string => {
  const lines: Array<string> = []
  let minutes = 0
  for (let i = 0; i < count; i++) {
    minutes += i % 12 === 11 ? 120 : 3
    const at = new Date(Date.UTC(2023, 0, 1) + minutes * 60_000)
    const stamp = `${String(at.getUTCDate()).padStart(2, "0")}/${String(at.getUTCMonth() + 1).padStart(2, "0")}/${at.getUTCFullYear()}, ` +
      `${String(at.getUTCHours()).padStart(2, "0")}:${String(at.getUTCMinutes()).padStart(2, "0")}`
    lines.push(`${stamp} - ${people[i % 3]}: message ${i} about ${topics[(i >> 4) % topics.length]}`)
  }
  return lines.join("\n")
}

const json = (url: string, init: { readonly method?: string; readonly token: string; readonly body?: FormData }) =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${init.token}` },
      ...(init.body === undefined ? {} : { body: init.body })
    })
    const body: unknown = await response.json()
    return { status: response.status, body }
  })

const VectorStatus = Schema.Struct({ status: Schema.String, done: Schema.Number, total: Schema.Number })
const Uploaded = Schema.Struct({ id: Schema.String })

const vectorStatus = (base: string, token: string, chatId: string) =>
  Effect.flatMap(json(`${base}/api/chats/${chatId}/vector-status`, { token }), (reply) =>
    Schema.decodeUnknown(VectorStatus)(reply.body)).pipe(Effect.orDie)

const kill = (server: ServerProcess) =>
  Effect.promise(async () => {
    if (server.child.pid !== undefined) process.kill(-server.child.pid, "SIGKILL")
    await server.exited
  })

const untilHealthy = (base: string, server: ServerProcess) =>
  Effect.promise(async () => {
    for (let i = 0; i < 600; i++) {
      if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`the server did not become healthy:\n${server.output()}`)
  })

layer(Layer.empty, { excludeTestServices: true })("a server killed while embedding", (it) => {
  it.effect.skipIf(!onPostgres)(
    `finishes the job after a restart with no duplicate chunks or vectors (${needsPostgres})`,
    () =>
      Effect.gen(function*() {
        const { url } = yield* scratchDatabase({ fromTemplate: false })
        const port = yield* freePort
        const base = `http://127.0.0.1:${port}`
        const env = {
          ...serverEnv(port, url),
          WORKER_LEASE: "3 seconds",
          WORKER_POLL_INTERVAL: "200 millis"
        }
        const token = yield* tokenFor("restart-user")

        const first = yield* startServer(env)
        yield* untilHealthy(base, first)
        yield* json(`${base}/api/users/store`, { method: "POST", token })
        const form = new FormData()
        // About 250 chunks: the offline embedder (USE-lite, tens of chunks a second) takes seconds over them.
        form.append("file", new Blob([exportOf(3_000)]), "WhatsApp Chat with Porto.txt")
        const uploaded = yield* json(`${base}/api/chats/upload`, { method: "POST", token, body: form })
        expect(uploaded.status).toBe(201)
        const chatId = (yield* Schema.decodeUnknown(Uploaded)(uploaded.body)).id

        // Kill it once some vectors are stored and some are not.
        let seen: typeof VectorStatus.Type = { status: "pending", done: 0, total: 0 }
        for (let i = 0; i < 600 && !(seen.done > 0 && seen.done < seen.total); i++) {
          seen = yield* vectorStatus(base, token, chatId)
          if (seen.status === "ready") break
          yield* Effect.sleep("20 millis")
        }
        expect(seen.status, "the job finished before it could be interrupted").toBe("indexing")
        yield* kill(first)
        const [interrupted] = yield* query(url, `SELECT count(*)::int AS embedded FROM chunks WHERE embedded_at IS NOT NULL`)
        expect(Number(interrupted?.embedded)).toBeLessThan(seen.total)

        const second = yield* startServer(env)
        yield* untilHealthy(base, second)
        let status = yield* vectorStatus(base, token, chatId)
        for (let i = 0; i < 600 && status.status !== "ready"; i++) {
          yield* Effect.sleep("100 millis")
          status = yield* vectorStatus(base, token, chatId)
        }
        expect(status).toMatchObject({ status: "ready" })
        expect(status.done).toBe(status.total)

        const [chunks] = yield* query(
          url,
          `SELECT count(*)::int AS rows, count(DISTINCT seq)::int AS seqs,
                  count(*) FILTER (WHERE embedding IS NOT NULL AND embedded_at IS NOT NULL)::int AS embedded
           FROM chunks WHERE chat_id = '${chatId}'`
        )
        expect(chunks).toEqual({ rows: status.total, seqs: status.total, embedded: status.total })
        const jobs = yield* query(url, `SELECT status, attempts FROM jobs WHERE kind = 'chat.embed'`)
        expect(jobs).toHaveLength(1)
        expect(jobs[0]).toMatchObject({ status: "succeeded" })
        expect(Number(jobs[0]?.attempts)).toBeGreaterThanOrEqual(2)
      }).pipe(Effect.scoped),
    120_000
  )
})
