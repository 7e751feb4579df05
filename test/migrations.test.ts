/**
 * The migrations on an empty database: they apply once and in order, build the whole data model, and
 * its correctness rules hold in the database itself (unique business keys, a balance that cannot go
 * negative, foreign keys, soft delete through views), with the product catalogue seeded.
 */
import { PGlite } from "@electric-sql/pglite"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { readdirSync } from "node:fs"
import { DatabaseConfig } from "../src/Config.js"
import { SqlLive, sqlState } from "../src/Database.js"
import { pgliteOptions } from "../src/Database/Embedded.js"
import { migrate, migrationsDirectory } from "../src/Database/Migrations.js"
import * as Pool from "../src/Database/Pool.js"
import { onPostgres, scratchDatabase, TestConfig } from "./support/TestApp.js"

/** A pool on a database with nothing in it: a new PostgreSQL database, or a new in-memory PGlite. */
const EmptyPool = Layer.scoped(
  Pool.PgPool,
  Effect.gen(function*() {
    const settings = yield* DatabaseConfig
    if (onPostgres) {
      const { url } = yield* scratchDatabase({ fromTemplate: false })
      return yield* Pool.postgres(Redacted.make(url), settings)
    }
    const db = yield* Effect.acquireRelease(
      Effect.promise(() => PGlite.create({ ...pgliteOptions })),
      (db) => Effect.promise(() => db.close())
    )
    return yield* Pool.pglite(db, settings)
  }).pipe(Effect.orDie)
)

interface Runs {
  /** The tables in `public` before the first run. */
  readonly before: ReadonlyArray<string>
  readonly first: ReadonlyArray<readonly [id: number, name: string]>
  readonly second: ReadonlyArray<readonly [id: number, name: string]>
}

/** What two runs of `migrate()` on the empty database applied, recorded as the suite starts. */
class MigrationRuns extends Context.Tag("test/MigrationRuns")<MigrationRuns, Runs>() {}

