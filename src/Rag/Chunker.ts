/**
 * Splits a chat into chunks of consecutive messages for embedding: a chunk never spans a silence
 * (a conversation boundary) and stays within a token budget; when a long conversation is cut by the
 * budget, the next chunk repeats the last messages before the cut so no exchange loses its context.
 */
import type { MediaKind, MessageKind } from "../Domain/MessageKind.js"

export interface ChunkInput {
  readonly id: string
  /** Wall-clock time as written, `YYYY-MM-DDTHH:MM:SS`. */
  readonly sent_at: string
  readonly author: string | null
  readonly text: string
  readonly kind: MessageKind
  /** Known for media parsed with media kinds, whose text is then a caption (not a placeholder). */
  readonly media_kind?: MediaKind | null
}

export interface Chunk {
  /** Position of the chunk in the chat, from 0. */
  readonly seq: number
  readonly firstMessageId: string
  readonly lastMessageId: string
  readonly messageCount: number
  /** The lines embedded: `Author (YYYY-MM-DD HH:MM): text`. */
  readonly text: string
  readonly tokenCount: number
}

export interface ChunkOptions {
  /** Largest chunk, in estimated tokens (a single longer message is a chunk of its own). */
  readonly maxTokens?: number
  /** Tokens of the previous chunk's tail repeated at the start of a chunk cut by the budget. */
  readonly overlapTokens?: number
  /** A gap at least this long starts a new conversation, and so a new chunk. */
  readonly silenceMinutes?: number
}

/** A cheap, stable token estimate: about four characters a token, at least one per line. */
export const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

const line = (message: ChunkInput): string =>
  `${message.author ?? "System"} (${message.sent_at.slice(0, 10)} ${message.sent_at.slice(11, 16)}): ${message.text}`

const minutesBetween = (a: string, b: string): number =>
  (Date.parse(`${b}Z`) - Date.parse(`${a}Z`)) / 60_000

/** Only what people wrote carries meaning to search: text and edited messages, and media captions. */
const searchable = (message: ChunkInput) =>
  message.kind === "text" || message.kind === "edited" ||
  (message.kind === "media" && message.media_kind != null && message.text !== "")

export const chunkMessages = (messages: ReadonlyArray<ChunkInput>, options: ChunkOptions = {}): Array<Chunk> => {
  const maxTokens = options.maxTokens ?? 512
  const overlapTokens = options.overlapTokens ?? 64
  const silenceMinutes = options.silenceMinutes ?? 60
  const chunks: Array<Chunk> = []
  let current: Array<{ readonly message: ChunkInput; readonly line: string; readonly tokens: number }> = []
  let tokens = 0

  const flush = () => {
    if (current.length === 0) return
    chunks.push({
      seq: chunks.length,
      firstMessageId: current[0]!.message.id,
      lastMessageId: current[current.length - 1]!.message.id,
      messageCount: current.length,
      text: current.map((entry) => entry.line).join("\n"),
      tokenCount: tokens
    })
  }

  let previous: ChunkInput | undefined
  for (const message of messages) {
    if (!searchable(message) || message.text.trim().length === 0) continue
    const text = line(message)
    const entry = { message, line: text, tokens: estimateTokens(text) }
    const silence = previous !== undefined && minutesBetween(previous.sent_at, message.sent_at) >= silenceMinutes
    if (silence) {
      flush()
      current = []
      tokens = 0
    } else if (current.length > 0 && tokens + entry.tokens > maxTokens) {
      flush()
      // Carry the tail of the cut conversation, within the overlap budget and never the whole chunk.
      const tail: typeof current = []
      let tailTokens = 0
      for (let i = current.length - 1; i > 0; i--) {
        const candidate = current[i]!
        if (tailTokens + candidate.tokens > overlapTokens) break
        tail.unshift(candidate)
        tailTokens += candidate.tokens
      }
      current = tail
      tokens = tailTokens
    }
    current.push(entry)
    tokens += entry.tokens
    previous = message
  }
  flush()
  return chunks
}
