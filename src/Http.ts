/**
 * The HTTP application: the contract's handlers, authentication, OpenAPI at `/docs/openapi.json`, a
 * browsable UI at `/docs`, and the edge middleware. It needs an `HttpServer` (Node's in `main.ts`, a
 * random port in tests) and the `Database`.
 */
import { Headers, HttpApiBuilder, HttpApiSwagger, HttpMiddleware, HttpServer, OpenApi } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "./Api.js"
import { AuthenticationLive } from "./Auth/Http.js"
import { HttpCatalogLive } from "./Catalog/Http.js"
import { ChatHooks } from "./Chats/Hooks.js"
import { HttpChatsLive } from "./Chats/Http.js"
import { LlmLive } from "./Llm/Live.js"
import { queueEmbedding } from "./Rag/Embedding.js"
import { HttpRagLive } from "./Rag/Http.js"
import { VectorLive } from "./Vector/Live.js"
import { IngestConfig, ServerConfig } from "./Config.js"
import { HttpCreditsLive } from "./Credits/Http.js"
import { HttpHealthLive } from "./Health/Http.js"
import { HttpInsightsLive } from "./Insights/Http.js"
import { HttpPaymentsLive } from "./Payments/Http.js"
import { HttpExportsLive } from "./Exports/Http.js"
import { edge, RenderFailuresLive } from "./Http/Middleware.js"
import { cleanOpenApi } from "./Http/OpenApiCleanup.js"
import { bodyTypes } from "./Http/Routes.js"
import { initialSpanName } from "./Http/SpanName.js"
import { RateLimitsLive } from "./RateLimit/Http.js"
import { HttpUsersLive } from "./Users/Http.js"
import { Jobs } from "./Worker/Jobs.js"

/** What follows a stored chat: questions need its vectors, so its embedding is queued. */
const ChatHooksLive = ChatHooks.layer(queueEmbedding).pipe(Layer.provide(Jobs.Default))

// The served document says what the edge really sends (see OpenApiCleanup); the contract itself stays plain.
const ServedApi = Api.annotate(OpenApi.Transform, cleanOpenApi)

const ApiLive = HttpApiBuilder.api(ServedApi).pipe(
  Layer.provide([HttpHealthLive, HttpUsersLive, HttpCatalogLive, HttpCreditsLive, HttpChatsLive, HttpRagLive, HttpInsightsLive, HttpPaymentsLive, HttpExportsLive]),
  Layer.provide([AuthenticationLive, ChatHooksLive, RateLimitsLive]),
  Layer.provide([LlmLive, VectorLive])
)

export const HttpAppLive = Layer.unwrapEffect(
  Effect.map(Effect.all([ServerConfig, IngestConfig]), ([config, ingest]) => {
    const typesOf = bodyTypes(Api)
    return HttpApiBuilder.serve(edge({
      ...config,
      bodyRules: (method, path) => {
        const types = typesOf(method, path)
        return { types, limit: types.includes("multipart/form-data") ? ingest.maxUploadBytes : config.maxBodyBytes }
      }
    }))
  })
).pipe(
  HttpMiddleware.withSpanNameGenerator(initialSpanName),
  Layer.provide(HttpApiSwagger.layer({ path: "/docs" })),
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
