/**
 * Looks through every column of every table of the database for strings: what an erasure must leave
 * nowhere (a user's id, their chats' ids, text that was in their chats).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export interface Trace {
  readonly table: string
  readonly column: string
  readonly needle: string
  readonly rows: number
}

/** Where each of `needles` appears, read as text; the migrations' own bookkeeping is not looked at. */
export const tracesOf = (needles: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const columns = yield* sql<{ table_name: string; column_name: string }>`
      SELECT c.table_name, c.column_name FROM information_schema.columns c
      JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name NOT LIKE 'effect_sql_%'
        AND c.data_type NOT IN ('integer', 'bigint', 'boolean', 'smallint', 'double precision', 'real', 'numeric',
                                'timestamp with time zone', 'timestamp without time zone', 'USER-DEFINED', 'bytea')
      ORDER BY c.table_name, c.column_name`
    const traces: Array<Trace> = []
    for (const { column_name: column, table_name: table } of columns) {
      for (const needle of needles) {
        const [row] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql(table)}
          WHERE ${sql(column)}::text LIKE ${`%${needle}%`}`
        if ((row?.n ?? 0) > 0) traces.push({ table, column, needle, rows: row?.n ?? 0 })
      }
    }
    return traces
  }).pipe(Effect.orDie)
