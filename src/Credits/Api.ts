/** Balance, ledger and packages. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../Auth/Api.js"
import { PublicRateLimit } from "../Domain/RateLimit.js"
import { Balance, CreditPackage, CreditTransaction } from "../Domain/Credits.js"
import { httpError, NotFound } from "../Domain/Errors.js"
import { Page, PageParams, SequenceCursor } from "../Domain/Pagination.js"

export class CreditsApi extends HttpApiGroup.make("credits")
  .add(
    HttpApiEndpoint.get("balance", "/api/credits/balance")
      .addSuccess(Balance)
      .addError(httpError(NotFound))
  )
  .add(
    HttpApiEndpoint.get("transactions", "/api/credits/transactions")
      .setUrlParams(PageParams(SequenceCursor))
      .addSuccess(Page(CreditTransaction, SequenceCursor))
      .addError(httpError(NotFound))
      .annotate(OpenApi.Description, "The ledger, newest first. Pass `next_cursor` as `starting_after` for the next page.")
  )
  .middlewareEndpoints(Authentication)
  .add(
    HttpApiEndpoint.get("packages", "/api/credits/packages")
      .middleware(PublicRateLimit)
      .addSuccess(Schema.Struct({ data: Schema.Array(CreditPackage) }))
  )
  .annotate(OpenApi.Title, "Credits")
{}
