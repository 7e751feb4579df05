/** Questions about a chat as the contract shows them: answers with citations, conversations, indexing progress. */
import { Schema } from "effect"
import { ChatId } from "./Chat.js"
import { OpaqueCursor, PageParams } from "./Pagination.js"

/** Longest question, in characters as people count them (an emoji is one). */
export const maxQuestionLength = 2000

/** How retrieval found its messages: both lists, or full text alone while the chat is being indexed. */
export const RetrievalMode = Schema.Literal("hybrid", "full-text")
export type RetrievalMode = typeof RetrievalMode.Type

export const AnswerMode = Schema.Literal("exact", "hybrid", "full-text", "offline-hybrid", "offline-full-text").annotations({
  description: "exact: counted by the database; hybrid: vector and full-text retrieval; full-text: the chat is " +
    "still being indexed; offline-*: no language model key is set, the answer is extractive"
})
export type AnswerMode = typeof AnswerMode.Type

/** A message an answer rests on, as stored (wall-clock `sent_at`). */
export const CitedMessage = Schema.Struct({
  message_id: Schema.String,
  author: Schema.NullOr(Schema.String),
  sent_at: Schema.String,
  text: Schema.String
}).annotations({ identifier: "CitedMessage" })
export type CitedMessage = typeof CitedMessage.Type

export const Conversation = Schema.Struct({
  id: Schema.String,
  chat_id: Schema.String,
  title: Schema.String,
  created_at: Schema.Date,
  updated_at: Schema.Date
}).annotations({ identifier: "Conversation" })
export type Conversation = typeof Conversation.Type

export const ConversationMessage = Schema.Struct({
  id: Schema.String,
  role: Schema.Literal("user", "assistant"),
  content: Schema.String,
  citations: Schema.Array(CitedMessage),
  mode: Schema.NullOr(Schema.String),
  created_at: Schema.Date
}).annotations({ identifier: "ConversationMessage" })
export type ConversationMessage = typeof ConversationMessage.Type

/** The position of a conversation in its chat's list (latest activity first): its last activity and id. */
export const ConversationCursor = OpaqueCursor(Schema.Tuple(Schema.Date, Schema.UUID))

export const ConversationListParams = Schema.Struct({
  chat_id: ChatId,
  ...PageParams(ConversationCursor).fields
})

export const ConversationWithMessages = Schema.Struct({
  ...Conversation.fields,
  messages: Schema.Array(ConversationMessage)
}).annotations({ identifier: "ConversationWithMessages" })

export const QueryRequest = Schema.Struct({
  chat_id: Schema.UUID,
  // Bounded here in UTF-16 units (twice the limit); the service counts characters exactly.
  question: Schema.String.pipe(Schema.maxLength(maxQuestionLength * 2)),
  conversation_id: Schema.optional(Schema.UUID)
})

export const QueryAnswer = Schema.Struct({
  answer: Schema.String,
  citations: Schema.Array(CitedMessage),
  conversation_id: Schema.String,
  mode: AnswerMode
}).annotations({ identifier: "QueryAnswer" })

export const VectorStatus = Schema.Struct({
  chat_id: Schema.String,
  status: Schema.Literal("pending", "indexing", "ready", "failed"),
  embedder: Schema.String,
  done: Schema.Int,
  total: Schema.Int,
  error: Schema.NullOr(Schema.String)
}).annotations({ identifier: "VectorStatus" })
export type VectorStatus = typeof VectorStatus.Type
