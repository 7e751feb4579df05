/**
 * The one check every domain makes before it touches a chat: the chat is the caller's and not deleted.
 * Missing, deleted and someone else's chats all answer the same 404.
 */
import { Effect } from "effect"
import { orDatabaseError } from "../Database.js"
import { NotFound } from "../Domain/Errors.js"
import { orFail } from "../Domain/Found.js"
import { ChatsRepo } from "./Repo.js"

/** Missing, deleted, or someone else's: all answer the same 404. */
export const chatNotFound = (chatId: string) => new NotFound({ message: `No chat ${chatId}` })

export class ChatAccess extends Effect.Service<ChatAccess>()("chatsight/ChatAccess", {
  effect: Effect.gen(function*() {
    const repo = yield* ChatsRepo

    /** The user's chat, or `NotFound`. */
    const owned = (userId: string, chatId: string) =>
      repo.find({ userId, chatId }).pipe(
        orFail(() => chatNotFound(chatId)),
        orDatabaseError,
        Effect.withSpan("ChatAccess.owned", { attributes: { chatId } })
      )

    /** The owner of a chat that is not deleted, for background work that has only the chat's id. */
    const ownerOf = (chatId: string) =>
      repo.ownerOf(chatId).pipe(orDatabaseError, Effect.withSpan("ChatAccess.ownerOf", { attributes: { chatId } }))

    return { owned, ownerOf } as const
  }),
  dependencies: [ChatsRepo.Default]
}) {}
