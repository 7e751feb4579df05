/** The real server as a child process (`src/main.ts`, started as in production), for tests of what
 * only a whole process shows: start-up, signals, a crash. */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import * as Pg from "pg"
import { Effect, Redacted } from "effect"
import { audience, issuer, testSecret } from "./TestApp.js"

const projectRoot = fileURLToPath(new URL("../..", import.meta.url))

/** What every test server process is started with: loopback on `port`, the tests' token settings, and the database. */
export const serverEnv = (port: number, databaseUrl?: string): Record<string, string> => ({
  ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
  HOST: "127.0.0.1",
  PORT: String(port),
  AUTH_JWT_SECRET: Redacted.value(testSecret),
  AUTH_ISSUER: issuer,
  AUTH_AUDIENCE: audience
})

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

/** Runs one statement on the database at `url` with a connection of its own. */
export const query = <A extends Pg.QueryResultRow>(url: string, text: string, values: ReadonlyArray<unknown> = []) =>
  Effect.promise(async () => {
    const db = new Pg.Client({ connectionString: url })
    await db.connect()
    try {
      return (await db.query<A>(text, [...values])).rows
    } finally {
      await db.end()
    }
  })

/** One JSON exchange with the server process; a failure to get any reply is the error. */
export const http = (url: string, init: { readonly method?: string; readonly token: string; readonly body?: FormData; readonly json?: unknown }) =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(url, {
        method: init.method ?? "GET",
        headers: {
          authorization: `Bearer ${init.token}`,
          ...(init.json === undefined ? {} : { "content-type": "application/json" })
        },
        ...(init.json === undefined ? init.body === undefined ? {} : { body: init.body } : { body: JSON.stringify(init.json) })
      })
      const body: unknown = await response.json()
      return { status: response.status, body }
    },
    catch: (error) => error
  })

/** Polls until `done`, every 100 ms, for at most `seconds`; dies with `what` otherwise. */
export const until = <A, E, R>(what: string, seconds: number, probe: Effect.Effect<A, E, R>, done: (a: A) => boolean) =>
  Effect.gen(function*() {
    const deadline = Date.now() + seconds * 1000
    while (Date.now() < deadline) {
      const value = yield* Effect.either(probe)
      if (value._tag === "Right" && done(value.right)) return value.right
      yield* Effect.sleep("100 millis")
    }
    return yield* Effect.dieMessage(`Timed out waiting for ${what}`)
  })
