/**
 * The HTTP application: the contract's handlers, authentication, OpenAPI at `/docs/openapi.json`, a
 * browsable UI at `/docs`, and the edge middleware. It needs an `HttpServer` (Node's in `main.ts`, a
 * random port in tests) and the `Database`.
 */
import { Headers, HttpApiBuilder, HttpApiSwagger, HttpMiddleware, HttpServer, OpenApi } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import { Api } from "./Api.js"
import { Authenticator } from "./Auth.js"
import { AuthenticationLive } from "./Auth/Http.js"
import { HttpCatalogLive } from "./Catalog/Http.js"
import { ChatHooks } from "./Chats/Hooks.js"
import { HttpChatsLive } from "./Chats/Http.js"
import { HttpChartsLive } from "./Charts/Http.js"
import { SharedPagesLive } from "./Pages/Http.js"
import { LlmLive } from "./Llm/Live.js"
import { queueEmbedding } from "./Rag/Embedding.js"
import { HttpRagLive } from "./Rag/Http.js"
import { VectorLive } from "./Vector/Live.js"
import { IngestConfig, ServerConfig } from "./Config.js"
import { BalanceLane, HttpCreditsLive } from "./Credits/Http.js"
import { HttpHealthLive } from "./Health/Http.js"
import { HttpInsightsLive } from "./Insights/Http.js"
import { HttpPaymentsLive } from "./Payments/Http.js"
import { HttpExportsLive } from "./Exports/Http.js"
import { edge, RenderFailuresLive } from "./Http/Middleware.js"
import { cleanOpenApi } from "./Http/OpenApiCleanup.js"
import { Lane } from "./Http/Lane.js"
import { routeOfRequest, routeTable } from "./Http/Routes.js"
import { spanNameOf } from "./Http/SpanName.js"
import { RateLimitsLive } from "./RateLimit/Http.js"
import { HttpUsersLive } from "./Users/Http.js"
import { Jobs } from "./Worker/Jobs.js"

/** What follows a stored chat: questions need its vectors, so its embedding is queued. */
const ChatHooksLive = ChatHooks.layer(queueEmbedding).pipe(Layer.provide(Jobs.Default))

// The served document says what the edge really sends (see OpenApiCleanup); the contract itself stays plain.
const ServedApi = Api.annotate(OpenApi.Transform, cleanOpenApi)

const ApiLive = HttpApiBuilder.api(ServedApi).pipe(
  Layer.provide([HttpHealthLive, HttpUsersLive, HttpCatalogLive, HttpCreditsLive, HttpChatsLive, HttpChartsLive, HttpRagLive, HttpInsightsLive, HttpPaymentsLive, HttpExportsLive]),
  Layer.provide([AuthenticationLive, ChatHooksLive, RateLimitsLive]),
  Layer.provide([LlmLive, VectorLive])
)

const routeOf = routeOfRequest(routeTable(Api))

export const HttpAppLive = Layer.unwrapScoped(
  Effect.gen(function*() {
    const config = yield* ServerConfig
    const ingest = yield* IngestConfig
    // The balance is read by every client on every screen: its plain requests take the Node server's
    // lean lane when there is one (Http/Lane.ts); the contract's handler answers the rest.
    const lane = yield* Effect.serviceOption(Lane)
    if (Option.isSome(lane)) yield* lane.value.install([yield* BalanceLane])
    return HttpApiBuilder.serve(edge({
      ...config,
      routeOf,
      bodyLimit: (types) => types.includes("multipart/form-data") ? ingest.maxUploadBytes : config.maxBodyBytes
    }))
  })
).pipe(
  Layer.provide(Authenticator.Default),
  HttpMiddleware.withSpanNameGenerator(spanNameOf(routeOf)),
  Layer.provide(HttpApiSwagger.layer({ path: "/docs" })),
  // The shared pages answer HTML, so they are routes beside the contract rather than in it.
  Layer.provide(SharedPagesLive.pipe(Layer.provide([ChatHooksLive, RateLimitsLive]), Layer.provide(LlmLive))),
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/docs/openapi.json" })),
  Layer.provide(RenderFailuresLive),
  Layer.provide(ApiLive),
  HttpServer.withLogAddress,
  // Request headers are span attributes: credentials and webhook signatures are written as <redacted>.
  Layer.locally(Headers.currentRedactedNames, [
    "authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "stripe-signature",
    "x-razorpay-signature"
  ])
)
