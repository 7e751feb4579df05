/** Questions about a chat, the conversations they make, and the chat's indexing progress. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../Auth/Api.js"
import { ChatId } from "../Domain/Chat.js"
import { httpError, NotFound, UpstreamUnavailable } from "../Domain/Errors.js"
import { maxQuestionLength } from "../Rag.js"
import { CitedMessage, Conversation, ConversationMessage } from "./Repo.js"

const ConversationJson = Schema.Struct({ ...Conversation.fields, created_at: Schema.Date, updated_at: Schema.Date })
  .annotations({ identifier: "Conversation" })

export const QueryAnswer = Schema.Struct({
  answer: Schema.String,
  citations: Schema.Array(CitedMessage),
  conversation_id: Schema.String,
  mode: Schema.Literal("exact", "hybrid", "full-text", "offline-hybrid", "offline-full-text").annotations({
    description: "exact: counted by the database; hybrid: vector and full-text retrieval; full-text: the chat is " +
      "still being indexed; offline-*: no language model key is set, the answer is extractive"
  })
}).annotations({ identifier: "QueryAnswer" })

export const VectorStatus = Schema.Struct({
  chat_id: Schema.String,
  status: Schema.Literal("pending", "indexing", "ready", "failed"),
  embedder: Schema.String,
  done: Schema.Int,
  total: Schema.Int,
  error: Schema.NullOr(Schema.String)
}).annotations({ identifier: "VectorStatus" })

const conversationPath = Schema.Struct({ conversation_id: Schema.UUID })

export class RagApi extends HttpApiGroup.make("rag")
  .add(
    HttpApiEndpoint.post("query", "/api/rag/query")
      .setPayload(Schema.Struct({
        chat_id: ChatId,
        question: Schema.String.pipe(Schema.maxLength(maxQuestionLength * 2)),
        conversation_id: Schema.optional(Schema.UUID)
      }))
      .addSuccess(QueryAnswer)
      .addError(httpError(NotFound))
      .addError(httpError(UpstreamUnavailable))
      .annotate(OpenApi.Description, "Answers a question about one of your chats, citing the messages it rests on; pass conversation_id to follow up.")
  )
  .add(
    HttpApiEndpoint.get("conversations", "/api/rag/conversations")
      .setUrlParams(Schema.Struct({ chat_id: ChatId }))
      .addSuccess(Schema.Struct({ data: Schema.Array(ConversationJson) }))
      .addError(httpError(NotFound))
  )
  .add(
    HttpApiEndpoint.get("conversation", "/api/rag/conversations/:conversation_id")
      .setPath(conversationPath)
      .addSuccess(Schema.Struct({
        ...ConversationJson.fields,
        messages: Schema.Array(Schema.Struct({ ...ConversationMessage.fields, created_at: Schema.Date }))
      }))
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
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Questions")
{}
