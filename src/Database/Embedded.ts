/**
 * The embedded database: PGlite (with pgvector) on a data directory, served on a loopback port by
 * pglite-socket so that `pg`, and so the same `PgClient` code, runs on it. PGlite is one backend: the
 * pool in front of it holds one connection, so a second transaction waits rather than interleaving.
 */
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { Data, Effect } from "effect"
import { fork } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { pgliteOptions } from "./EmbeddedOptions.js"

export class EmbeddedDatabaseError extends Data.TaggedError("EmbeddedDatabaseError")<{
  readonly message: string
  readonly cause: unknown
}> {}

export { pgliteOptions }

/**
 * Creates the database in a new data directory from a short-lived process. initdb grows PGlite's
 * WebAssembly memory to several hundred megabytes, which an instance keeps for its whole life (WASM
 * memory never shrinks, and a thread's would stay in this process's allocator): the serving instance
 * opens the created directory and stays near the size of any later start.
 */
const initialise = (dataDir: string) =>
  new Promise<void>((resolve, reject) => {
    const typescript = import.meta.url.endsWith(".ts")
    const entry = fileURLToPath(new URL(typescript ? "./EmbeddedInit.ts" : "./EmbeddedInit.js", import.meta.url))
    const child = fork(entry, [dataDir], { execArgv: typescript ? ["--import", "tsx"] : [], stdio: "inherit" })
    child.once("error", reject)
    child.once("exit", (code) => code === 0 ? resolve() : reject(new Error(`initdb exited with code ${code}`)))
  })

/** Opens (creating if needed) a PGlite data directory for the life of the scope, with `shared_buffers` of that size. */
export const openPglite = (dataDir: string, sharedBuffers: string) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        await mkdir(dataDir, { recursive: true })
        if (!existsSync(join(dataDir, "PG_VERSION"))) await initialise(dataDir)
        return PGlite.create({
          dataDir,
          ...pgliteOptions,
          startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${sharedBuffers}`]
        })
      },
      catch: (cause) => new EmbeddedDatabaseError({ message: `Could not open PGlite at ${dataDir}`, cause })
    }),
    (db) => Effect.promise(() => db.close())
  )

/** Serves a PGlite instance on 127.0.0.1 (an OS-chosen port) for the life of the scope. */
export const serve = (db: PGlite) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        // Two sockets so a recycled connection can open before the old one has finished closing.
        const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 2 })
        await server.start()
        const port = Number(server.getServerConn().split(":").pop())
        return { server, host: "127.0.0.1", port }
      },
      catch: (cause) => new EmbeddedDatabaseError({ message: "Could not start the PGlite socket server", cause })
    }),
    ({ server }) => Effect.promise(() => server.stop())
  )
