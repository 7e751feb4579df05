/**
 * Schema migrations: the plain SQL files in `migrations/` (`NNNN_name.sql`), applied in order by
 * `PgMigrator`, each once, inside one transaction that holds the migrations table lock.
 */
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { PgMigrator } from "@effect/sql-pg"
import { Effect } from "effect"
import { fileURLToPath } from "node:url"

export const migrationsDirectory = fileURLToPath(new URL("../../migrations", import.meta.url))

const loader = (directory: string): PgMigrator.Loader<FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const files = yield* fs.readDirectory(directory)
    return files
      .flatMap((file): Array<PgMigrator.ResolvedMigration> => {
        const match = /^(\d+)_(.+)\.sql$/.exec(file)
        if (match === null) return []
        const run = Effect.flatMap(
          Effect.zip(SqlClient.SqlClient, fs.readFileString(`${directory}/${file}`)),
          // Without parameters `pg` uses the simple protocol, so a file may hold many statements.
          ([sql, text]) => sql.unsafe(text)
        )
        return [[Number(match[1]), match[2]!, Effect.succeed(run)]]
      })
      .sort(([a], [b]) => a - b)
  }).pipe(
    Effect.mapError((error) => new PgMigrator.MigrationError({ reason: "failed", message: error.message }))
  )

/** Applies pending migrations and logs what ran. */
export const migrate = (directory: string = migrationsDirectory) =>
  PgMigrator.run({ loader: loader(directory), table: "schema_migrations" }).pipe(
    Effect.tap((applied) =>
      applied.length === 0
        ? Effect.logInfo("Schema is up to date")
        : Effect.logInfo("Applied migrations").pipe(
          Effect.annotateLogs("migrations", applied.map(([id, name]) => `${id}_${name}`).join(", "))
        )
    ),
    Effect.provide(NodeContext.layer),
    Effect.withSpan("Database.migrate")
  )
