/**
 * bench:rag's way to put a chat in the database and embed it: through `ChatsRepo`, as an upload stores
 * one (without the parser), and the real embedding job (`EmbedChat`), as the worker runs it.
 */
import { Effect } from "effect"
import { ChatsRepo } from "../src/Chats/Repo.js"
import { Llm } from "../src/Llm.js"
import { EmbedChat } from "../src/Rag/Embedding.js"
import type { RunningJob } from "../src/Worker/Handler.js"

export const benchUserId = "bench-rag-user"

export interface StoredMessage {
  readonly seq: number
  /** `YYYY-MM-DDTHH:MM:SS`, wall clock as written (read as UTC). */
  readonly sentAt: string
  readonly author: string | null
  readonly text: string
  readonly kind: string
  readonly mediaKind?: string | null
  readonly fileName?: string | null
  readonly event?: string | null
}

/** Messages per `insertMessages` statement (the service's default `INGEST_INSERT_BATCH`). */
export const insertBatch = 5000

/** `ChatsRepo` takes wall-clock times as `YYYY-MM-DD HH:MM:SS`. */
const wallClock = (sentAt: string) => sentAt.replace("T", " ")

export const storeChat = (name: string, participants: ReadonlyArray<string>, messages: ReadonlyArray<StoredMessage>) =>
  Effect.gen(function*() {
    const chats = yield* ChatsRepo
    const first = messages[0]
    const last = messages[messages.length - 1]
    const inserted = yield* chats.insert({
      userId: benchUserId,
      displayName: name,
      sourceFilename: null,
      contentHash: `bench-${name}-${messages.length}`,
      participants,
      messageCount: messages.length,
      firstMessageAt: first === undefined ? null : wallClock(first.sentAt),
      lastMessageAt: last === undefined ? null : wallClock(last.sentAt),
      parseReport: null,
      timeZone: "UTC"
    })
    // A fresh scratch database holds no chat of the same hash: none here is a bug of the bench.
    const chatId = yield* Effect.orDie(inserted)
    for (let start = 0; start < messages.length; start += insertBatch) {
      const batch = messages.slice(start, start + insertBatch)
      yield* chats.insertMessages(chatId, "UTC", {
        seq: batch.map((m) => m.seq),
        sentAt: batch.map((m) => wallClock(m.sentAt)),
        author: batch.map((m) => m.author),
        text: batch.map((m) => m.text),
        kind: batch.map((m) => m.kind),
        mediaKind: batch.map((m) => m.mediaKind ?? null),
        fileName: batch.map((m) => m.fileName ?? null),
        event: batch.map((m) => m.event ?? null)
      })
    }
    return chatId
  })

/** Runs the real embedding job on a chat, as the worker would, with the `Llm` in context. */
export const embedChat = (chatId: string) =>
  Effect.gen(function*() {
    const llm = yield* Llm
    const job: RunningJob = {
      id: "bench",
      kind: EmbedChat.kind,
      attempt: 1,
      maxAttempts: 1,
      userId: benchUserId,
      instanceId: "bench-rag",
      setProgress: () => Effect.void
    }
    yield* EmbedChat.execute({ chat_id: chatId, embedder: llm.embedder }, job)
  })
