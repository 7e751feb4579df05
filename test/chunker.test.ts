import { describe, expect, it } from "@effect/vitest"
import { type ChunkInput, chunkMessages, estimateTokens } from "../src/Rag/Chunker.js"

let nextId = 1
const message = (sentAt: string, author: string, text: string, kind: ChunkInput["kind"] = "text"): ChunkInput => ({
  id: String(nextId++),
  sent_at: sentAt,
  author,
  text,
  kind
})

describe("chunking a chat for embedding", () => {
  it("keeps one conversation in one chunk, written as author, time and text lines", () => {
    const chat = [
      message("2024-03-05T14:02:00", "Sam Rivera", "are we still moving in May?"),
      message("2024-03-05T14:05:00", "Noa Lindqvist", "yes, the flat in Porto is ours from the 1st")
    ]
    const [chunk, ...rest] = chunkMessages(chat)
    expect(rest).toEqual([])
    expect(chunk).toMatchObject({ seq: 0, firstMessageId: chat[0]!.id, lastMessageId: chat[1]!.id, messageCount: 2 })
    expect(chunk!.text).toBe(
      "Sam Rivera (2024-03-05 14:02): are we still moving in May?\n" +
        "Noa Lindqvist (2024-03-05 14:05): yes, the flat in Porto is ours from the 1st"
    )
    expect(chunk!.tokenCount).toBe(estimateTokens(chunk!.text.split("\n")[0]!) + estimateTokens(chunk!.text.split("\n")[1]!))
  })

  it("starts a new chunk after a silence, without overlap across it", () => {
    const chat = [
      message("2024-03-05T09:00:00", "Sam Rivera", "morning"),
      message("2024-03-05T09:20:00", "Noa Lindqvist", "morning!"),
      message("2024-03-05T11:00:00", "Sam Rivera", "lunch at the market?")
    ]
    const chunks = chunkMessages(chat, { silenceMinutes: 60 })
    expect(chunks.map((c) => [c.firstMessageId, c.lastMessageId])).toEqual([
      [chat[0]!.id, chat[1]!.id],
      [chat[2]!.id, chat[2]!.id]
    ])
  })

  it("cuts a long conversation by the token budget and repeats its tail in the next chunk", () => {
    const chat = Array.from({ length: 12 }, (_, i) =>
      message(`2024-03-05T10:${String(i).padStart(2, "0")}:00`, i % 2 === 0 ? "Sam Rivera" : "Noa Lindqvist", "x".repeat(60)))
    const perLine = estimateTokens(`Sam Rivera (2024-03-05 10:00): ${"x".repeat(60)}`)
    const chunks = chunkMessages(chat, { maxTokens: perLine * 4, overlapTokens: perLine * 1 })
    expect(chunks.every((c) => c.tokenCount <= perLine * 4 + 1)).toBe(true)
    // Each later chunk starts with the last message of the one before.
    for (let i = 1; i < chunks.length; i++) {
      expect(chunks[i]!.firstMessageId).toBe(chunks[i - 1]!.lastMessageId)
    }
    expect(chunks[0]!.firstMessageId).toBe(chat[0]!.id)
    expect(chunks[chunks.length - 1]!.lastMessageId).toBe(chat[11]!.id)
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i))
  })

  it("leaves out what carries no words: system events, media, deleted and empty messages", () => {
    const chat = [
      message("2024-03-05T10:00:00", "Sam Rivera", "Sam Rivera created group \"Move\"", "system"),
      message("2024-03-05T10:01:00", "Sam Rivera", "<Media omitted>", "media"),
      message("2024-03-05T10:02:00", "Noa Lindqvist", "This message was deleted", "deleted"),
      message("2024-03-05T10:03:00", "Noa Lindqvist", "   "),
      message("2024-03-05T10:04:00", "Noa Lindqvist", "the boxes arrive on Friday", "edited")
    ]
    const chunks = chunkMessages(chat)
    expect(chunks).toHaveLength(1)
    expect(chunks[0]).toMatchObject({ firstMessageId: chat[4]!.id, lastMessageId: chat[4]!.id, messageCount: 1 })
  })

  it("gives a message longer than the budget a chunk of its own", () => {
    const chat = [
      message("2024-03-05T10:00:00", "Sam Rivera", "short"),
      message("2024-03-05T10:01:00", "Noa Lindqvist", "y".repeat(4000)),
      message("2024-03-05T10:02:00", "Sam Rivera", "wow")
    ]
    const chunks = chunkMessages(chat, { maxTokens: 100, overlapTokens: 0 })
    expect(chunks.map((c) => c.messageCount)).toEqual([1, 1, 1])
    expect(chunks[1]!.tokenCount).toBeGreaterThan(100)
  })

  it("makes no chunk of an empty chat", () => {
    expect(chunkMessages([])).toEqual([])
  })
})
