/** Insight reports: unlocking a category of a chat for credits, the generation job, and the chat's reports. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../Auth/Api.js"
import { ChatId } from "../Domain/Chat.js"
import { idempotencyHeaders } from "../Domain/Idempotency.js"
import { Conflict, httpError, InsufficientCredits, LockTimeout, NotFound } from "../Domain/Errors.js"
import {
  ChatInsights,
  ChatInsightsParams,
  Generated,
  GenerateRequest,
  GenerationStarted,
  InsightJobStatus,
  Unlocked,
  UnlockRequest
} from "../Domain/Insights.js"

const IdempotencyHeaders = idempotencyHeaders("Repeat the key to replay the stored answer; the same key with another body is a 409")

export class InsightsApi extends HttpApiGroup.make("insights")
  .add(
    HttpApiEndpoint.post("unlock", "/api/insights/unlock")
      .setPayload(UnlockRequest)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(Unlocked, { status: 202 })
      .addError(httpError(InsufficientCredits))
      .addError(httpError(NotFound))
      .addError(httpError(Conflict))
      .addError(httpError(LockTimeout))
      .annotate(
        OpenApi.Description,
        "Charges the insight types of the category not yet unlocked for the chat (0 when all are), marks them pending " +
          "and starts their generation job. 402 when the balance does not cover it; 409 while the chat is being ingested " +
          "or when an Idempotency-Key is reused with another body."
      )
  )
  .add(
    HttpApiEndpoint.get("jobStatus", "/api/insights/jobs/:job_id/status")
      .setPath(Schema.Struct({ job_id: Schema.UUID }))
      .addSuccess(InsightJobStatus)
      .addError(httpError(NotFound))
  )
  .add(
    HttpApiEndpoint.get("chatInsights", "/api/insights/chats/:chat_id")
      .setPath(Schema.Struct({ chat_id: ChatId }))
      .setUrlParams(ChatInsightsParams)
      .addSuccess(ChatInsights)
      .addError(httpError(NotFound))
      .annotate(OpenApi.Description, "Every insight of the chat with its report and cited messages, and the types still to buy with their price.")
  )
  .add(
    HttpApiEndpoint.post("generate", "/api/rag/generate")
      .setPayload(GenerateRequest)
      .addSuccess(Generated, { status: 200 })
      .addSuccess(GenerationStarted, { status: 202 })
      .addError(httpError(InsufficientCredits))
      .addError(httpError(NotFound))
      .addError(httpError(Conflict))
      .addError(httpError(LockTimeout))
      .annotate(OpenApi.Deprecated, true)
      .annotate(
        OpenApi.Description,
        "Deprecated: use POST /api/insights/unlock. Unlocks the category of one insight type (the same charge rules and " +
          "job) and answers 200 with the insight when it is ready within a short wait, else 202 with the job to poll."
      )
  )
  .middlewareEndpoints(Authentication)
  .annotate(OpenApi.Title, "Insights")
{}
