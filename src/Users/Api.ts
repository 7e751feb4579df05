/** Accounts: created or refreshed from the token's claims. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Authentication } from "../Auth/Api.js"
import { httpError, LockTimeout } from "../Domain/Errors.js"
import { UserProfile } from "../Domain/User.js"

export class UsersApi extends HttpApiGroup.make("users")
  .add(
    HttpApiEndpoint.post("store", "/api/users/store")
      .addSuccess(UserProfile)
      .addError(httpError(LockTimeout))
      .annotate(OpenApi.Description, "Creates the account of the token's subject on first login (granting the welcome credits once) and refreshes its email and name afterwards. Idempotent.")
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Users")
{}
