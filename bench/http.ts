/**
 * `npm run bench:http`: the cost of the HTTP path. The real server (started as `npm start` starts it, on
 * a scratch PostgreSQL database) against a bare `node:http` + `pg` + `jose` baseline doing the same
 * token check and the same SQL, driven in turns (server, baseline, server, ...) by one keep-alive load
 * generator on loopback. Prints req/s, p50/p95/p99, the CPU each process spent per request and the
 * ratios; the server's idle and peak RSS on PostgreSQL and what its first uploads cost (the parsing
 * thread starts with the first); then its idle RSS on embedded PGlite, first and second start. Asserts
 * nothing. Two cores are shared by the generator, both servers and PostgreSQL, so req/s moves with
 * whatever else runs; CPU per request is the steadier figure.
 *
 * Options: --requests N (per round, 10000), --concurrency C (32), --rounds R (3), --upload M (also upload
 * an export of M messages and report the server's peak RSS during it; off by default), --no-embedded.
 * `node --import tsx bench/http.ts --baseline` is the baseline alone (PORT, DATABASE_URL, AUTH_JWT_SECRET).
 * LOG_LEVEL and OTEL_EXPORTER_OTLP_ENDPOINT pass through to the server; BENCH_NODE_ARGS go to its node.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { createHash, webcrypto } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Jose from "jose"
import * as Pg from "pg"

const out = (line: string) => process.stdout.write(`${line}\n`)
const secret = "bench-secret-bench-secret-bench-secret"
const issuer = "chatsight-dev"
const audience = "chatsight"

// ---------------------------------------------------------------------------------------------------
// The baseline: what the balance route does, with nothing around it. It runs the server's SQL: one
// statement reads the account's standing (deleted, or erased after the token was issued) and its balance
// (src/Users/Repo.ts `status`); a subject without a row is looked up among the erasures, as there.

const STANDING_SQL = "SELECT deleted_at IS NOT NULL AS deleted, extract(epoch FROM tokens_issued_after)::float8 AS after, " +
  "credit_balance AS balance FROM users WHERE id = $1"
const ERASED_SQL = "SELECT extract(epoch FROM max(requested_at))::float8 AS after FROM erasures WHERE subject_hash = $1"

const baseline = async () => {
  const pool = new Pg.Pool({ connectionString: process.env.DATABASE_URL, max: 15 })
  // Imported once, as the server does (handing jose the bytes has it import them on every call).
  const key = await webcrypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(process.env.AUTH_JWT_SECRET ?? secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"]
  )
  const send = (response: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body)
    response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
    response.end(text)
  }
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.url !== "/api/credits/balance") return send(response, 404, { error: "not found" })
    const header = request.headers.authorization ?? ""
    const token = header.startsWith("Bearer ") ? header.slice(7) : ""
    let sub: string
    let issuedAt: number | undefined
    try {
      const { payload } = await Jose.jwtVerify(token, key, { issuer, audience, algorithms: ["HS256"] })
      if (typeof payload.sub !== "string" || payload.sub.length === 0) return send(response, 401, { error: "no subject" })
      sub = payload.sub
      issuedAt = payload.iat
    } catch {
      return send(response, 401, { error: "bad token" })
    }
    const before = (after: number | null) => after !== null && (issuedAt === undefined || issuedAt <= after)
    const rows = await pool.query<{ deleted: boolean; after: number | null; balance: number }>(STANDING_SQL, [sub])
    const row = rows.rows[0]
    if (row === undefined) {
      const subjectHash = createHash("sha256").update(sub).digest("hex")
      const erased = await pool.query<{ after: number | null }>(ERASED_SQL, [subjectHash])
      return before(erased.rows[0]?.after ?? null)
        ? send(response, 401, { error: "deleted" })
        : send(response, 404, { error: "no account" })
    }
    if (row.deleted || before(row.after)) return send(response, 401, { error: "deleted" })
    send(response, 200, { user_id: sub, balance: row.balance })
  }
  const server = createServer((request, response) => {
    handle(request, response).catch(() => send(response, 500, { error: "internal" }))
  })
  server.keepAliveTimeout = 60_000
  server.listen(Number(process.env.PORT), "127.0.0.1", () => out("ready"))
  process.on("SIGTERM", () => {
    server.closeAllConnections()
    server.close()
    void pool.end()
  })
}

// ---------------------------------------------------------------------------------------------------
// The load generator: C keep-alive connections, each sending its next request as soon as the previous
// answer has arrived, until N requests have been answered. It writes prepared request bytes and reads
// only the status line and the length of each answer, so that it costs far less CPU than either server
// (they share two cores with it and PostgreSQL).

interface Run {
  readonly seconds: number
  /** CPU time the answering process used during the run, per request (ms). */
  readonly cpuMsPerRequest?: number
  readonly latencies: Float64Array
  readonly statuses: Record<string, number>
}

