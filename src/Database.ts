/**
 * The database every domain uses: the `PgClient` over the pool, `DatabaseError` in place of `SqlError`,
 * REPEATABLE READ transactions that retry serialization failures, and `withLockRetry` blocks, retried as a
 * whole with jittered exponential backoff while a row lock is busy, then failed with `LockTimeout`.
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Layer, Option, ParseResult, Schedule, ScheduleDecision } from "effect"
import type * as Pg from "pg"
import { backoff } from "./Backoff.js"
import { DatabaseConfig, LockRetryConfig } from "./Config.js"
import { migrate } from "./Database/Migrations.js"
import * as Pool from "./Database/Pool.js"
import { DatabaseError, LockTimeout } from "./Domain/Errors.js"

/**
 * SQL that reads a `timestamp` column as the wall-clock text the export wrote (`YYYY-MM-DDTHH:MM:SS`);
 * as text it cannot be shifted by the process's time zone the way `pg`'s Date parsing would be.
 */
export const wallClockSql = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS')`

/** The SQLSTATE of a failed statement, when the driver reported one. */
export const sqlState = (error: SqlError): string | undefined => {
  const cause: unknown = error.cause
  return typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
}

const hasState = (...states: ReadonlyArray<string>) => (u: unknown): u is SqlError =>
  u instanceof SqlError && states.includes(sqlState(u) ?? "")

/** 55P03: a `NOWAIT` lock was taken by someone else. */
export const isLockNotAvailable = hasState("55P03")
/** 40001 and 40P01: the transaction lost a race and may simply be run again. */
export const isSerializationFailure = hasState("40001", "40P01")
/** 23505: a unique constraint refused the row. */
export const isUniqueViolation = hasState("23505")

/**
 * What of a driver error may be logged: its code and where it happened (table, column, constraint), never
 * the row values PostgreSQL puts in its detail (a failing row holds people's messages).
 */
const describeDriverError = (cause: unknown): Record<string, string> => {
  if (typeof cause !== "object" || cause === null) return { error: String(cause) }
  const fields: Record<string, string> = {}
  for (const key of ["message", "severity", "routine", "table", "column", "constraint", "schema"]) {
    const value: unknown = Reflect.get(cause, key)
    if (typeof value === "string") fields[key === "message" ? "driverMessage" : key] = value
  }
  return fields
}

/** Logs a database failure with the driver's code and place (never sent to clients) and fails with `DatabaseError`. */
export const databaseError = (error: SqlError): Effect.Effect<never, DatabaseError> =>
  Effect.logError("Database failure").pipe(
    Effect.annotateLogs({ sqlState: sqlState(error) ?? "none", detail: error.message, ...describeDriverError(error.cause) }),
    Effect.zipRight(Effect.fail(new DatabaseError({ message: DatabaseError.publicMessage })))
  )

/**
 * Replaces `SqlError` among an effect's failures with a logged `DatabaseError`. A row that does not
 * decode (`ParseError`) means the code and the schema disagree: a bug, so a defect.
 */
export const orDatabaseError = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.catchIf(<T>(error: T): error is Extract<T, SqlError> => error instanceof SqlError, (error) => databaseError(error)),
    Effect.catchIf(
      <T>(error: T): error is Extract<T, ParseResult.ParseError> => ParseResult.isParseError(error),
      (error) => Effect.die(error)
    )
  )

