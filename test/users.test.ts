/**
 * Accounts, balances, the ledger's pages, packages and the catalogue through the typed client
 * (src/Client.ts); raw requests only where a test reads the wire.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Credits } from "../src/Credits.js"
import { call, client, errorShape, rejected, TestApp, tokenFor } from "./support/TestApp.js"

// The application runs on the live clock: its lock and serialization retries sleep between attempts,
// which under the default TestClock of `layer` would never wake up.
layer(TestApp(), { excludeTestServices: true })("users and their credits", (it) => {
  it.effect("POST /api/users/store creates the user from the token's claims with the welcome credits", () =>
    Effect.gen(function*() {
      const api = yield* client(yield* tokenFor("store-new", { email: "ada@example.com", name: "Ada" }))
      const profile = yield* api.users.store()
      expect(profile).toEqual({
        id: "store-new",
        email: "ada@example.com",
        name: "Ada",
        credit_balance: 10,
        created_at: expect.any(Date),
        created: true
      })
      expect(Number.isNaN(profile.created_at.getTime())).toBe(false)
      expect(yield* api.credits.balance()).toEqual({ user_id: "store-new", balance: 10 })
    }))

  it.effect("calling POST /api/users/store again changes nothing: created is false and the welcome is one entry", () =>
    Effect.gen(function*() {
      const api = yield* client(yield* tokenFor("store-twice", { email: "twice@example.com", name: "Twice" }))
      const first = yield* api.users.store()
      expect(first).toMatchObject({ created: true, credit_balance: 10 })
      const second = yield* api.users.store()
      expect(second).toEqual({ ...first, created: false })

      expect(yield* api.credits.balance()).toEqual({ user_id: "store-twice", balance: 10 })
      const page = yield* api.credits.transactions({ urlParams: { limit: 20 } })
      expect(page.has_more).toBe(false)
      expect(page.next_cursor).toBeNull()
      expect(page.data).toEqual([{
        id: expect.any(String),
        kind: "grant",
        amount: 10,
        balance_after: 10,
        reference: "welcome",
        description: "Welcome credits",
        created_at: expect.any(Date)
      }])
    }))

  it.effect("ten concurrent first logins of one new user grant the welcome credits exactly once", () =>
    Effect.gen(function*() {
      const api = yield* client(yield* tokenFor("store-race", { email: "race@example.com" }))
      // Each succeeds only on a 200 that decodes as a profile.
      const profiles = yield* Effect.all(
        Array.from({ length: 10 }, () => api.users.store()),
        { concurrency: "unbounded" }
      )
      expect(profiles).toHaveLength(10)
      expect(profiles.filter((profile) => profile.created)).toHaveLength(1)
      expect(profiles.every((profile) => profile.id === "store-race" && profile.credit_balance === 10)).toBe(true)

      expect(yield* api.credits.balance()).toEqual({ user_id: "store-race", balance: 10 })
      const page = yield* api.credits.transactions({ urlParams: { limit: 20 } })
      expect(page.data.map((entry) => [entry.reference, entry.amount])).toEqual([["welcome", 10]])

      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ users: number; entries: number; stored: number; ledger: number }>`
        SELECT (SELECT count(*)::int FROM users WHERE id = ${"store-race"}) AS users,
               (SELECT count(*)::int FROM credit_transactions WHERE user_id = ${"store-race"}) AS entries,
               (SELECT credit_balance FROM users WHERE id = ${"store-race"}) AS stored,
               (SELECT coalesce(sum(amount), 0)::int FROM credit_transactions WHERE user_id = ${"store-race"}) AS ledger`
      expect(rows).toEqual([{ users: 1, entries: 1, stored: 10, ledger: 10 }])
    }))

  it.effect("a new email or name in a later token updates the profile; claims a token leaves out are kept", () =>
    Effect.gen(function*() {
      const login = (claims: { readonly email?: string; readonly name?: string }) =>
        Effect.flatMap(tokenFor("store-profile", claims), client).pipe(Effect.flatMap((api) => api.users.store()))

      yield* login({ email: "old@example.com", name: "Old Name" })

      const renamed = yield* login({ email: "new@example.com" })
      expect(renamed).toMatchObject({
        id: "store-profile",
        email: "new@example.com",
        name: "Old Name",
        credit_balance: 10,
        created: false
      })

      const bare = yield* login({ name: "New Name" })
      expect(bare).toMatchObject({ email: "new@example.com", name: "New Name", credit_balance: 10, created: false })

      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ email: string; name: string }>`SELECT email, name FROM users WHERE id = ${"store-profile"}`
      expect(rows).toEqual([{ email: "new@example.com", name: "New Name" }])
    }))

  it.effect("GET /api/credits/balance before POST /api/users/store is a 404 that says to call it", () =>
    Effect.gen(function*() {
      const api = yield* client(yield* tokenFor("never-stored"))
      yield* rejected(api.credits.balance(), "NotFound", "POST /api/users/store")
      yield* rejected(api.credits.transactions({ urlParams: { limit: 20 } }), "NotFound")
    }))

  it.effect("the ledger pages newest first through next_cursor and starting_after, without repeats", () =>
    Effect.gen(function*() {
      // The ledger ids of this user cross a power of ten (998 to 1003): newest first must be numeric order.
      const sql = yield* SqlClient.SqlClient
      const [current] = yield* sql<{ max: number }>`SELECT coalesce(max(id), 0)::int AS max FROM credit_transactions`
      expect(current?.max ?? 0).toBeLessThan(997)
      yield* sql`SELECT setval(pg_get_serial_sequence('credit_transactions', 'id'), 997)`

      const api = yield* client(yield* tokenFor("ledger-pages"))
      yield* api.users.store()
      yield* Effect.gen(function*() {
        const credits = yield* Credits
        for (const n of [1, 2, 3, 4, 5]) {
          const posted = yield* credits.grant({
            userId: "ledger-pages",
            amount: n,
            reference: `bonus-${n}`,
            description: `Bonus ${n}`
          })
          expect(posted.applied).toBe(true)
        }
      }).pipe(Effect.provide(Credits.Default))

      const pageAfter = (cursor: string | null) =>
        api.credits.transactions({ urlParams: cursor === null ? { limit: 2 } : { limit: 2, starting_after: cursor } })
      type LedgerPage = Effect.Effect.Success<ReturnType<typeof pageAfter>>
      const pages: Array<LedgerPage> = []
      let cursor: string | null = null
      do {
        const page: LedgerPage = yield* pageAfter(cursor)
        pages.push(page)
        cursor = page.next_cursor
        expect(pages.length).toBeLessThanOrEqual(3)
      } while (cursor !== null)

      const entries = pages.flatMap((page) => page.data)
      expect(entries.map((entry) => entry.id)).toEqual(["1003", "1002", "1001", "1000", "999", "998"])
      expect(pages.map((page) => [page.data.length, page.has_more])).toEqual([[2, true], [2, true], [2, false]])
      expect(pages.slice(0, 2).map((page) => page.next_cursor)).toEqual(pages.slice(0, 2).map((page) => page.data[1]?.id))
      expect(entries.map((entry) => entry.reference)).toEqual([
        "bonus-5",
        "bonus-4",
        "bonus-3",
        "bonus-2",
        "bonus-1",
        "welcome"
      ])
      expect(entries.map((entry) => entry.balance_after)).toEqual([25, 20, 16, 13, 11, 10])
      expect(new Set(entries.map((entry) => entry.id)).size).toBe(6)

      expect(yield* api.credits.balance()).toEqual({ user_id: "ledger-pages", balance: 25 })
    }))

  // Raw: a cursor the typed client would refuse to encode.
  it.effect("a cursor the endpoint never returned is a 400", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("ledger-cursor")
      yield* (yield* client(token)).users.store()
      const reply = yield* call("GET", "/api/credits/transactions?starting_after=abc", { token })
      expect(reply.status).toBe(400)
      expect(reply.body).toEqual(errorShape("validation_error", reply))
      expect(JSON.stringify(reply.body)).toContain("starting_after")
    }))

  it.effect("GET /api/credits/packages is public and prices every package in USD and INR", () =>
    Effect.gen(function*() {
      const packages = yield* (yield* client()).credits.packages()
      expect(packages.data.length).toBeGreaterThanOrEqual(3)
      for (const pkg of packages.data) {
        expect(pkg.credits).toBeGreaterThan(0)
        const currencies = pkg.prices.map((price) => price.currency)
        expect(currencies).toEqual(expect.arrayContaining(["USD", "INR"]))
        expect(pkg.prices.every((price) => Number.isInteger(price.unit_amount) && price.unit_amount > 0)).toBe(true)
      }
    }))

  it.effect("GET /api/categories lists the categories and each one's insight types, without their prompts", () =>
    Effect.gen(function*() {
      const api = yield* client()
      const categories = yield* api.categories.list()
      expect(categories.data.length).toBeGreaterThanOrEqual(5)
      const first = categories.data[0]
      if (first === undefined) return yield* Effect.die("no categories")

      const insights = yield* api.categories.insights({ path: { category_id: first.id } })
      expect(insights.category.id).toBe(first.id)
      expect(insights.data.length).toBeGreaterThanOrEqual(3)
      expect(insights.data.length).toBeLessThanOrEqual(6)
      expect(insights.data).toHaveLength(first.insight_count)
      for (const insight of insights.data) {
        expect(insight).toMatchObject({ category_id: first.id, credit_cost: expect.any(Number) })
        expect(insight.credit_cost).toBeGreaterThan(0)
      }
      // Raw: decoding drops properties the contract does not name, so only the wire shows a leaked prompt.
      const wire = yield* call("GET", `/api/categories/${first.id}/insights`)
      expect(wire.status).toBe(200)
      expect(wire.body).toMatchObject({ data: expect.any(Array) })
      expect(JSON.stringify(wire.body)).not.toContain(`"prompt"`)
    }))

  it.effect("an unknown category is a 404", () =>
    Effect.gen(function*() {
      yield* rejected((yield* client()).categories.insights({ path: { category_id: "no-such-category" } }), "NotFound")
    }))
})