const HEADER_END = Buffer.from("\r\n\r\n")
const CHUNKED_END = Buffer.from("\r\n0\r\n\r\n")

const drive = (port: number, requests: ReadonlyArray<Buffer>, total: number, concurrency: number): Promise<Run> =>
  new Promise((resolve, reject) => {
    const latencies = new Float64Array(total)
    const statuses: Record<string, number> = {}
    let issued = 0
    let answered = 0
    let open = 0
    const started = performance.now()

    const connection = () => {
      const socket = connect(port, "127.0.0.1")
      socket.setNoDelay(true)
      open++
      let buffered: Buffer = Buffer.alloc(0)
      let current = -1
      let sentAt = 0
      const next = () => {
        if (issued >= total) {
          socket.end()
          return
        }
        current = issued++
        sentAt = performance.now()
        socket.write(requests[current % requests.length]!)
      }
      /** The length of the first complete answer in `buffered`, or -1 while it is incomplete. */
      const complete = (): { readonly length: number; readonly status: number } | undefined => {
        const end = buffered.indexOf(HEADER_END)
        if (end < 0) return undefined
        const head = buffered.subarray(0, end).toString("latin1")
        const status = Number(head.slice(9, 12))
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)
        if (length !== null) {
          const size = end + 4 + Number(length[1])
          return buffered.length >= size ? { length: size, status } : undefined
        }
        if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
          const last = buffered.indexOf(CHUNKED_END, end + 2)
          return last < 0 ? undefined : { length: last + CHUNKED_END.length, status }
        }
        return { length: end + 4, status }
      }
      socket.on("data", (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
        const answer = complete()
        if (answer === undefined) return
        buffered = buffered.subarray(answer.length)
        latencies[current] = performance.now() - sentAt
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1
        answered++
        next()
      })
      socket.on("error", reject)
      socket.on("close", () => {
        open--
        if (open > 0) return
        if (answered < total) reject(new Error(`connections closed after ${answered} of ${total} answers`))
        else resolve({ seconds: (performance.now() - started) / 1000, latencies, statuses })
      })
      socket.on("connect", next)
    }
    for (let i = 0; i < Math.min(concurrency, total); i++) connection()
  })

const requestsFor = (port: number, tokens: ReadonlyArray<string>) =>
  tokens.map((token) =>
    Buffer.from(
      `GET /api/credits/balance HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n` +
        "Connection: keep-alive\r\n\r\n",
      "latin1"
    )
  )

// ---------------------------------------------------------------------------------------------------
// The driver.

const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`)
  return at < 0 ? fallback : Number(process.argv[at + 1])
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const waitFor = async (ready: () => Promise<boolean>, child: ChildProcess, what: string) => {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`)
    if (await ready()) return
    await sleep(100)
  }
  throw new Error(`${what} did not become ready`)
}

const stop = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once("exit", resolve))
  child.kill("SIGTERM")
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
  await exited
  clearTimeout(timer)
}

const environment = (extra: Record<string, string>): Record<string, string> => ({
  ...Object.fromEntries(
    ["PATH", "HOME", "LANG", "TMPDIR"].flatMap((name) => {
      const value = process.env[name]
      return value === undefined ? [] : [[name, value]]
    })
  ),
  ...extra
})

