/**
 * Rate limits as the contract declares them: each is a middleware on the endpoints it guards, failing
 * with 429 `rate_limited` (and `Retry-After`). Costly routes are limited per user, public ones per client address.
 */
import { HttpApiMiddleware } from "@effect/platform"
import { httpError, RateLimited } from "./Errors.js"

/** Uploads of a user. */
export class UploadRateLimit extends HttpApiMiddleware.Tag<UploadRateLimit>()("chatsight/UploadRateLimit", {
  failure: httpError(RateLimited)
}) {}

/** Questions of a user (each may call the language model). */
export class QuestionRateLimit extends HttpApiMiddleware.Tag<QuestionRateLimit>()("chatsight/QuestionRateLimit", {
  failure: httpError(RateLimited)
}) {}

/** Requests without a token, per client address. */
export class PublicRateLimit extends HttpApiMiddleware.Tag<PublicRateLimit>()("chatsight/PublicRateLimit", {
  failure: httpError(RateLimited)
}) {}
