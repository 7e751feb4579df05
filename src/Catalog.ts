/** The insight catalogue as sold: active categories, and the insight types of each with their cost. */
import { Effect } from "effect"
import { CatalogRepo } from "./Catalog/Repo.js"
import { orDatabaseError } from "./Database.js"
import { NotFound } from "./Domain/Errors.js"
import { orFail } from "./Domain/Found.js"

export class Catalog extends Effect.Service<Catalog>()("chatsight/Catalog", {
  effect: Effect.gen(function*() {
    const repo = yield* CatalogRepo

    const categories = repo.categories().pipe(
      Effect.map((data) => ({ data })),
      orDatabaseError,
      Effect.withSpan("Catalog.categories")
    )

    const insightsOf = (categoryId: string) =>
      Effect.gen(function*() {
        const category = yield* repo.category(categoryId).pipe(
          orFail(() => new NotFound({ message: `No category "${categoryId}"` }))
        )
        const data = yield* repo.insightTypes(categoryId)
        return { category, data }
      }).pipe(orDatabaseError, Effect.withSpan("Catalog.insightsOf", { attributes: { categoryId } }))

    return { categories, insightsOf } as const
  }),
  dependencies: [CatalogRepo.Default]
}) {}
