/** Questions about a chat, the conversations they make, and the chat's indexing progress. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../Auth/Api.js"
import { QuestionRateLimit } from "../Domain/RateLimit.js"
import { ChatId } from "../Domain/Chat.js"
import { httpError, NotFound, UpstreamUnavailable } from "../Domain/Errors.js"
import { Page } from "../Domain/Pagination.js"
import {
  Conversation,
  ConversationCursor,
  ConversationListParams,
  ConversationWithMessages,
  QueryAnswer,
  QueryRequest,
  VectorStatus
} from "../Domain/Rag.js"

const conversationPath = Schema.Struct({ conversation_id: Schema.UUID })

export class RagApi extends HttpApiGroup.make("rag")
  .add(
    HttpApiEndpoint.post("query", "/api/rag/query")
      .middleware(QuestionRateLimit)
      .setPayload(QueryRequest)
      .addSuccess(QueryAnswer)
      .addError(httpError(NotFound))
      .addError(httpError(UpstreamUnavailable))
      .annotate(OpenApi.Description, "Answers a question about one of your chats, citing the messages it rests on; pass conversation_id to follow up.")
  )
  .add(
    HttpApiEndpoint.get("conversations", "/api/rag/conversations")
      .setUrlParams(ConversationListParams)
      .addSuccess(Page(Conversation, ConversationCursor))
      .addError(httpError(NotFound))
  )
  .add(
    HttpApiEndpoint.get("conversation", "/api/rag/conversations/:conversation_id")
      .setPath(conversationPath)
      .addSuccess(ConversationWithMessages)
      .addError(httpError(NotFound))
  )
  .add(
    HttpApiEndpoint.del("deleteConversation", "/api/rag/conversations/:conversation_id")
      .setPath(conversationPath)
      .addSuccess(Schema.Struct({ id: Schema.String, deleted: Schema.Literal(true) }))
      .addError(httpError(NotFound))
  )
  .add(
    HttpApiEndpoint.get("vectorStatus", "/api/chats/:chat_id/vector-status")
      .setPath(Schema.Struct({ chat_id: ChatId }))
      .addSuccess(VectorStatus)
      .addError(httpError(NotFound))
  )
  // On each endpoint, outside its own middlewares: the question limit needs the authenticated user.
  .middlewareEndpoints(Authentication)
  .annotate(OpenApi.Title, "Questions")
{}
