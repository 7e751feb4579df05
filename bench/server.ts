/**
 * The service as a benchmark's child process: started with the command `npm start` runs, on loopback,
 * with its own node process found (a launcher may fork it) for /proc readings, its warnings and errors
 * kept for the report, and stopped (SIGTERM, then SIGKILL) when the scope closes.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Data, Effect, Option, Schema } from "effect"
import { freePort as freePortNow, startCommand } from "./support.js"

export class ServerError extends Data.TaggedError("ServerError")<{ readonly message: string }> {}

const root = fileURLToPath(new URL("..", import.meta.url))

/** A port nobody listens on now, on loopback. */
export const freePort = Effect.promise(freePortNow)

/** A log line the server wrote at warning level or above, with when it arrived (bench clock, ms). */
export interface LogLine {
  readonly at: number
  readonly level: string
  readonly text: string
}

export interface Server {
  readonly base: string
  /** The node process that runs the service: the child itself, or its deepest node descendant. */
  readonly pid: number
  readonly child: ChildProcess
  /** How the process ended, if it did, and when (bench clock, ms). */
  readonly exited: () => { readonly code: number | null; readonly signal: string | null; readonly at: number } | undefined
  /** Lines written per level, and the warnings and errors (the first `keep` of them). */
  readonly log: { readonly counts: Record<string, number>; readonly kept: ReadonlyArray<LogLine> }
}

const LogEntry = Schema.parseJson(Schema.Struct({ level: Schema.String }))
const decodeEntry = Schema.decodeUnknownOption(LogEntry)

const parentOf = (pid: string): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]
  } catch {
    return undefined
  }
}

const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
  } catch {
    return []
  }
}

/**
 * The process that runs `src/main.ts` under `pid`: `npm start` may be a shell, or `tsx` forking node,
 * and only the node process's memory is the service's.
 */
export const serviceProcess = (pid: number): number => {
  const all = readdirSync("/proc").filter((name) => /^\d+$/.test(name))
  const children = new Map<string, Array<string>>()
  for (const candidate of all) {
    const parent = parentOf(candidate)
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), candidate])
  }
  let found = pid
  const visit = (current: string) => {
    const argv = commandOf(Number(current))
    if (argv.some((arg) => arg.endsWith("src/main.ts")) && (argv[0] ?? "").endsWith("node")) found = Number(current)
    for (const child of children.get(current) ?? []) visit(child)
  }
  visit(String(pid))
  return found
}

/** Starts the service with `env` and waits until GET /health answers 200; stopped when the scope closes. */
export const startServer = (options: {
  readonly port: number
  readonly env: Record<string, string>
  readonly now: () => number
  readonly keep?: number
}) =>
  Effect.gen(function*() {
    const { prestart, start } = startCommand()
    const path = `${join(root, "node_modules/.bin")}:${process.env.PATH ?? ""}`
    if (prestart !== undefined) {
      const built = spawnSync("/bin/sh", ["-c", prestart], { cwd: root, stdio: "inherit", env: { ...process.env, PATH: path } })
      if (built.status !== 0) return yield* new ServerError({ message: `prestart (${prestart}) failed` })
    }
    const counts: Record<string, number> = {}
    const kept: Array<LogLine> = []
    const keep = options.keep ?? 5000
    let ended: { code: number | null; signal: string | null; at: number } | undefined
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        // `exec`, so that the child is the service (or its launcher) and signals reach it directly.
        const spawned = spawn("/bin/sh", ["-c", `exec ${start}`], {
          cwd: root,
          env: { ...options.env, PATH: path },
          stdio: ["ignore", "pipe", "pipe"]
        })
        spawned.once("exit", (code, signal) => {
          ended = { code, signal, at: options.now() }
        })
        const lines = (stream: NodeJS.ReadableStream | null, fallback: string) => {
          let rest = ""
          stream?.on("data", (chunk: Buffer) => {
            const parts = (rest + chunk.toString("utf8")).split("\n")
            rest = parts.pop() ?? ""
            for (const text of parts) {
              if (text.length === 0) continue
              const level = Option.match(decodeEntry(text), { onNone: () => fallback, onSome: (entry) => entry.level })
              counts[level] = (counts[level] ?? 0) + 1
              if (level !== "INFO" && level !== "DEBUG" && level !== "TRACE" && kept.length < keep) {
                kept.push({ at: options.now(), level, text: text.slice(0, 2000) })
              }
            }
          })
        }
        lines(spawned.stdout, "STDOUT")
        lines(spawned.stderr, "STDERR")
        return spawned
      }),
      (spawned) =>
        Effect.async<void>((resume) => {
          if (spawned.exitCode !== null || spawned.signalCode !== null) return resume(Effect.void)
          const timer = setTimeout(() => spawned.kill("SIGKILL"), 30_000)
          spawned.once("exit", () => {
            clearTimeout(timer)
            resume(Effect.void)
          })
          spawned.kill("SIGTERM")
        })
    )
    const base = `http://127.0.0.1:${options.port}`
    const healthy = Effect.promise(() => fetch(`${base}/health`).then((r) => r.ok, () => false))
    for (let attempt = 0; ; attempt++) {
      if (ended !== undefined) return yield* new ServerError({ message: `the server exited with code ${ended.code} while starting` })
      if (yield* healthy) break
      if (attempt > 1200) return yield* new ServerError({ message: "the server was not healthy within 120 s" })
      yield* Effect.sleep("100 millis")
    }
    return {
      base,
      pid: serviceProcess(child.pid ?? 0),
      child,
      exited: () => ended,
      log: { counts, kept }
    } satisfies Server
  })