const Migrated = Layer.effect(
  MigrationRuns,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const before = yield* sql<{ readonly table_name: string }>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`
    const first = yield* migrate()
    const second = yield* migrate()
    return { before: before.map((row) => row.table_name), first, second }
  }).pipe(Effect.orDie)
)

const Env = Migrated.pipe(
  Layer.provideMerge(SqlLive),
  Layer.provideMerge(EmptyPool),
  Layer.provide(TestConfig())
)

/** The SQLSTATE a statement is refused with (it must be refused). */
const refusal = <A, R>(statement: Effect.Effect<A, SqlError, R>) => Effect.map(Effect.flip(statement), sqlState)

const uniqueViolation = "23505"
const checkViolation = "23514"
const foreignKeyViolation = "23503"

const tables = [
  "users",
  "chats",
  "messages",
  "chat_stats",
  "chunks",
  "categories",
  "insight_types",
  "insights",
  "jobs",
  "credit_transactions",
  "credit_packages",
  "credit_package_prices",
  "payment_orders",
  "payment_events",
  "ai_conversations",
  "ai_messages",
  "idempotency_keys"
]

const views = ["active_users", "active_chats", "active_ai_conversations"]

/** Rows the constraint tests build on. */
const fixtures = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const addUser = (id: string) => sql`INSERT INTO users (id) VALUES (${id})`
  const addChat = (userId: string, contentHash: string) =>
    sql<{ readonly id: string }>`
      INSERT INTO chats (user_id, display_name, content_hash) VALUES (${userId}, 'A chat', ${contentHash})
      RETURNING id`.pipe(Effect.map((rows) => rows[0]?.id ?? ""))
  return { sql, addUser, addChat } as const
})

layer(Env)("migrations on an empty database", (it) => {
  it.effect("migrate applies every file of migrations/ in order, and a second run applies nothing", () =>
    Effect.gen(function*() {
      const { before, first, second } = yield* MigrationRuns
      const files = readdirSync(migrationsDirectory).filter((file) => file.endsWith(".sql")).sort()
      const expected = files.map((file) => {
        const [, id, name] = /^(\d+)_(.+)\.sql$/.exec(file) ?? []
        return [Number(id), name] as const
      })
      expect(expected.slice(0, 2)).toEqual([[1, "schema"], [2, "catalogue"]])
      expect(before).toEqual([])
      expect(first).toEqual(expected)
      expect(second).toEqual([])
      const sql = yield* SqlClient.SqlClient
      const recorded = yield* sql<{ readonly migration_id: number; readonly name: string }>`
        SELECT migration_id, name FROM schema_migrations ORDER BY migration_id`
      expect(recorded).toEqual(expected.map(([migration_id, name]) => ({ migration_id, name })))
    }))

  it.effect("every table of the data model exists, with the soft-delete views and pgvector", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const relations = yield* sql<{ readonly table_name: string; readonly table_type: string }>`
        SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public'`
      const named = (type: string) => relations.filter((row) => row.table_type === type).map((row) => row.table_name)
      expect(named("BASE TABLE")).toEqual(expect.arrayContaining(tables))
      expect(named("VIEW").sort()).toEqual([...views].sort())
      const extensions = yield* sql<{ readonly extname: string }>`SELECT extname FROM pg_extension`
      expect(extensions.map((row) => row.extname)).toContain("vector")
    }))

  it.effect("insights: one per chat and insight type", () =>
    Effect.gen(function*() {
      const { addChat, addUser, sql } = yield* fixtures
      yield* addUser("insight-owner")
      const chatId = yield* addChat("insight-owner", "insight-hash")
      const insert = sql`INSERT INTO insights (chat_id, insight_type_id, user_id)
                         VALUES (${chatId}, 'who-reaches-out', 'insight-owner')`
      yield* insert
      expect(yield* refusal(insert)).toBe(uniqueViolation)
      const stored = yield* sql<{ readonly n: number }>`
        SELECT count(*)::int AS n FROM insights WHERE chat_id = ${chatId}`
      expect(stored[0]?.n).toBe(1)
      // Another insight type on the same chat is another insight.
      yield* sql`INSERT INTO insights (chat_id, insight_type_id, user_id)
                 VALUES (${chatId}, 'power-balance', 'insight-owner')`
    }))

  it.effect("payment_orders: a provider's order id is stored once", () =>
    Effect.gen(function*() {
      const { addUser, sql } = yield* fixtures
      yield* addUser("order-buyer")
      const insert = (provider: string) =>
        sql`INSERT INTO payment_orders (user_id, package_id, provider, provider_order_id, amount, currency, credits)
            VALUES ('order-buyer', 'starter', ${provider}, 'order_123', 499, 'USD', 10)`
      yield* insert("stripe")
      expect(yield* refusal(insert("stripe"))).toBe(uniqueViolation)
      // The same id at another provider is another order.
      yield* insert("razorpay")
    }))

  it.effect("payment_events: a provider's event id is stored once", () =>
    Effect.gen(function*() {
      const { sql } = yield* fixtures
      const insert = (provider: string) =>
        sql`INSERT INTO payment_events (provider, provider_event_id, event_type, payload, change)
            VALUES (${provider}, 'evt_123', 'payment.succeeded', '{}', '{"_tag":"Ignored","reason":"test"}')`
      yield* insert("stripe")
      expect(yield* refusal(insert("stripe"))).toBe(uniqueViolation)
      yield* insert("razorpay")
    }))

  it.effect("credit_transactions: a business reference is posted once per user", () =>
    Effect.gen(function*() {
      const { addUser, sql } = yield* fixtures
      yield* addUser("ledger-a")
      yield* addUser("ledger-b")
      const post = (userId: string) =>
        sql`INSERT INTO credit_transactions (user_id, kind, amount, balance_after, reference, description)
            VALUES (${userId}, 'grant', 5, 5, 'welcome', 'Welcome credits')`
      yield* post("ledger-a")
      expect(yield* refusal(post("ledger-a"))).toBe(uniqueViolation)
      // Another user's ledger has its own references.
      yield* post("ledger-b")
    }))

  it.effect("users.credit_balance cannot go below zero", () =>
    Effect.gen(function*() {
      const { addUser, sql } = yield* fixtures
      yield* addUser("balance-floor")
      yield* sql`UPDATE users SET credit_balance = 0 WHERE id = 'balance-floor'`
      expect(yield* refusal(sql`UPDATE users SET credit_balance = -1 WHERE id = 'balance-floor'`)).toBe(checkViolation)
      expect(yield* refusal(sql`INSERT INTO users (id, credit_balance) VALUES ('born-in-debt', -5)`)).toBe(
        checkViolation
      )
      const [row] = yield* sql<{ readonly credit_balance: number }>`
        SELECT credit_balance FROM users WHERE id = 'balance-floor'`
      expect(row?.credit_balance).toBe(0)
    }))

  it.effect("chats.user_id must name an existing user", () =>
    Effect.gen(function*() {
      const { addChat } = yield* fixtures
      expect(yield* refusal(addChat("nobody-at-all", "orphan-hash"))).toBe(foreignKeyViolation)
    }))

  it.effect("soft delete: a deleted chat, a deleted user and that user's chats are absent from the active views", () =>
    Effect.gen(function*() {
      const { addChat, addUser, sql } = yield* fixtures
      yield* addUser("soft-kept")
      yield* addUser("soft-gone")
      const kept = yield* addChat("soft-kept", "kept-hash")
      const deletedChat = yield* addChat("soft-kept", "deleted-hash")
      const ofDeletedUser = yield* addChat("soft-gone", "gone-hash")
      yield* sql`INSERT INTO ai_conversations (user_id, chat_id, title) VALUES ('soft-kept', ${kept}, 'kept')`
      yield* sql`INSERT INTO ai_conversations (user_id, chat_id, title) VALUES ('soft-kept', ${deletedChat}, 'on deleted')`
      yield* sql`UPDATE chats SET deleted_at = now() WHERE id = ${deletedChat}`
      yield* sql`UPDATE users SET deleted_at = now() WHERE id = 'soft-gone'`

      const activeUsers = yield* sql<{ readonly id: string }>`
        SELECT id FROM active_users WHERE id IN ('soft-kept', 'soft-gone')`
      expect(activeUsers.map((row) => row.id)).toEqual(["soft-kept"])
      const activeChats = yield* sql<{ readonly id: string }>`
        SELECT id FROM active_chats WHERE id IN (${kept}, ${deletedChat}, ${ofDeletedUser})`
      expect(activeChats.map((row) => row.id)).toEqual([kept])
      const conversations = yield* sql<{ readonly title: string }>`
        SELECT title FROM active_ai_conversations WHERE user_id = 'soft-kept'`
      expect(conversations.map((row) => row.title)).toEqual(["kept"])
      // The rows themselves stay: the ledger and payments point at them.
      const stored = yield* sql<{ readonly n: number }>`
        SELECT count(*)::int AS n FROM chats WHERE id IN (${kept}, ${deletedChat}, ${ofDeletedUser})`
      expect(stored[0]?.n).toBe(3)
    }))

  it.effect("the catalogue is seeded: 5+ active categories of 3 to 6 priced, prompted insight types, and 3+ packages in USD and INR", () =>
    Effect.gen(function*() {
      const { sql } = yield* fixtures
      const categories = yield* sql<{ readonly id: string; readonly types: number }>`
        SELECT c.id, count(t.id)::int AS types
        FROM categories c LEFT JOIN insight_types t ON t.category_id = c.id AND t.is_active
        WHERE c.is_active GROUP BY c.id`
      expect(categories.length).toBeGreaterThanOrEqual(5)
      for (const category of categories) {
        expect(category.types, category.id).toBeGreaterThanOrEqual(3)
        expect(category.types, category.id).toBeLessThanOrEqual(6)
      }
      const unfit = yield* sql<{ readonly id: string }>`
        SELECT id FROM insight_types WHERE credit_cost <= 0 OR length(btrim(prompt)) = 0 OR length(btrim(name)) = 0`
      expect(unfit).toEqual([])

      const packages = yield* sql<{ readonly id: string; readonly currencies: string | null }>`
        SELECT p.id, string_agg(pp.currency, ',' ORDER BY pp.currency) AS currencies
        FROM credit_packages p LEFT JOIN credit_package_prices pp ON pp.package_id = p.id AND pp.unit_amount > 0
        WHERE p.is_active GROUP BY p.id`
      expect(packages.length).toBeGreaterThanOrEqual(3)
      for (const pack of packages) {
        expect((pack.currencies ?? "").split(","), pack.id).toEqual(expect.arrayContaining(["INR", "USD"]))
      }
    }))
})
