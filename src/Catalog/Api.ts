/** The insight catalogue, public. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Category, CategoryId, CategoryInsights } from "../Domain/Catalog.js"
import { httpError, NotFound } from "../Domain/Errors.js"
import { PublicRateLimit } from "../Domain/RateLimit.js"

export class CatalogApi extends HttpApiGroup.make("categories")
  .add(
    HttpApiEndpoint.get("list", "/api/categories")
      .addSuccess(Schema.Struct({ data: Schema.Array(Category) }))
  )
  .add(
    HttpApiEndpoint.get("insights", "/api/categories/:category_id/insights")
      .setPath(Schema.Struct({ category_id: CategoryId }))
      .addSuccess(CategoryInsights)
      .addError(httpError(NotFound))
  )
  .middleware(PublicRateLimit)
  .annotate(OpenApi.Title, "Categories")
  .annotate(OpenApi.Description, "Insight categories and the insight types sold in each")
{}