export class Database extends Effect.Service<Database>()("chatsight/Database", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const poolInfo = yield* Pool.PgPool
    const lockRetry = yield* LockRetryConfig

    const inTransaction = Effect.map(Effect.serviceOption(SqlClient.TransactionConnection), Option.isSome)

    const lockNotAvailable = <T>(error: T): error is Extract<T, SqlError> => isLockNotAvailable(error)
    const lockBusy = new LockTimeout({ message: "The record is busy; please retry shortly" })

    const serializationRetry = backoff({ base: "10 millis", retries: 5 })

    // Logged only when the schedule goes on: its last step decides to stop and sleeps nothing.
    const lockSchedule = backoff(lockRetry).pipe(
      Schedule.onDecision((delay, decision) =>
        ScheduleDecision.isContinue(decision)
          ? Effect.logWarning("Row lock busy; retrying the block").pipe(
            Effect.annotateLogs({ retryInMs: Math.round(Duration.toMillis(delay)) })
          )
          : Effect.void
      )
    )

    /** Runs `effect` in a REPEATABLE READ transaction (or inside the current one), keeping `SqlError`. */
    const transactionRaw = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
      Effect.flatMap(inTransaction, (inside) =>
        inside
          ? effect
          : sql.withTransaction(Effect.zipRight(sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`, effect)).pipe(
            Effect.retry({ schedule: serializationRetry, while: isSerializationFailure })
          ))

    /**
     * Runs `effect` in a REPEATABLE READ transaction, retrying it whole on serialization failures.
     * Nested calls join the outer transaction.
     */
    const transaction = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      orDatabaseError(transactionRaw(effect))

    /**
     * Runs a block that takes row locks with `FOR UPDATE NOWAIT` as one transaction. While a lock is
     * busy (55P03) the whole transaction is run again on the configured `backoff`; when the retries run
     * out it fails with `LockTimeout`. Nested inside another such block it joins it,
     * whose retry covers it: an aborted transaction cannot be retried from inside.
     */
    const withLockRetry = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.flatMap(inTransaction, (inside): Effect.Effect<A, E | SqlError | LockTimeout, R> =>
        inside
          // Joined: a busy lock fails the block as LockTimeout, which the outermost block retries whole.
          ? Effect.catchIf(effect, lockNotAvailable, () => Effect.fail(lockBusy))
          : transactionRaw(effect).pipe(
            Effect.retry({ schedule: lockSchedule, while: (error) => isLockNotAvailable(error) || error instanceof LockTimeout }),
            Effect.catchIf(isLockNotAvailable, () =>
              Effect.logWarning("Row lock still busy after retries; giving up").pipe(
                Effect.zipRight(Effect.fail(lockBusy))
              ))
          )).pipe(orDatabaseError, Effect.withSpan("Database.withLockRetry"))

    /**
     * A read run as a named prepared statement straight on the pool, for the statement every request
     * runs (the account check): PostgreSQL parses and plans it once per connection, and the SQL
     * client's per-statement work (compiling the template, transforming rows) is skipped. Outside any
     * transaction. Failures are `DatabaseError` as everywhere; its span is the SQL client's.
     */
    const prepared = <Row extends Pg.QueryResultRow>(name: string, text: string) => {
      const attributes = { "db.system.name": "postgresql", "db.query.text": text }
      return (values: ReadonlyArray<string | number | null>): Effect.Effect<ReadonlyArray<Row>, DatabaseError> =>
        Effect.async<ReadonlyArray<Row>, SqlError>((resume) => {
          poolInfo.pool.query<Row>({ name, text, values: [...values] }, (error: Error | undefined, result) => {
            resume(
              error === undefined
                ? Effect.succeed(result.rows)
                : Effect.fail(new SqlError({ cause: error, message: "Failed to execute statement" }))
            )
          })
        }).pipe(orDatabaseError, Effect.withSpan("sql.execute", { kind: "client", captureStackTrace: false, attributes }))
    }

    /** Answers whether the database serves a query within the timeout. */
    const ping = (timeout: Duration.DurationInput) =>
      sql`SELECT 1`.pipe(
        Effect.timeout(timeout),
        Effect.as(true),
        Effect.catchAll(() => Effect.succeed(false)),
        Effect.withSpan("Database.ping")
      )

    /** The pool's own counters. */
    const poolStats = Effect.sync(() => {
      const { pool } = poolInfo
      return {
        backend: poolInfo.backend,
        size: poolInfo.size,
        max: poolInfo.max,
        total: pool.totalCount,
        idle: pool.idleCount,
        in_use: pool.totalCount - pool.idleCount,
        waiting: pool.waitingCount
      }
    })

    return { sql, transaction, withLockRetry, prepared, ping, poolStats } as const
  })
}) {}

/** The SQL client on the pool in context. */
export const SqlLive = Layer.unwrapEffect(
  Effect.gen(function*() {
    const { pool } = yield* Pool.PgPool
    const { applicationName } = yield* DatabaseConfig
    return PgClient.layerFromPool({ acquire: Effect.succeed(pool), applicationName })
  })
)

/** Applies pending migrations when the layer is built, unless `DB_MIGRATE=false`. */
export const MigrationsLive = Layer.effectDiscard(
  Effect.gen(function*() {
    const { migrate: enabled } = yield* DatabaseConfig
    if (enabled) yield* migrate()
  })
)

/** `Database` with its SQL client and migrations on the pool in context (a test passes its own). */
export const DatabaseOnPool = Database.Default.pipe(
  Layer.provideMerge(MigrationsLive),
  Layer.provideMerge(SqlLive)
)

/** `Database` on the configured pool: PostgreSQL with `DATABASE_URL`, else embedded PGlite. */
export const DatabaseLive = DatabaseOnPool.pipe(Layer.provideMerge(Pool.layer))