const root = fileURLToPath(new URL("..", import.meta.url))

/**
 * The server as `npm start` starts it; its log lines are read and counted, not shown. BENCH_NODE_ARGS
 * (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) go to its `node`, for flags NODE_OPTIONS refuses.
 */
const startServer = (start: string, env: Record<string, string>) => {
  const nodeArgs = process.env.BENCH_NODE_ARGS
  const command = nodeArgs === undefined ? start : start.replace(/^node /, `node ${nodeArgs} `)
  const child = spawn("/bin/sh", ["-c", `exec ${command}`], {
    cwd: root,
    env: { ...env, PATH: `${join(root, "node_modules/.bin")}:${env.PATH ?? ""}` },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const log = { lines: 0, errors: [] as Array<string> }
  child.stdout?.on("data", (chunk: Buffer) => {
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) log.lines++
  })
  child.stderr?.on("data", (chunk: Buffer) => log.errors.push(chunk.toString("utf8")))
  return { child, log }
}

const healthy = (base: string) => () => fetch(`${base}/health`).then((r) => r.ok, () => false)

const pad = (text: string, width: number) => text.padStart(width)

interface Summary {
  readonly label: string
  readonly requests: number
  readonly seconds: number
  readonly sorted: Array<number>
  readonly statuses: Record<string, number>
  readonly cpuMs: number
}

const summarise = (label: string, runs: ReadonlyArray<Run>, percentile: (s: ReadonlyArray<number>, p: number) => number) => {
  const sorted = runs.flatMap((run) => Array.from(run.latencies)).sort((a, b) => a - b)
  const statuses: Record<string, number> = {}
  for (const run of runs) for (const [status, n] of Object.entries(run.statuses)) statuses[status] = (statuses[status] ?? 0) + n
  const cpu = runs.reduce((sum, run) => sum + (run.cpuMsPerRequest ?? 0) * run.latencies.length, 0)
  const summary: Summary = {
    label,
    requests: sorted.length,
    seconds: runs.reduce((sum, run) => sum + run.seconds, 0),
    sorted,
    statuses,
    cpuMs: cpu / sorted.length
  }
  out(
    `${label.padEnd(10)} ${pad(summary.requests.toLocaleString("en"), 8)} req  ` +
      `${pad((summary.requests / summary.seconds).toFixed(0), 6)} req/s  ` +
      `p50 ${percentile(sorted, 50).toFixed(2)} ms  p95 ${percentile(sorted, 95).toFixed(2)} ms  ` +
      `p99 ${percentile(sorted, 99).toFixed(2)} ms  CPU ${(cpu / sorted.length).toFixed(3)} ms/req  ` +
      `statuses ${JSON.stringify(statuses)}`
  )
  return summary
}

const main = async () => {
  const { admin, adminUrl, cpuMsOf, freePort, memoryOf, percentile, startCommand, withDatabase } = await import("./support.js")
  /** A run against the process `pid`, with the CPU time it spent answering. */
  const measured = async (pid: number, port: number, requests: ReadonlyArray<Buffer>, total: number, concurrency: number) => {
    const cpu = cpuMsOf(pid)
    const run = await drive(port, requests, total, concurrency)
    return { ...run, cpuMsPerRequest: (cpuMsOf(pid) - cpu) / total }
  }
  const { Effect, Redacted } = await import("effect")
  const { signToken } = await import("../src/Auth.js")

  const requests = option("requests", 10_000)
  const concurrency = option("concurrency", 32)
  const rounds = option("rounds", 3)
  const users = option("users", 100)
  const upload = option("upload", 0)
  const { prestart, start } = startCommand()

  out(`== GET /api/credits/balance: the server (\`${start}\`) against a bare node:http + pg + jose baseline ==`)
  out(`${rounds} rounds of ${requests.toLocaleString("en")} requests each, ${concurrency} keep-alive connections, ${users} users`)
  if (prestart !== undefined) {
    out(`prestart: ${prestart}`)
    const built = spawnSync("/bin/sh", ["-c", prestart], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH ?? ""}` }
    })
    if (built.status !== 0) throw new Error("prestart failed")
  }

  const database = `chatsight_bench_http_${process.pid}`
  await admin(`CREATE DATABASE "${database}"`)
  const databaseUrl = withDatabase(adminUrl, database)
  const port = await freePort()
  const basePort = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = startServer(start, environment({
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    AUTH_JWT_SECRET: secret,
    ...(process.env.LOG_LEVEL === undefined ? {} : { LOG_LEVEL: process.env.LOG_LEVEL }),
    ...(process.env.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
      ? {}
      : { OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT })
  }))
  let baselineChild: ChildProcess | undefined
  try {
    const booted = performance.now()
    await waitFor(healthy(base), server.child, "the server")
    out(`server healthy after ${((performance.now() - booted) / 1000).toFixed(1)} s`)
    // Start-up work that finishes after the first healthy answer (the start-up line, the embedding scan) settles.
    await sleep(3000)
    const pid = server.child.pid ?? 0
    const idle = memoryOf(pid)
    out(`server idle RSS on PostgreSQL: ${idle.rssMb.toFixed(0)} MB`)

    const tokens = await Promise.all(
      Array.from({ length: users }, (_, i) =>
        Effect.runPromise(signToken(Redacted.make(secret), { sub: `bench-user-${i}` }, { issuer, audience })))
    )
    for (const token of tokens) {
      const stored = await fetch(`${base}/api/users/store`, { method: "POST", headers: { authorization: `Bearer ${token}` } })
      if (!stored.ok) throw new Error(`POST /api/users/store answered ${stored.status}`)
    }

    baselineChild = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--baseline"], {
      cwd: root,
      env: environment({
        PORT: String(basePort),
        DATABASE_URL: databaseUrl,
        AUTH_JWT_SECRET: secret
      }),
      stdio: ["ignore", "pipe", "inherit"]
    })
    const child = baselineChild
    await waitFor(
      () => fetch(`http://127.0.0.1:${basePort}/api/credits/balance`).then(() => true, () => false),
      child,
      "the baseline"
    )
    out(`baseline idle RSS: ${memoryOf(child.pid ?? 0).rssMb.toFixed(0)} MB`)

    // Both answer the same thing for the same token.
    const [ours, theirs] = await Promise.all(
      [port, basePort].map((p) =>
        fetch(`http://127.0.0.1:${p}/api/credits/balance`, { headers: { authorization: `Bearer ${tokens[0]}` } })
          .then((r) => r.json())
      )
    )
    out(`answers: server ${JSON.stringify(ours)}, baseline ${JSON.stringify(theirs)}`)

    const serverRequests = requestsFor(port, tokens)
    const baselineRequests = requestsFor(basePort, tokens)
    // Warm-up: JIT, pools filled, caches; not counted.
    await drive(port, serverRequests, Math.min(requests, 3000), concurrency)
    await drive(basePort, baselineRequests, Math.min(requests, 3000), concurrency)

    const serverRuns: Array<Run> = []
    const baselineRuns: Array<Run> = []
    for (let round = 1; round <= rounds; round++) {
      const a = await measured(pid, port, serverRequests, requests, concurrency)
      const b = await measured(child.pid ?? 0, basePort, baselineRequests, requests, concurrency)
      serverRuns.push(a)
      baselineRuns.push(b)
      out(
        `round ${round}: server ${pad((requests / a.seconds).toFixed(0), 6)} req/s, baseline ${
          pad((requests / b.seconds).toFixed(0), 6)
        } req/s, ratio ${(b.seconds / a.seconds).toFixed(2)}; CPU per request: server ${
          a.cpuMsPerRequest.toFixed(3)
        } ms, baseline ${b.cpuMsPerRequest.toFixed(3)} ms`
      )
    }
    const s = summarise("server", serverRuns, percentile)
    const b = summarise("baseline", baselineRuns, percentile)
    out(`ratio (server / baseline req/s): ${((s.requests / s.seconds) / (b.requests / b.seconds)).toFixed(2)}`)
    out(`ratio of CPU per request (baseline / server): ${(b.cpuMs / s.cpuMs).toFixed(2)}`)
    const loaded = memoryOf(pid)
    out(`server RSS after the load: ${loaded.rssMb.toFixed(0)} MB (peak so far ${loaded.peakMb.toFixed(0)} MB); ` +
      `${server.log.lines.toLocaleString("en")} log lines written`)

    // The parsing thread starts with the first upload: what that costs the first one, against the next.
    for (const fixture of ["android-24h-group.txt", "android-fr.txt"]) {
      const form = new FormData()
      form.append("file", new Blob([readFileSync(join(root, "test/fixtures/whatsapp", fixture))]), fixture)
      const started = performance.now()
      const answer = await fetch(`${base}/api/chats/upload`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens[1]}` },
        body: form
      })
      await answer.arrayBuffer()
      out(`upload of ${fixture}: HTTP ${answer.status} in ${(performance.now() - started).toFixed(0)} ms`)
    }
    out(`server RSS with its parsing thread started: ${memoryOf(pid).rssMb.toFixed(0)} MB`)

    if (upload > 0) {
      const dir = mkdtempSync(join(tmpdir(), "chatsight-bench-http-"))
      try {
        const file = join(dir, "WhatsApp Chat with Bench.txt")
        spawnSync(process.execPath, ["--import", "tsx", "bench/ingest-parse.ts", "--generate", file, String(upload)], {
          cwd: root,
          stdio: "inherit"
        })
        const form = new FormData()
        form.append("file", new Blob([readFileSync(file)]), "WhatsApp Chat with Bench.txt")
        const before = memoryOf(pid)
        let peak = before.rssMb
        const sampler = setInterval(() => {
          peak = Math.max(peak, memoryOf(pid).rssMb)
        }, 50)
        const started = performance.now()
        const answer = await fetch(`${base}/api/chats/upload`, {
          method: "POST",
          headers: { authorization: `Bearer ${tokens[0]}` },
          body: form
        })
        await answer.arrayBuffer()
        clearInterval(sampler)
        const after = memoryOf(pid)
        out(
          `upload of ${upload.toLocaleString("en")} messages: HTTP ${answer.status} in ${
            ((performance.now() - started) / 1000).toFixed(1)
          } s; server RSS ${before.rssMb.toFixed(0)} MB before, peak ${Math.max(peak, after.peakMb).toFixed(0)} MB ` +
            `(high-water mark), ${after.rssMb.toFixed(0)} MB after`
        )
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  } finally {
    if (baselineChild !== undefined) await stop(baselineChild)
    await stop(server.child)
    if (server.log.errors.length > 0) out(`server stderr: ${server.log.errors.join("").slice(0, 2000)}`)
    await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
  }

  if (process.argv.includes("--no-embedded")) return
  out("\n== Embedded PGlite (no DATABASE_URL, a fresh DATA_DIR) ==")
  const dataDir = mkdtempSync(join(tmpdir(), "chatsight-bench-http-data-"))
  try {
    for (const run of ["first start (new database, migrations)", "second start (existing database)"]) {
      const embeddedPort = await freePort()
      const embedded = startServer(start, environment({ PORT: String(embeddedPort), HOST: "127.0.0.1", DATA_DIR: dataDir }))
      try {
        const booted = performance.now()
        await waitFor(healthy(`http://127.0.0.1:${embeddedPort}`), embedded.child, "the embedded server")
        const seconds = ((performance.now() - booted) / 1000).toFixed(1)
        await sleep(3000)
        const idle = memoryOf(embedded.child.pid ?? 0)
        out(`${run}: healthy after ${seconds} s; idle RSS ${idle.rssMb.toFixed(0)} MB (peak while starting ${idle.peakMb.toFixed(0)} MB)`)
      } finally {
        await stop(embedded.child)
        if (embedded.log.errors.length > 0) out(`server stderr: ${embedded.log.errors.join("").slice(0, 2000)}`)
      }
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (process.argv.includes("--baseline")) void baseline()
else {
  main().catch((error: unknown) => {
    out(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
    process.exitCode = 1
  })
}
