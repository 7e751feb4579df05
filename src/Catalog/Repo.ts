/** The catalogue's SQL: active categories and insight types, in display order. */
import { SqlClient, SqlSchema, type Statement } from "@effect/sql"
import { Effect, Schema } from "effect"
import { Category, InsightType } from "../Domain/Catalog.js"

export class CatalogRepo extends Effect.Service<CatalogRepo>()("chatsight/CatalogRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const categoryQuery = (where: Statement.Fragment) =>
      sql`SELECT c.id, c.name, c.description, c.icon, count(t.id)::int AS insight_count
          FROM categories c LEFT JOIN insight_types t ON t.category_id = c.id AND t.is_active
          WHERE c.is_active ${where}
          GROUP BY c.id ORDER BY c.sort_order, c.id`

    const categories = SqlSchema.findAll({
      Request: Schema.Void,
      Result: Category,
      execute: () => categoryQuery(sql``)
    })

    const category = SqlSchema.findOne({
      Request: Schema.String,
      Result: Category,
      execute: (id) => categoryQuery(sql`AND c.id = ${id}`)
    })

    const insightTypes = SqlSchema.findAll({
      Request: Schema.String,
      Result: InsightType,
      execute: (categoryId) =>
        sql`SELECT id, category_id, name, description, credit_cost FROM insight_types
            WHERE category_id = ${categoryId} AND is_active ORDER BY sort_order, id`
    })

    return { categories, category, insightTypes } as const
  })
}) {}
