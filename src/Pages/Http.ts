/**
 * The shared page's routes, beside the API rather than in its contract: they answer HTML and PNG, and a
 * chat that is missing, deleted, private or not even an id gets the same HTML 404 page.
 * `GET /s/{chat_id}` and `GET /s/{chat_id}/preview.png`, limited per client address like every public route.
 */
import { HttpApiBuilder, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Config, Effect, Layer, Option, Schema } from "effect"
import { PublicRateLimit } from "../Domain/RateLimit.js"
import { busyPage, notFoundPage } from "./Html.js"
import { SharedPages, type Variant } from "./SharedPages.js"

/** Where the service is reached from outside, for the Open Graph addresses; else the request's own host. */
const PublicBaseUrl = Config.option(Config.url("PUBLIC_BASE_URL"))

const isChatId = Schema.is(Schema.UUID)
const saneHost = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/

/** No script runs on these pages, and nothing is loaded from elsewhere. */
const securityHeaders = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-robots-tag": "noindex"
}

const html = (body: string, status: number) =>
  HttpServerResponse.text(body, {
    status,
    contentType: "text/html; charset=utf-8",
    headers: { ...securityHeaders, "cache-control": "no-store" }
  })

export const SharedPagesRoutes = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const pages = yield* SharedPages
    const limit = yield* PublicRateLimit
    const configured = yield* PublicBaseUrl

    const originOf = (request: HttpServerRequest.HttpServerRequest): string => {
      if (Option.isSome(configured)) return configured.value.origin
      const host = request.headers["host"] ?? ""
      const scheme = request.headers["x-forwarded-proto"] === "https" ? "https" : "http"
      return saneHost.test(host) ? `${scheme}://${host}` : "http://localhost"
    }

    const serve = (variant: Variant) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const { chat_id: chatId } = yield* HttpRouter.params
        yield* limit
        if (chatId === undefined || !isChatId(chatId)) return html(notFoundPage(), 404)
        const served = yield* pages.serve(chatId, variant, originOf(request), request.headers["if-none-match"])
        if (served._tag === "Missing") return html(notFoundPage(), 404)
        // Kept by a browser or a proxy, but asked about again every time: sharing may be turned off.
        const headers = { ...securityHeaders, etag: served.etag, "cache-control": "no-cache" }
        if (served._tag === "NotModified") return HttpServerResponse.empty({ status: 304, headers })
        return typeof served.body === "string"
          ? HttpServerResponse.text(served.body, { contentType: "text/html; charset=utf-8", headers })
          : HttpServerResponse.uint8Array(served.body, { contentType: "image/png", headers })
      }).pipe(
        Effect.catchTag("RateLimited", () => Effect.succeed(html(busyPage(), 429)))
      )

    yield* router.get("/s/:chat_id", serve("page"))
    yield* router.get("/s/:chat_id/preview.png", serve("preview"))
  })
)

export const SharedPagesLive = SharedPagesRoutes.pipe(Layer.provide(SharedPages.Default))
