/** Settings of the Gemini layer (read here, not in `Config.ts`, because only this layer uses them). */
import { Config } from "effect"
import { duration } from "../../Config.js"

export const GeminiConfig = Config.all({
  apiKey: Config.redacted("GEMINI_API_KEY"),
  /** Another endpoint (a proxy, or a fake server in tests); the SDK's default otherwise. */
  baseUrl: Config.option(Config.string("GEMINI_BASE_URL")),
  chatModel: Config.string("GEMINI_CHAT_MODEL").pipe(Config.withDefault("gemini-2.5-flash")),
  embeddingModel: Config.string("GEMINI_EMBEDDING_MODEL").pipe(Config.withDefault("gemini-embedding-001")),
  /** Bounds one HTTP attempt (not the whole retry sequence). */
  timeout: duration("GEMINI_TIMEOUT", "30 seconds"),
  /** Retries after the first attempt, on 408, 429, 5xx, timeouts, lost connections and unreadable replies. */
  maxRetries: Config.integer("GEMINI_MAX_RETRIES").pipe(
    Config.withDefault(4),
    Config.validate({ message: "GEMINI_MAX_RETRIES must be at least 0", validation: (n) => n >= 0 })
  ),
  /** First backoff delay; it doubles each retry and is jittered. */
  retryBaseDelay: duration("GEMINI_RETRY_BASE_DELAY", "500 millis"),
  /**
   * The longest backoff delay; a Retry-After longer than this ends the retries at once, since waiting
   * that long inside a request is worse than telling the client to come back.
   */
  retryMaxDelay: duration("GEMINI_RETRY_MAX_DELAY", "20 seconds")
})

export type GeminiSettings = Config.Config.Success<typeof GeminiConfig>
