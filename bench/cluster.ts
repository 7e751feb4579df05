/**
 * A throwaway PostgreSQL cluster for benchmarks that stop and start their database, so that the
 * machine's shared server is never touched: initdb in a temporary directory, its own port on loopback,
 * trust auth; stopped and deleted when its scope closes (also on failure or Ctrl-C).
 */
import { spawn } from "node:child_process"
import { appendFileSync, chownSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Data, Effect } from "effect"
import * as Pg from "pg"

export class ClusterError extends Data.TaggedError("ClusterError")<{
  readonly step: string
  readonly detail: string
}> {
  override get message() {
    return `PostgreSQL ${this.step} failed: ${this.detail}`
  }
}

export interface ClusterOptions {
  /** Where initdb, pg_ctl and postgres live. */
  readonly bin: string
  /** The account the server runs as when this process is root (PostgreSQL refuses to run as root). */
  readonly osUser: string
  readonly port: number
}

export interface Cluster {
  readonly port: number
  readonly directory: string
  /** A connection URL for `database` on this cluster (user postgres, trust auth). */
  readonly url: (database: string) => string
  /** `pg_ctl stop -m fast`: sessions are terminated, in-flight statements fail. */
  readonly stop: Effect.Effect<void, ClusterError>
  /** `pg_ctl start`, returning once the server accepts connections. */
  readonly start: Effect.Effect<void, ClusterError>
  /** Runs one statement on the `postgres` database. */
  readonly admin: (statement: string) => Effect.Effect<void, ClusterError>
}

interface Outcome {
  readonly code: number | null
  readonly output: string
}

/** Runs a command to its end without blocking the event loop (the load keeps running meanwhile). */
const run = (command: string, args: ReadonlyArray<string>) =>
  Effect.async<Outcome>((resume) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-4000)
    }
    child.stdout.on("data", collect)
    child.stderr.on("data", collect)
    child.once("error", (error) => resume(Effect.succeed({ code: -1, output: `${output}${error.message}` })))
    // "exit", not "close": the postmaster pg_ctl forks could keep inherited pipes open.
    child.once("exit", (code) => resume(Effect.succeed({ code, output })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const idOf = (osUser: string, field: 2 | 3): number | undefined => {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((entry) => entry.startsWith(`${osUser}:`))
  const value = line?.split(":")[field]
  return value === undefined ? undefined : Number(value)
}

const tail = (file: string) => {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-15).join("\n")
  } catch {
    return "(no log)"
  }
}

/** Creates, starts and (when the scope closes) stops and deletes a cluster. */
export const throwawayCluster = (options: ClusterOptions) =>
  Effect.gen(function*() {
    const root = process.getuid?.() === 0
    const uid = root ? idOf(options.osUser, 2) : undefined
    const gid = root ? idOf(options.osUser, 3) : undefined
    if (root && (uid === undefined || gid === undefined)) {
      return yield* new ClusterError({ step: "setup", detail: `no OS user ${options.osUser} to run PostgreSQL as` })
    }
    const asServerUser = (tool: string, args: ReadonlyArray<string>) =>
      root
        ? run("runuser", ["-u", options.osUser, "--", join(options.bin, tool), ...args])
        : run(join(options.bin, tool), args)

    const directory = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const made = mkdtempSync(join(tmpdir(), "chatsight-soak-pg-"))
        if (uid !== undefined && gid !== undefined) chownSync(made, uid, gid)
        return made
      }),
      (made) => Effect.sync(() => rmSync(made, { recursive: true, force: true }))
    )
    const data = join(directory, "data")
    const log = join(directory, "postgres.log")
    const step = (name: string, tool: string, args: ReadonlyArray<string>) =>
      Effect.flatMap(asServerUser(tool, args), (outcome) =>
        outcome.code === 0
          ? Effect.void
          : Effect.fail(new ClusterError({ step: name, detail: `${outcome.output.trim()}\n${tail(log)}` })))

    yield* step("initdb", "initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
    // Loopback only; the socket in the cluster's own directory, not the shared server's.
    appendFileSync(
      data + "/postgresql.conf",
      `\nport = ${options.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${directory}'\n`
    )
    const start = step("start", "pg_ctl", ["-D", data, "-l", log, "-w", "-t", "120", "start"])
    const stop = step("stop", "pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "120", "stop"])
    // Registered before the start, so a start that half-succeeds is still stopped.
    yield* Effect.addFinalizer(() => asServerUser("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]))
    yield* start

    const url = (database: string) => `postgres://postgres@127.0.0.1:${options.port}/${database}`
    const admin = (statement: string) =>
      Effect.tryPromise({
        try: async () => {
          const client = new Pg.Client({ connectionString: url("postgres") })
          await client.connect()
          try {
            await client.query(statement)
          } finally {
            await client.end()
          }
        },
        catch: (error) => new ClusterError({ step: statement, detail: error instanceof Error ? error.message : String(error) })
      })
    return { port: options.port, directory, url, stop, start, admin } satisfies Cluster
  })
