/**
 * Runs once before all test files: migrates a template database that every test file then copies.
 * On the PostgreSQL at TEST_DATABASE_URL (default: the local server) when it answers, else on PGlite,
 * whose migrated data directory is dumped to a file for each test file to load.
 */
import { PGlite } from "@electric-sql/pglite"
import { Effect, Layer, Redacted } from "effect"
import { createHash } from "node:crypto"
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import * as Pg from "pg"
import type { TestProject } from "vitest/node"
import { DatabaseConfig } from "../../src/Config.js"
import { SqlLive } from "../../src/Database.js"
import { pgliteOptions } from "../../src/Database/Embedded.js"
import { migrate, migrationsDirectory } from "../../src/Database/Migrations.js"
import * as Pool from "../../src/Database/Pool.js"
import { type TestBackend, withDatabase } from "./backend.js"

const defaultUrl = "postgres://postgres@127.0.0.1:5432/postgres"

const migrateOn = (pool: Effect.Effect<Pool.PoolInfo, unknown, import("effect").Scope.Scope>) =>
  Effect.runPromise(
    migrate().pipe(
      Effect.provide(SqlLive.pipe(Layer.provide(Layer.scoped(Pool.PgPool, Effect.orDie(pool))))),
      Effect.scoped
    )
  )

const migrationsHash = async () => {
  const hash = createHash("sha256")
  for (const file of (await readdir(migrationsDirectory)).sort()) {
    hash.update(file).update(await readFile(join(migrationsDirectory, file)))
  }
  return hash.digest("hex").slice(0, 12)
}

const answers = async (url: string): Promise<string | undefined> => {
  const client = new Pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query("SELECT 1")
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  } finally {
    await client.end().catch(() => undefined)
  }
}

const settings = () => Effect.runPromise(DatabaseConfig)

export default async function setup(project: TestProject) {
  const adminUrl = process.env.TEST_DATABASE_URL ?? defaultUrl
  const forced = process.env.TEST_DATABASE === "pglite"
  const unreachable = forced ? "TEST_DATABASE=pglite" : await answers(adminUrl)
  const version = await migrationsHash()

  let backend: TestBackend
  if (unreachable === undefined) {
    const template = `chatsight_template_${version}`
    const admin = new Pg.Client({ connectionString: adminUrl })
    await admin.connect()
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [template])
    if (exists.rowCount === 0) {
      const building = `${template}_building_${process.pid}`
      await admin.query(`CREATE DATABASE "${building}"`)
      await migrateOn(Pool.postgres(Redacted.make(withDatabase(adminUrl, building)), await settings()))
      await admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`).catch(async () => {
        await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`)
      })
    }
    await admin.end()
    backend = { kind: "postgres", adminUrl, template }
  } else {
    const templateFile = join(".data", "test", `template-${version}.tar.gz`)
    if ((await readFile(templateFile).catch(() => undefined)) === undefined) {
      const db = await PGlite.create({ ...pgliteOptions })
      await migrateOn(Pool.pglite(db, await settings()))
      const dump = await db.dumpDataDir("gzip")
      await db.close()
      await mkdir(join(".data", "test"), { recursive: true })
      await writeFile(templateFile, Buffer.from(await dump.arrayBuffer()))
    }
    backend = { kind: "pglite", templateFile, reason: `no PostgreSQL at ${adminUrl} (${unreachable})` }
  }
  project.provide("backend", backend)
}
