/**
 * What the process says when it starts, and when it cannot: one line naming the mode it runs in, or one
 * line naming what stopped it and what to do, instead of a stack trace.
 */
import { SqlError } from "@effect/sql/SqlError"
import { Cause, ConfigError, Effect, Layer, Option } from "effect"
import { authMode } from "./Auth.js"
import { AuthConfig, Environment } from "./Config.js"
import { Database } from "./Database.js"
import { Llm } from "./Llm.js"
import { Vector } from "./Vector.js"

/** The innermost `cause` of an error chain (the driver's own error under the SQL client's). */
const rootCause = (error: unknown): unknown => {
  let current = error
  for (let depth = 0; depth < 5; depth++) {
    const next = typeof current === "object" && current !== null && "cause" in current ? current.cause : undefined
    if (next === undefined || next === null) return current
    current = next
  }
  return current
}

const codeOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "object" && error !== null && "message" in error
    ? String(error.message)
    : String(error)

/** One line for why the server could not start, saying what to do where we know. */
export const describeStartupFailure = (cause: Cause.Cause<unknown>): string => {
  const failure = Option.getOrElse(Cause.failureOption(cause), () => Option.getOrUndefined(Cause.dieOption(cause)))
  if (failure === undefined) return Cause.pretty(cause).split("\n")[0] ?? "The server could not start"
  if (ConfigError.isConfigError(failure)) {
    return `Configuration: ${String(failure).replace(/\s+/g, " ")}; fix the environment variable and start again`
  }
  const root = rootCause(failure)
  const text = `${messageOf(failure)} ${messageOf(root)}`
  if (text.includes("extension \"vector\"") || text.includes("vector.control")) {
    return "The PostgreSQL at DATABASE_URL has no pgvector extension: install it (Debian: postgresql-<version>-pgvector, " +
      "or build it with .ci/install-pgvector.sh), then start again"
  }
  const code = codeOf(root)
  if (failure instanceof SqlError || code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "28P01" || code === "3D000") {
    const reason = code === "ECONNREFUSED"
      ? "nothing listens there"
      : code === "ENOTFOUND"
      ? "the host name does not resolve"
      : code === "28P01"
      ? "the password was refused"
      : code === "3D000"
      ? "the database does not exist (createdb it)"
      : messageOf(root)
    return `Cannot use the database at DATABASE_URL: ${reason}; check DATABASE_URL and that PostgreSQL is running`
  }
  if (code === "EADDRINUSE" || text.includes("EADDRINUSE")) {
    return "The port is already in use: stop the other server or set PORT (and HOST) to a free one"
  }
  return `The server could not start: ${messageOf(failure).split("\n")[0]}${root === failure ? "" : ` (${messageOf(root).split("\n")[0]})`}`
}

/** Runs the server's effect; a failure to start is logged as one fatal line and the process exits 1. */
export const orOneLineFailure = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  program.pipe(
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.failCause(cause)
        // The whole cause stays available at debug level for whoever digs deeper.
        : Effect.logDebug("Start-up failure in full", cause).pipe(
          Effect.zipRight(Effect.logFatal(describeStartupFailure(cause))),
          Effect.zipRight(Effect.sync(() => {
            process.exitCode = 1
          }))
        )
    )
  )

/** Once everything is built: one line saying how this instance runs. */
export const StartupReportLive = Layer.effectDiscard(
  Effect.gen(function*() {
    const environment = yield* Environment
    const auth = yield* AuthConfig
    const { backend } = yield* Effect.flatMap(Database, (db) => db.poolStats)
    const llm = yield* Llm
    const vector = yield* Vector
    yield* Effect.logInfo("Chatsight ready").pipe(
      Effect.annotateLogs({
        environment,
        database: backend,
        auth: authMode(auth),
        llm: llm.mode,
        embedder: llm.embedder,
        vectors: vector.backend
      })
    )
  })
)
