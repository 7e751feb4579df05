/** What the benchmarks share: the server they run on, a scratch database dropped afterwards, percentiles. */
import { Effect, Layer, Redacted } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createServer } from "node:net"
import * as Pg from "pg"
import { signToken } from "../src/Auth.js"
import { DatabaseConfig } from "../src/Config.js"
import * as Pool from "../src/Database/Pool.js"

/** The PostgreSQL server benchmarks use: BENCH_DATABASE_URL, else the local one. */
export const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

/** The server's URL with another database name. */
export const withDatabase = (url: string, name: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

/** Runs one statement on the server's maintenance database. */
export const admin = async (statement: string) => {
  const client = new Pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await client.query(statement)
  } finally {
    await client.end()
  }
}

/** Creates `database` for the life of `use`, and drops it afterwards, also on failure or interruption. */
export const withScratchDatabase = <A, E, R>(database: string, use: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => admin(`CREATE DATABASE "${database}"`)),
    () => use,
    () => Effect.promise(() => admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`))
  )

/** A pool on `database` of the benchmark server, with the service's pool settings. */
export const scratchPool = (database: string) =>
  Layer.scoped(
    Pool.PgPool,
    Effect.flatMap(DatabaseConfig, (settings) => Pool.postgres(Redacted.make(withDatabase(adminUrl, database)), settings))
  )

/** The value at percentile `p` (nearest rank) of ascending `sorted`. */
export const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

/** A process's resident memory now and its high-water mark, in MiB, from /proc (Linux). */
export const memoryOf = (pid: number): { readonly rssMb: number; readonly peakMb: number } => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) / 1024
  return { rssMb: field("VmRSS"), peakMb: field("VmHWM") }
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc (Linux). */
export const cpuMsOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  // The fields after the command name (which may hold spaces), from the 3rd on: utime is the 14th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

/**
 * The command `npm start` runs (its `prestart` first, if any), as `sh -c "exec …"` so that the child's
 * pid is the server's own (its memory is read from /proc) and signals reach it directly.
 */
export const startCommand = (): { readonly prestart: string | undefined; readonly start: string } => {
  const manifest: unknown = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
  const scripts = typeof manifest === "object" && manifest !== null && "scripts" in manifest ? manifest.scripts : {}
  const script = (name: string): string | undefined => {
    if (typeof scripts !== "object" || scripts === null || !(name in scripts)) return undefined
    const value: unknown = Object.getOwnPropertyDescriptor(scripts, name)?.value
    return typeof value === "string" ? value : undefined
  }
  const start = script("start")
  if (start === undefined) throw new Error("package.json has no start script")
  return { prestart: script("prestart"), start }
}

/** A port nobody listens on now, on loopback: the OS picks one, and it is released at once. */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const benchSecret = "bench-secret-bench-secret-bench-secret"

export interface BenchServer {
  readonly base: string
  readonly child: ChildProcess
  /** A token of the signed-up user "bench-user". */
  readonly token: string
  /** SIGTERM, then its exit; nothing when it has already exited. */
  readonly stop: () => Promise<void>
}

/**
 * The server (`src/main.ts` under tsx) on a free loopback port and the scratch database `database`
 * (created here; the caller drops it), logging at BENCH_LOG_LEVEL (its output shown only when that is
 * set), with `env` on top; answered once healthy, with "bench-user" signed up.
 */
export const startBenchServer = async (input: {
  readonly database: string
  readonly env?: Record<string, string>
}): Promise<BenchServer> => {
  await admin(`CREATE DATABASE "${input.database}"`)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: withDatabase(adminUrl, input.database),
      AUTH_JWT_SECRET: benchSecret,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      ...input.env
    },
    stdio: ["ignore", process.env.BENCH_LOG_LEVEL === undefined ? "ignore" : "inherit", "inherit"]
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once("exit", r))
    child.kill("SIGTERM")
    await exited
  }
  try {
    let healthy = false
    for (let i = 0; i < 240 && !healthy; i++) {
      if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`)
      healthy = await fetch(`${base}/health`).then((r) => r.ok, () => false)
      if (!healthy) await new Promise((r) => setTimeout(r, 250))
    }
    if (!healthy) throw new Error("the server did not become healthy")
    const token = await Effect.runPromise(
      signToken(Redacted.make(benchSecret), { sub: "bench-user" }, { issuer: "chatsight-dev", audience: "chatsight" })
    )
    await fetch(`${base}/api/users/store`, { method: "POST", headers: { authorization: `Bearer ${token}` } })
    return { base, child, token, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
