/**
 * `npm run bench:soak [seconds]`: a mixed workload (uploads, chat lists, message pages, questions,
 * balance reads) against the real server for 10 minutes (or `seconds`), with PostgreSQL stopped and
 * started again at the middle. The database is a throwaway cluster of its own (bench/cluster.ts), never
 * the machine's shared server. Prints per-route latency and statuses, 5xx inside and outside the
 * outage, recovery, the server's RSS trend and the pool's peaks, and one verdict per criterion.
 *
 * Options: --vus N (virtual users at once, 8), --users N (accounts, 4), --outage S (seconds PostgreSQL
 * stays down, 5), --grace S (after the first success, still the outage, 5), --upload-every S (3),
 * --drain S (wait for background jobs afterwards, 60). PG_BIN (default /usr/lib/postgresql/15/bin),
 * PG_OS_USER (postgres; used when run as root), SOAK_LOG_LEVEL (the server's, default warn).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Fiber, Option, Redacted, Schema } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { signToken } from "../src/Auth.js"
import { throwawayCluster } from "./cluster.js"
import { freePort, serviceProcess, startServer } from "./server.js"
import { type Account, call, type Plan, Recorder, upload, type UploadBudget, virtualUser } from "./soak-load.js"
import { type HealthSample, type PoolSample, report, type RssSample } from "./soak-report.js"
import { memoryOf } from "./support.js"

const secret = "soak-secret-soak-secret-soak-secret"

const options = (() => {
  const flags = new Map<string, number>()
  let seconds = 600
  const args = process.argv.slice(2)
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg.startsWith("--")) flags.set(arg.slice(2), Number(args[++i]))
    else seconds = Number(arg)
  }
  const flag = (name: string, fallback: number) => {
    const value = flags.get(name) ?? fallback
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number >= 0`)
    return value
  }
  if (!Number.isFinite(seconds) || seconds < 20) throw new Error("the duration must be at least 20 seconds")
  return {
    seconds,
    vus: Math.max(1, flag("vus", 8)),
    users: Math.max(1, flag("users", 4)),
    outageMs: flag("outage", 5) * 1000,
    graceMs: flag("grace", 5) * 1000,
    uploadEveryMs: Math.max(100, flag("upload-every", 3) * 1000),
    drainMs: flag("drain", 60) * 1000
  }
})()

const PoolStats = Schema.Struct({
  max: Schema.Int,
  total: Schema.Int,
  in_use: Schema.Int,
  waiting: Schema.Int
})
const Backlog = Schema.Struct({
  checks: Schema.Struct({
    worker: Schema.Struct({
      backlog: Schema.NullOr(Schema.Struct({ due: Schema.Int, running: Schema.Int, failed: Schema.Int }))
    })
  })
})
const ChatList = Schema.Struct({
  data: Schema.Array(Schema.Struct({ id: Schema.String })),
  has_more: Schema.Boolean,
  next_cursor: Schema.NullOr(Schema.String)
})
const VectorState = Schema.Struct({ status: Schema.String })
const decode = <A, I>(schema: Schema.Schema<A, I>, body: unknown) => Schema.decodeUnknownOption(schema)(body)

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`

const soak = Effect.gen(function*() {
  const durationMs = options.seconds * 1000
  const warmupMs = Math.min(60_000, durationMs * 0.2)
  yield* Console.log(
    `== Soak: ${options.seconds} s, ${options.vus} virtual users over ${options.users} accounts, PostgreSQL ` +
      `stopped for ${options.outageMs / 1000} s at the middle ==`
  )

  const pgPort = yield* freePort
  const cluster = yield* throwawayCluster({
    bin: process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin",
    osUser: process.env.PG_OS_USER ?? "postgres",
    port: pgPort
  })
  yield* Effect.addFinalizer(() => Console.log(`throwaway cluster on port ${pgPort} stopped and removed`))
  yield* cluster.admin("CREATE DATABASE chatsight")
  yield* Console.log(`throwaway PostgreSQL cluster on 127.0.0.1:${pgPort} in ${cluster.directory}`)

  const dataDir = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "chatsight-soak-data-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )
  const recorder = new Recorder()
  const port = yield* freePort
  const passthrough = ["HOME", "LANG", "TMPDIR"].flatMap((name) => {
    const value = process.env[name]
    return value === undefined ? [] : [[name, value] as const]
  })
  const server = yield* startServer({
    port,
    now: recorder.now,
    env: {
      ...Object.fromEntries(passthrough),
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: cluster.url("chatsight"),
      AUTH_JWT_SECRET: secret,
      RATE_LIMITS: "false",
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.SOAK_LOG_LEVEL ?? "warn"
    }
  })
  yield* Console.log(`server healthy at ${server.base} after ${s(recorder.now())}; service process ${server.pid}`)

  // Accounts, each with one chat to start from; this happens during the warm-up.
  const accounts: Array<Account> = []
  for (let i = 0; i < options.users; i++) {
    const token = yield* signToken(Redacted.make(secret), { sub: `soak-user-${i}`, email: `soak${i}@example.com` }, {
      issuer: "chatsight-dev",
      audience: "chatsight",
      expiresIn: "12h"
    })
    const account: Account = { token, chats: [] }
    yield* call(recorder, "POST /api/users/store", `${server.base}/api/users/store`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` }
    })
    accounts.push(account)
  }
  const until = durationMs
  const plan: Plan = {
    base: server.base,
    accounts,
    until,
    uploadEveryMs: options.uploadEveryMs,
    smallMessages: 200,
    mediumMessages: 3000,
    mediumEvery: 5,
    tag: `${process.pid}-${Date.now()}`
  }
  const budget: UploadBudget = { started: 0 }
  yield* Effect.forEach(accounts, (account) => upload(recorder, plan, account, budget), { concurrency: 2 })

  // Probes: memory every 2 s, pool and health every second, a progress line now and then.
  const rss: Array<RssSample> = []
  const pool: Array<PoolSample> = []
  const health: Array<HealthSample> = []
  const sampleMemory = Effect.gen(function*() {
    while (true) {
      const reading = yield* Effect.option(Effect.try(() => memoryOf(server.pid)))
      if (Option.isSome(reading)) rss.push({ at: recorder.now(), mb: reading.value.rssMb, peakMb: reading.value.peakMb })
      yield* Effect.sleep("2 seconds")
    }
  })
  const samplePool = Effect.gen(function*() {
    while (true) {
      const at = recorder.now()
      const [stats, checked] = yield* Effect.all([
        call(recorder, "GET /health/db-pool", `${server.base}/health/db-pool`, {}, 5000),
        call(recorder, "GET /health", `${server.base}/health`, {}, 5000)
      ], { concurrency: 2 })
      Option.map(decode(PoolStats, stats.body), (p) => pool.push({ at, ...p }))
      health.push({ at, status: checked.status })
      yield* Effect.sleep("1 second")
    }
  })
  const progressEvery = Math.max(10_000, Math.round(durationMs / 20 / 1000) * 1000)
  const progress = Effect.gen(function*() {
    while (true) {
      yield* Effect.sleep(progressEvery)
      const calls = recorder.calls.filter((c) => !c.route.startsWith("GET /health"))
      const failures = calls.filter((c) => c.status >= 500 || c.status === 0).length
      const lastPool = pool[pool.length - 1]
      yield* Console.log(
        `t=${s(recorder.now()).padStart(7)}  ${String(calls.length).padStart(6)} calls  ${String(failures).padStart(4)} 5xx/none  ` +
          `rss ${(rss[rss.length - 1]?.mb ?? 0).toFixed(0)} MB  pool in_use ${lastPool?.in_use ?? "?"}/${lastPool?.max ?? "?"} ` +
          `waiting ${lastPool?.waiting ?? "?"}  uploads ${budget.started}`
      )
    }
  })
  const probes = yield* Effect.all([sampleMemory, samplePool, progress], { concurrency: 3 }).pipe(Effect.fork)

  // The restart, at the middle.
  let stopAt: number | undefined
  let upAt: number | undefined
  const restart = Effect.gen(function*() {
    yield* Effect.sleep(Math.max(0, durationMs / 2 - recorder.now()))
    stopAt = recorder.now()
    yield* Console.log(`t=${s(stopAt).padStart(7)}  stopping PostgreSQL (pg_ctl stop -m fast)`)
    yield* cluster.stop
    yield* Console.log(`t=${s(recorder.now()).padStart(7)}  PostgreSQL stopped; starting it again in ${s(options.outageMs)}`)
    yield* Effect.sleep(options.outageMs)
    yield* cluster.start
    upAt = recorder.now()
    yield* Console.log(`t=${s(upAt).padStart(7)}  PostgreSQL accepts connections again`)
  }).pipe(Effect.catchAll((error) => Console.log(`the restart failed: ${error.message}`)))
  const restarting = yield* Effect.fork(restart)

  yield* Effect.forEach(
    Array.from({ length: options.vus }, (_, i) => i),
    (i) => virtualUser(recorder, plan, i, budget),
    { concurrency: "unbounded" }
  )
  yield* Fiber.join(restarting)
  yield* Fiber.interrupt(probes)
  yield* Console.log(`t=${s(recorder.now()).padStart(7)}  load stopped; ${budget.started} uploads in all`)

  // Background work after the outage: the queued jobs drain, and every chat's embedding ends.
  const after = new Recorder()
  const drainStarted = after.now()
  let backlog: { readonly due: number; readonly running: number; readonly failed: number } | null = null
  while (after.now() - drainStarted < options.drainMs) {
    const answer = yield* call(after, "GET /health", `${server.base}/health`, {}, 5000)
    backlog = Option.getOrNull(Option.flatMap(decode(Backlog, answer.body), (b) => Option.fromNullable(b.checks.worker.backlog)))
    if (backlog !== null && backlog.due + backlog.running === 0) break
    yield* Effect.sleep("2 seconds")
  }
  const drainedAt = after.now()
  const embeddings: Record<string, number> = {}
  for (const account of accounts) {
    let cursor: string | null = null
    do {
      const query: string = cursor === null ? "" : `&starting_after=${encodeURIComponent(cursor)}`
      const page = yield* call(after, "GET /api/chats", `${server.base}/api/chats?limit=100${query}`, {
        headers: { authorization: `Bearer ${account.token}` }
      })
      const list = decode(ChatList, page.body)
      if (Option.isNone(list)) break
      for (const chat of list.value.data) {
        const state = yield* call(after, "vector-status", `${server.base}/api/chats/${chat.id}/vector-status`, {
          headers: { authorization: `Bearer ${account.token}` }
        })
        const status = Option.match(decode(VectorState, state.body), { onNone: () => `HTTP ${state.status}`, onSome: (v) => v.status })
        embeddings[status] = (embeddings[status] ?? 0) + 1
      }
      cursor = list.value.has_more ? list.value.next_cursor : null
    } while (cursor !== null)
  }
  const finalHealth = yield* call(after, "GET /health", `${server.base}/health`, {}, 5000)

  const { lines, verdicts } = report({
    calls: recorder.calls,
    rss,
    pool,
    health,
    stopAt,
    upAt,
    until,
    warmupMs,
    graceMs: options.graceMs,
    background: { backlog, waitedMs: drainedAt - drainStarted, embeddings },
    server: {
      pid: server.pid,
      pidAtEnd: serviceProcess(server.child.pid ?? 0),
      exited: server.exited(),
      healthAtEnd: finalHealth.status,
      logCounts: server.log.counts,
      logKept: server.log.kept
    }
  })
  yield* Console.log("")
  for (const line of lines) yield* Console.log(line)
  yield* Console.log("")
  yield* Console.log("== Verdicts ==")
  for (const verdict of verdicts) {
    yield* Console.log(`${verdict.pass ? "PASS" : "FAIL"}  ${verdict.criterion.padEnd(30)} ${verdict.detail}`)
  }
})

NodeRuntime.runMain(
  Effect.scoped(soak).pipe(
    Effect.catchAll((error) =>
      Effect.flatMap(Console.error(`soak failed: ${error.message}`), () => Effect.sync(() => (process.exitCode = 1)))
    )
  )
)
