/**
 * `npm run bench:ingest [messages]`: the ingestion benchmark. First the parser against
 * whatsapp-chat-parser (bench/ingest-parse.ts, each in its own process), then the end-to-end upload of
 * the same size of export into the local PostgreSQL through the real server, while another client
 * polls GET /health to show the server keeps answering; then, as the floor the upload is measured
 * against, a raw COPY of the very rows it stored into a scratch table shaped like `messages` (same
 * indexes and constraints). Prints the figures and the ratio; asserts nothing.
 * BENCH_DATABASE_URL names the server (default: the local one); a scratch database is dropped after.
 */
import { spawnSync } from "node:child_process"
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { pipeline } from "node:stream/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Pg from "pg"
import { from as copyFrom, to as copyTo } from "pg-copy-streams"
import { admin, adminUrl, type BenchServer, percentile, startBenchServer, withDatabase } from "./support.js"

const out = (line: string) => process.stdout.write(`${line}\n`)
const count = Number(process.argv[2] ?? 1_000_000)
const database = `chatsight_bench_ingest_${process.pid}`

const messageColumns = "chat_id, seq, sent_at_local, sent_at, author, text, kind, media_kind, file_name, event"

/**
 * The floor: the rows the upload stored, written out with COPY TO, then timed going back in with COPY
 * FROM STDIN from this process into a scratch table with the same columns, indexes and constraints
 * (LIKE copies all but the foreign key, added by hand), in one transaction like the upload's.
 */
const rawCopy = async (client: Pg.Client, file: string, chat: string): Promise<number> => {
  await pipeline(
    client.query(copyTo(`COPY (SELECT ${messageColumns} FROM messages WHERE chat_id = ${chat} ORDER BY seq) TO STDOUT`)),
    createWriteStream(file)
  )
  await client.query("CREATE TABLE messages_raw_copy (LIKE messages INCLUDING ALL)")
  await client.query("ALTER TABLE messages_raw_copy ADD FOREIGN KEY (chat_id) REFERENCES chats (id) ON DELETE CASCADE")
  await client.query("CHECKPOINT")
  const started = performance.now()
  await client.query("BEGIN")
  await pipeline(createReadStream(file), client.query(copyFrom(`COPY messages_raw_copy (${messageColumns}) FROM STDIN`)))
  await client.query("COMMIT")
  const seconds = (performance.now() - started) / 1000
  await client.query("DROP TABLE messages_raw_copy")
  return seconds
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

  let server: BenchServer | undefined
  try {
    server = await startBenchServer({
      database,
      env: {
        WORKER_CONCURRENCY: "1",
        ...(process.env.INGEST_INSERT_BATCH === undefined ? {} : { INGEST_INSERT_BATCH: process.env.INGEST_INSERT_BATCH })
      }
    })
    const { base, token } = server

    // The parsing thread starts on a server's first upload (about a second, once): a small upload pays it
    // before the timed one.
    const warmUp = new FormData()
    warmUp.append("file", new Blob(["01/02/2020, 10:00 - Warm Up: hello\n"]), "warm-up.txt")
    await fetch(`${base}/api/chats/upload`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: warmUp })

    const latencies: Array<number> = []
    let uploading = true
    let failed = 0
    const poll = (async () => {
      while (uploading) {
        const started = performance.now()
        // A keep-alive socket the server closes as the next request goes out resets it: counted, not fatal.
        const ok = await fetch(`${base}/health`).then((r) => r.arrayBuffer()).then(() => true, () => false)
        if (ok) latencies.push(performance.now() - started)
        else failed++
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
    // The server would start embedding the chat at once: stopped, it takes no CPU from the raw COPY.
    await server.stop()

    const stored = new Pg.Client({ connectionString: withDatabase(adminUrl, database) })
    await stored.connect()
    // The warm-up chat aside: only the timed upload's rows.
    const benchChat = "(SELECT id FROM chats WHERE source_filename = 'WhatsApp Chat with Bench.txt')"
    const rows = await stored.query(`SELECT count(*)::int AS n FROM messages WHERE chat_id = ${benchChat}`)
    const messages: number = rows.rows[0]?.n ?? 0
    const copySeconds = await rawCopy(stored, join(dir, "messages.copy"), benchChat)
    await stored.end()

    const sorted = [...latencies].sort((a, b) => a - b)
    out(`upload: HTTP ${response.status}, ${seconds.toFixed(1)} s, ${Math.round(messages / seconds).toLocaleString("en")} rows/s, ${messages.toLocaleString("en")} rows stored`)
    out(
      `GET /health during the upload: ${sorted.length} requests, p50 ${percentile(sorted, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted[sorted.length - 1] ?? 0).toFixed(1)} ms` +
        (failed > 0 ? `, ${failed} failed` : "")
    )
    out(`raw COPY of the same ${messages.toLocaleString("en")} rows into a table shaped like messages: ${copySeconds.toFixed(1)} s`)
    out(`upload / raw COPY: ${(seconds / copySeconds).toFixed(2)}x (target at most 1.5x)`)
    if (response.status !== 201) out(`response: ${JSON.stringify(body).slice(0, 500)}`)
  } finally {
    await server?.stop()
    await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  out(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  process.exitCode = 1
})
