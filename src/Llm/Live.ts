/**
 * The `Llm` layer chosen by config: Gemini when GEMINI_API_KEY is set (and not blank), else the
 * offline model, which says in every answer that it is offline.
 */
import { Config, type ConfigError, Effect, Layer, Option, Redacted } from "effect"
import type { Llm } from "../Llm.js"
import { GeminiLive } from "./Gemini.js"
import { OfflineLive } from "./Offline.js"

/** Whether a Gemini key is configured; a blank value (an empty line in an env file) counts as none. */
export const geminiKeyIsSet = Config.option(Config.redacted("GEMINI_API_KEY")).pipe(
  Config.map(Option.exists((key) => Redacted.value(key).trim() !== ""))
)

export const LlmLive: Layer.Layer<Llm, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(geminiKeyIsSet, (isSet) => isSet ? GeminiLive : OfflineLive)
)
