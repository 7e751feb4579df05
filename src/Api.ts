/** The HTTP contract: every group, endpoint, schema and error; the OpenAPI document is made from it. */
import { HttpApi, OpenApi } from "@effect/platform"
import { CatalogApi } from "./Catalog/Api.js"
import { ChartsApi } from "./Charts/Api.js"
import { ChatsApi } from "./Chats/Api.js"
import { RagApi } from "./Rag/Api.js"
import { CreditsApi } from "./Credits/Api.js"
import {
  DatabaseError,
  HeadersTooLarge,
  httpError,
  InternalError,
  PayloadTooLarge,
  RequestTimeout,
  ServiceUnavailable,
  UnsupportedMediaType,
  ValidationError
} from "./Domain/Errors.js"
import { HealthApi } from "./Health/Api.js"
import { InsightsApi } from "./Insights/Api.js"
import { PaymentsApi } from "./Payments/Api.js"
import { ExportsApi } from "./Exports/Api.js"
import { UsersApi } from "./Users/Api.js"
import { version } from "./Domain/Version.js"

export class Api extends HttpApi.make("chatsight")
  .add(HealthApi)
  .add(UsersApi)
  .add(CatalogApi)
  .add(CreditsApi)
  .add(ChatsApi)
  .add(ChartsApi)
  .add(RagApi)
  .add(InsightsApi)
  .add(PaymentsApi)
  .add(ExportsApi)
  .addError(httpError(ValidationError))
  .addError(httpError(PayloadTooLarge))
  .addError(httpError(DatabaseError))
  .addError(httpError(InternalError))
  .addError(httpError(ServiceUnavailable))
  // Refused by the edge before any handler runs: a stalled body, a body of the wrong type, oversized headers.
  .addError(httpError(RequestTimeout))
  .addError(httpError(UnsupportedMediaType))
  .addError(httpError(HeadersTooLarge))
  .annotate(OpenApi.Title, "Chatsight API")
  .annotate(OpenApi.Version, version)
  .annotate(
    OpenApi.Description,
    "Upload WhatsApp chats, read exact statistics, ask cited questions and unlock insight reports. " +
      "Every error answers `{ error: { code, message, request_id } }`."
  )
{}
