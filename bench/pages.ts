/**
 * `npm run bench:pages [messages]`: the shared page of a 40,000-message chat (by default). First in
 * this process, from the statistics as stored (JSON decoded by the schema, anonymised, every chart
 * drawn, the page written): the time of one render and the page's size, and the preview PNG's. Then
 * through the real server on the local PostgreSQL: upload, share, and GET /s/{chat_id} cold (rendered),
 * warm (from the in-memory cache) and with its ETag (304). Prints the figures; asserts nothing.
 * BENCH_DATABASE_URL names the server (default: the local one); a scratch database is dropped after.
 */
import { gzipSync } from "node:zlib"
import { Schema } from "effect"
import { anonymise } from "../src/Chats.js"
import { ChatStatisticsSchema } from "../src/Domain/Statistics.js"
import { columnSource } from "../src/Ingest/Columns.js"
import { parseChat } from "../src/Ingest/Parser.js"
import { computeStatistics } from "../src/Ingest/Statistics.js"
import { sharedPage } from "../src/Pages/Html.js"
import { previewSvg, rasterise } from "../src/Pages/Preview.js"
import { rhythmChatExport } from "../test/support/rhythmChat.js"
import { admin, type BenchServer, percentile, startBenchServer } from "./support.js"

const out = (line: string) => process.stdout.write(`${line}\n`)
const count = Number(process.argv[2] ?? 40_000)
const runs = 30
const database = `chatsight_bench_pages_${process.pid}`
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`

/** Milliseconds of each of `runs` calls of `f`, sorted. */
const timed = async (f: () => unknown | Promise<unknown>): Promise<ReadonlyArray<number>> => {
  const times: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    await f()
    times.push(performance.now() - started)
  }
  return times.sort((a, b) => a - b)
}

const describe = (times: ReadonlyArray<number>) =>
  `p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms, max ${(times[times.length - 1] ?? 0).toFixed(1)} ms`

const inProcess = async (text: string) => {
  out(`== In process: render from stored statistics (${runs} runs) ==`)
  const parsed = parseChat(text)
  if (parsed._tag !== "Parsed") throw new Error("the generated chat did not parse")
  const stored = JSON.stringify(computeStatistics(columnSource(parsed.chat.columns)))
  const decode = Schema.decodeUnknownSync(ChatStatisticsSchema)
  const meta = { id: "00000000-0000-4000-8000-000000000000", message_count: count, participant_count: 3, first_message_at: null, last_message_at: null }
  let html = ""
  // What a view that misses the cache does: the stored JSON decoded, anonymised, every chart drawn.
  const render = () => {
    html = sharedPage({ ...meta, statistics: anonymise(decode(JSON.parse(stored))) }, "https://chatsight.example")
  }
  render()
  out(`stored statistics: ${kb(stored.length)}`)
  out(`page render: ${describe(await timed(render))}`)
  out(`page size: ${kb(Buffer.byteLength(html))} (${kb(gzipSync(html).length)} gzipped)`)
  let png: Uint8Array = new Uint8Array()
  const preview = () => {
    png = rasterise(previewSvg(decode(JSON.parse(stored))))
  }
  out(`preview render: ${describe(await timed(preview))}, ${kb(png.length)}`)
}

const throughServer = async (text: string) => {
  out(`\n== Through the server: GET /s/{chat_id} of a ${count.toLocaleString("en")}-message chat ==`)
  let server: BenchServer | undefined
  try {
    server = await startBenchServer({ database, env: { RATE_LIMITS: "false" } })
    const { base } = server
    const auth = { authorization: `Bearer ${server.token}` }
    const form = new FormData()
    form.append("file", new Blob([text]), "chat.txt")
    const uploaded = await fetch(`${base}/api/chats/upload`, { method: "POST", headers: auth, body: form })
    const chat = Schema.decodeUnknownSync(Schema.Struct({ id: Schema.String, message_count: Schema.Number }))(await uploaded.json())
    await fetch(`${base}/api/chats/${chat.id}/sharing`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ enabled: true })
    })
    out(`stored: ${chat.message_count.toLocaleString("en")} messages`)
    const page = `${base}/s/${chat.id}`
    const get = async (headers: Record<string, string> = {}) => {
      const response = await fetch(page, { headers })
      const body = await response.arrayBuffer()
      return { status: response.status, etag: response.headers.get("etag") ?? "", bytes: body.byteLength }
    }
    const started = performance.now()
    const first = await get()
    out(`first view (rendered): HTTP ${first.status}, ${(performance.now() - started).toFixed(1)} ms, ${kb(first.bytes)}`)
    out(`later views (cached): ${describe(await timed(() => get()))}`)
    out(`with its ETag (304): ${describe(await timed(() => get({ "if-none-match": first.etag })))}`)
    // A rename changes the ETag: the next view renders again.
    let renders: Array<number> = []
    for (let i = 0; i < 10; i++) {
      await fetch(`${base}/api/chats/${chat.id}/display-name`, {
        method: "PUT",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ display_name: `Bench ${i}` })
      })
      const t = performance.now()
      await get()
      renders.push(performance.now() - t)
    }
    renders = renders.sort((a, b) => a - b)
    out(`views after a change (rendered again, 10 runs): ${describe(renders)}`)
    const previewStarted = performance.now()
    const preview = await fetch(`${page}/preview.png`)
    const png = await preview.arrayBuffer()
    out(`preview (rendered): HTTP ${preview.status}, ${(performance.now() - previewStarted).toFixed(1)} ms, ${kb(png.byteLength)}`)
  } finally {
    await server?.stop()
    await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
  }
}

const main = async () => {
  const text = rhythmChatExport(count)
  await inProcess(text)
  await throughServer(text)
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exit(1)
})
