/** The real server as a child process (`src/main.ts`, started as in production), for tests of what
 * only a whole process shows: start-up, signals, a crash. */
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"

const projectRoot = fileURLToPath(new URL("../..", import.meta.url))

/** A port nothing listens on: the OS picks one, and it is released at once. */
export const freePort = Effect.promise(() =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen({ host: "127.0.0.1", port: 0 }, () => {
      const address = probe.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
)

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface ServerProcess {
  readonly child: ChildProcess
  readonly exited: Promise<Exit>
  /** Everything the process wrote to stdout and stderr so far. */
  readonly output: () => string
}

/**
 * Starts `tsx src/main.ts` in a process group of its own (tsx runs the server in a child process and
 * relays signals to it). Its output is kept in memory. Should the test end with it still running,
 * the whole group is killed.
 */
export const startServer = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync((): ServerProcess => {
      const inherited = Object.fromEntries(
        ["PATH", "HOME", "TMPDIR", "LANG"].flatMap((name) => {
          const value = process.env[name]
          return value === undefined ? [] : [[name, value]]
        })
      )
      const child = spawn("node_modules/.bin/tsx", ["src/main.ts"], {
        cwd: projectRoot,
        env: { ...inherited, ...env },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true
      })
      const chunks: Array<string> = []
      child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk.toString("utf8")))
      child.stderr?.on("data", (chunk: Buffer) => chunks.push(chunk.toString("utf8")))
      // "close" comes after "exit", once the output has been read to its end.
      const exited = new Promise<Exit>((resolve) => {
        child.once("close", (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal }))
      })
      return { child, exited, output: () => chunks.join("") }
    }),
    ({ child, exited }) =>
      Effect.promise(async () => {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
          process.kill(-child.pid, "SIGKILL")
          await exited
        }
      })
  )
