/** The insight catalogue: categories and the insight types sold within them. */
import { Schema } from "effect"

export const CategoryId = Schema.String.pipe(
  Schema.pattern(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: () => "must be a lowercase slug such as relationship-dynamics" })
)

export const Category = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  description: Schema.String,
  icon: Schema.NullOr(Schema.String),
  insight_count: Schema.Int
}).annotations({ identifier: "Category" })
export type Category = typeof Category.Type

export const InsightType = Schema.Struct({
  id: Schema.String,
  category_id: Schema.String,
  name: Schema.String,
  description: Schema.String,
  credit_cost: Schema.Int
}).annotations({ identifier: "InsightType" })

export const CategoryInsights = Schema.Struct({
  category: Category,
  data: Schema.Array(InsightType)
}).annotations({ identifier: "CategoryInsights" })
