/**
 * `npm run bench:ingest [messages]`: the ingestion benchmark. First the parser against
 * whatsapp-chat-parser (bench/ingest-parse.ts, each in its own process), then the end-to-end upload of
 * the same size of export into the local PostgreSQL through the real server, while another client
 * polls GET /health to show the server keeps answering. Prints the figures; asserts nothing.
 * BENCH_DATABASE_URL names the server (default: the local one); a scratch database is dropped after.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Redacted } from "effect"
import * as Pg from "pg"
import { signToken } from "../src/Auth.js"
import { admin, adminUrl, freePort, percentile, withDatabase } from "./support.js"

const out = (line: string) => process.stdout.write(`${line}\n`)
const count = Number(process.argv[2] ?? 1_000_000)
const database = `chatsight_bench_ingest_${process.pid}`
const secret = "bench-secret-bench-secret-bench-secret"

const waitForHealth = async (base: string, server: ChildProcess) => {
  for (let i = 0; i < 240; i++) {
    if (server.exitCode !== null) throw new Error(`the server exited with code ${server.exitCode}`)
    const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false)
    if (ok) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error("the server did not become healthy")
}

const main = async () => {
  out(`== Parser: ours vs whatsapp-chat-parser, ${count.toLocaleString("en")} messages ==`)
  spawnSync(process.execPath, ["--import", "tsx", "bench/ingest-parse.ts", String(count)], { stdio: "inherit" })

  out(`\n== End to end: upload of ${count.toLocaleString("en")} messages into PostgreSQL ==`)
  const dir = mkdtempSync(join(tmpdir(), "chatsight-ingest-"))
  const file = join(dir, "WhatsApp Chat with Bench.txt")
  spawnSync(process.execPath, ["--import", "tsx", "bench/ingest-parse.ts", "--generate", file, String(count)], {
    stdio: "inherit"
  })
  const bytes = readFileSync(file)
  out(`export: ${(statSync(file).size / 1024 / 1024).toFixed(1)} MB`)

  await admin(`CREATE DATABASE "${database}"`)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: withDatabase(adminUrl, database),
      AUTH_JWT_SECRET: secret,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      WORKER_CONCURRENCY: "1",
      ...(process.env.INGEST_INSERT_BATCH === undefined ? {} : { INGEST_INSERT_BATCH: process.env.INGEST_INSERT_BATCH })
    },
    stdio: ["ignore", process.env.BENCH_LOG_LEVEL === undefined ? "ignore" : "inherit", "inherit"]
  })
  try {
    await waitForHealth(base, server)
    const token = await Effect.runPromise(
      signToken(Redacted.make(secret), { sub: "bench-user" }, { issuer: "chatsight-dev", audience: "chatsight" })
    )
    await fetch(`${base}/api/users/store`, { method: "POST", headers: { authorization: `Bearer ${token}` } })

    const latencies: Array<number> = []
    let uploading = true
    const poll = (async () => {
      while (uploading) {
        const started = performance.now()
        await fetch(`${base}/health`).then((r) => r.arrayBuffer())
        latencies.push(performance.now() - started)
        await new Promise((r) => setTimeout(r, 20))
      }
    })()

    const form = new FormData()
    form.append("file", new Blob([bytes]), "WhatsApp Chat with Bench.txt")
    const started = performance.now()
    const response = await fetch(`${base}/api/chats/upload`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: form
    })
    const body: unknown = await response.json()
    const seconds = (performance.now() - started) / 1000
    uploading = false
    await poll

    const stored = await new Pg.Client({ connectionString: withDatabase(adminUrl, database) })
    await stored.connect()
    const rows = await stored.query("SELECT count(*)::int AS n FROM messages")
    await stored.end()
    const messages: number = rows.rows[0]?.n ?? 0

    const sorted = [...latencies].sort((a, b) => a - b)
    out(`upload: HTTP ${response.status}, ${seconds.toFixed(1)} s, ${Math.round(messages / seconds).toLocaleString("en")} rows/s, ${messages.toLocaleString("en")} rows stored`)
    out(
      `GET /health during the upload: ${sorted.length} requests, p50 ${percentile(sorted, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted[sorted.length - 1] ?? 0).toFixed(1)} ms`
    )
    if (response.status !== 201) out(`response: ${JSON.stringify(body).slice(0, 500)}`)
  } finally {
    server.kill("SIGTERM")
    await new Promise((r) => server.once("exit", r))
    await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  out(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  process.exitCode = 1
})
