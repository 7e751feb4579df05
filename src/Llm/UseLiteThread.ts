/**
 * The embedding thread's entry: loads USE-lite once (on the first request, from the bundled files) and
 * embeds texts, so the server's event loop keeps answering while a chat is embedded.
 */
import * as WorkerRunner from "@effect/platform/WorkerRunner"
import { Effect } from "effect"
import type { EmbeddingsModel } from "@energetic-ai/embeddings"
import { serveThread } from "../Threads.js"
import { embedWith, loadUseLite } from "./UseLiteModel.js"
import { EmbedderFailed, type EmbedTexts, UseLiteRequest } from "./UseLiteRequest.js"

// Kept for the thread's life; a failed load is forgotten so that the next request tries again.
let model: Promise<EmbeddingsModel> | undefined

const loaded = (): Promise<EmbeddingsModel> => {
  model ??= loadUseLite().catch((cause: unknown) => {
    model = undefined
    throw cause
  })
  return model
}

const reasonOf = (cause: unknown) => cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)

const embedTexts = (request: EmbedTexts) =>
  Effect.tryPromise({
    try: () => loaded().then((m) => embedWith(m, request.texts)),
    catch: (cause) => new EmbedderFailed({ reason: reasonOf(cause) })
  })

serveThread(WorkerRunner.layerSerialized(UseLiteRequest, { EmbedTexts: embedTexts }))
