/** What the server asks the embedding thread (UseLiteThread.ts) and what comes back, as Schemas. */
import { Schema } from "effect"

/** Size of USE-lite's vectors. */
export const useLiteDimensions = 512

/** A model that failed to load or run: logged by the caller, reported as the embedder being unavailable. */
export class EmbedderFailed extends Schema.TaggedError<EmbedderFailed>()("EmbedderFailed", {
  reason: Schema.String
}) {}

/** Embeds texts, one vector per text in order. */
export class EmbedTexts extends Schema.TaggedRequest<EmbedTexts>()("EmbedTexts", {
  payload: { texts: Schema.Array(Schema.String) },
  success: Schema.Array(Schema.Array(Schema.Number)),
  failure: EmbedderFailed
}) {}

/** Every request the embedding thread serves. */
export const UseLiteRequest = Schema.Union(EmbedTexts)
export type UseLiteRequest = typeof UseLiteRequest.Type
