/**
 * Chats whose statistics were stored before the chart fields existed get them recomputed from their
 * stored messages (src/Chats/ChartBackfill.ts): the same statistics an upload computes today, once.
 */
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { backfillChartStatistics } from "../src/Chats/ChartBackfill.js"
import { MergeRepo } from "../src/Chats/MergeRepo.js"
import { ParserThreads } from "../src/Ingest/ParserThreads.js"
import { call, TestApp, tokenFor, upload } from "./support/TestApp.js"

const lines = Array.from({ length: 40 }, (_, i) => {
  const day = String(1 + (i % 9)).padStart(2, "0")
  const hour = String(8 + (i % 12)).padStart(2, "0")
  return `${day}/05/2024, ${hour}:${String(i % 60).padStart(2, "0")} - ${i % 3 === 0 ? "Ana" : "Bruno"}: message ${i} 🎉`
}).sort()

const App = Layer.mergeAll(MergeRepo.Default, ParserThreads.Default).pipe(Layer.provideMerge(TestApp()))

layer(App, { excludeTestServices: true })("older chats' chart statistics", (it) => {
  it.effect("are recomputed once from the stored messages, equal to what the upload computed", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const token = yield* tokenFor("backfill-user")
      expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
      const reply = yield* upload(token, { name: "older.txt", bytes: new Uint8Array(Buffer.from(`${lines.join("\n")}\n`)) })
      expect(reply.status).toBe(201)
      const stored = () =>
        Effect.map(sql<{ stats: { totals: { activity: Record<string, unknown> } }; computed_at: Date }>`
          SELECT s.stats, s.computed_at FROM chat_stats s JOIN chats c ON c.id = s.chat_id WHERE c.user_id = 'backfill-user'`,
          (rows) => rows[0]!)
      const fresh = yield* stored()
      expect(fresh.stats.totals.activity["by_weekday_hour"]).toBeDefined()

      // As stored before the chart fields existed.
      yield* sql`UPDATE chat_stats SET stats = stats #- '{totals,activity,by_weekday_hour}'
                 WHERE chat_id IN (SELECT id FROM chats WHERE user_id = 'backfill-user')`
      expect((yield* stored()).stats.totals.activity["by_weekday_hour"]).toBeUndefined()

      expect(yield* backfillChartStatistics).toBeGreaterThanOrEqual(1)
      const after = yield* stored()
      expect(after.stats).toEqual(fresh.stats)
      // Done once: a second pass finds nothing of this user's to do and leaves the row alone.
      yield* backfillChartStatistics
      expect((yield* stored()).computed_at).toEqual(after.computed_at)
    }))
})
