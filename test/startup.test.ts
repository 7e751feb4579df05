import { SqlError } from "@effect/sql/SqlError"
import { describe, expect, it } from "@effect/vitest"
import { Cause, ConfigError, Effect } from "effect"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { describeStartupFailure } from "../src/Startup.js"
import { freePort, startServer } from "./support/serverProcess.js"
import { backend, needsPostgres, onPostgres, scratchDatabase } from "./support/TestApp.js"

const run = promisify(execFile)

const pgOnly = (name: string) => onPostgres ? name : `${name} (${needsPostgres})`

/** An error as Node's network and pg layers raise them: a message and a code. */
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code })

/** The one line a failed start prints: the last FATAL line of a JSON log. */
const fatalLine = (output: string) =>
  output.split("\n").filter((line) => line.includes("\"FATAL\"")).map((line) => {
    const parsed: unknown = JSON.parse(line)
    return typeof parsed === "object" && parsed !== null && "message" in parsed ? String(parsed.message) : line
  })

describe("a failed start says what stopped it in one line", () => {
  it("a bad setting names the variable", () => {
    const line = describeStartupFailure(Cause.fail(ConfigError.InvalidData(["WORKER_CONCURRENCY"], "must be at least 1")))
    expect(line).toContain("WORKER_CONCURRENCY")
    expect(line).not.toContain("\n")
  })

  it("a database without pgvector says to install pgvector", () => {
    const cause = Cause.fail(new SqlError({ cause: new Error("extension \"vector\" is not available"), message: "Failed to execute statement" }))
    expect(describeStartupFailure(cause)).toContain("pgvector")
  })

  it("an unreachable database names DATABASE_URL and why", () => {
    const cause = Cause.fail(new SqlError({ cause: withCode("connect ECONNREFUSED 127.0.0.1:5999", "ECONNREFUSED"), message: "Failed to acquire connection" }))
    const line = describeStartupFailure(cause)
    expect(line).toContain("DATABASE_URL")
    expect(line).toContain("nothing listens")
  })

  it("a port in use says to set PORT", () => {
    expect(describeStartupFailure(Cause.die(withCode("listen EADDRINUSE: address already in use", "EADDRINUSE")))).toContain("PORT")
  })
})

describe("production guards", () => {
  it.effect.skipIf(!onPostgres)(
    pgOnly("production without a token configuration refuses to start, saying what to set"),
    () =>
      Effect.gen(function*() {
        if (backend.kind !== "postgres") return
        const { url } = yield* scratchDatabase({ fromTemplate: true })
        const server = yield* startServer({
          NODE_ENV: "production",
          DATABASE_URL: url,
          PORT: String(yield* freePort),
          HOST: "127.0.0.1",
          DB_MIGRATE: "false"
        })
        const exit = yield* Effect.promise(() => server.exited)
        expect(exit.code, server.output()).toBe(1)
        const fatal = fatalLine(server.output())
        expect(fatal).toHaveLength(1)
        expect(fatal[0]).toContain("AUTH_JWT_SECRET")
        expect(fatal[0]).toContain("AUTH_JWKS_URL")
        // One line: no stack trace anywhere in what it printed.
        expect(server.output()).not.toMatch(/\n\s+at /)
      }).pipe(Effect.scoped),
    60_000
  )

  it("npm run token refuses to mint in production and says why", async () => {
    const refused = await run(process.execPath, ["--import", "tsx", "src/bin/token.ts", "alice"], {
      env: { ...process.env, NODE_ENV: "production" }
    }).then(() => undefined, (error: unknown) => error)
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining("NODE_ENV=production") })
  }, 60_000)
})
