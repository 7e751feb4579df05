/** Handlers of the questions group. */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.js"
import { CurrentUser } from "../Domain/RequestContext.js"
import { Rag } from "../Rag.js"

export const HttpRagLive = HttpApiBuilder.group(Api, "rag", (handlers) =>
  Effect.gen(function*() {
    const rag = yield* Rag
    return handlers
      .handle("query", ({ payload }) =>
        Effect.flatMap(CurrentUser, (user) =>
          rag.query({
            userId: user.sub,
            chatId: payload.chat_id,
            question: payload.question,
            conversationId: payload.conversation_id
          })))
      .handle("conversations", ({ urlParams }) =>
        Effect.flatMap(CurrentUser, (user) => rag.listConversations(user.sub, urlParams.chat_id, urlParams)))
      .handle("conversation", ({ path }) =>
        Effect.flatMap(CurrentUser, (user) => rag.getConversation(user.sub, path.conversation_id)))
      .handle("deleteConversation", ({ path }) =>
        Effect.flatMap(CurrentUser, (user) => rag.deleteConversation(user.sub, path.conversation_id)))
      .handle("vectorStatus", ({ path }) => Effect.flatMap(CurrentUser, (user) => rag.vectorStatus(user.sub, path.chat_id)))
  })).pipe(Layer.provide(Rag.Default))
