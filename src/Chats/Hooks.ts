/**
 * What other domains do once a chat is stored, without Chats knowing who they are: the wiring
 * (`Http.ts`) registers them, e.g. questions queue the chat's embedding.
 */
import { Context, Effect, Layer } from "effect"
import type { DatabaseError } from "../Domain/Errors.js"

export interface StoredChat {
  readonly chatId: string
  readonly userId: string
  /** Set when new messages were merged into a chat already stored (its work is enqueued anew): names that merge. */
  readonly mergeId?: string | undefined
}

/** Runs after the chat is committed; it should only enqueue durable work, not do it. */
export type OnChatStored = (chat: StoredChat) => Effect.Effect<void, DatabaseError>

export class ChatHooks extends Context.Tag("chatsight/ChatHooks")<ChatHooks, {
  readonly stored: ReadonlyArray<OnChatStored>
}>() {
  /** The hooks, each built in the layer's context (so the layer requires what they require). */
  static layer<E, R>(...hooks: ReadonlyArray<Effect.Effect<OnChatStored, E, R>>): Layer.Layer<ChatHooks, E, R> {
    return Layer.effect(ChatHooks, Effect.map(Effect.all(hooks), (stored) => ({ stored })))
  }
}
