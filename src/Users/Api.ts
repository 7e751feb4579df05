/** Accounts: created or refreshed from the token's claims, and erased on request with everything they hold. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../Auth/Api.js"
import { EraseRequest, Erasure } from "../Domain/Erasure.js"
import { httpError, LockTimeout, NotFound } from "../Domain/Errors.js"
import { PublicRateLimit } from "../Domain/RateLimit.js"
import { UserProfile } from "../Domain/User.js"

export class UsersApi extends HttpApiGroup.make("users")
  .add(
    HttpApiEndpoint.post("store", "/api/users/store")
      .addSuccess(UserProfile)
      .addError(httpError(LockTimeout))
      .annotate(
        OpenApi.Description,
        "Creates the account of the token's subject on first login (granting the welcome credits once, and never " +
          "to a subject whose earlier account was erased) and refreshes its email and name afterwards. Idempotent."
      )
  )
  .add(
    HttpApiEndpoint.del("erase", "/api/users/delete-account")
      .setPayload(EraseRequest)
      .addSuccess(Erasure, { status: 202 })
      .addError(httpError(NotFound))
      .addError(httpError(LockTimeout))
      .annotate(
        OpenApi.Description,
        "Erases the account (GDPR article 17). At once: every token of it is refused (401), its chats, public pages, " +
          "conversations and insights vanish from every read, its running jobs stop at their next step, and its " +
          "unfinished orders are cancelled. A purge job then deletes its content everywhere, vectors included, and " +
          "pseudonymises what accounting keeps (ledger, paid orders). Answers 202 with the erasure, whose id reads its " +
          "progress at GET /api/users/erasures/{erasure_id}. The body `{ \"confirm\": \"<email>\" }` must name the " +
          "account's email (its id when it has no email), or nothing happens (400). A repeat with the same token is a " +
          "401: the account is already gone."
      )
  )
  .middlewareEndpoints(Authentication)
  .add(
    HttpApiEndpoint.get("erasure", "/api/users/erasures/:erasure_id")
      .middleware(PublicRateLimit)
      .setPath(Schema.Struct({ erasure_id: Schema.UUID }))
      .addSuccess(Erasure)
      .addError(httpError(NotFound))
      .annotate(
        OpenApi.Description,
        "The progress of an erasure: pending, purging or done, with the rows removed or pseudonymised per store. " +
          "No token: the erasure's id, known only to whoever erased the account, is the secret that reads it."
      )
  )
  .annotate(OpenApi.Title, "Users")
{}
