/** The `Authentication` middleware of the contract: a bearer token that yields the `CurrentUser`. */
import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Schema } from "effect"
import { DatabaseError, httpError, Unauthorized } from "../Domain/Errors.js"
import { CurrentUser } from "../Domain/RequestContext.js"

export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("chatsight/Authentication", {
  provides: CurrentUser,
  failure: Schema.Union(httpError(Unauthorized), httpError(DatabaseError)),
  security: { bearer: HttpApiSecurity.bearer }
}) {}
