/**
 * Hybrid retrieval inside one chat: vector search over embedded chunks fused with full-text search (in
 * the chat's language) by weighted reciprocal rank fusion, a full-text hit weighing by how much of the
 * question it covers. The texts returned come from the messages table, never from vector payloads. A
 * chat still being indexed is searched by full text alone, and the result says so.
 */
import { Effect } from "effect"
import { orDatabaseError } from "../Database.js"
import { Llm } from "../Llm.js"
import { Vector, type VectorHit } from "../Vector.js"
import { isFunctionWord } from "../Words.js"
import { anyWordQuery, candidatesPerList, fuseHybrid, searchTerms } from "./Fusion.js"
import type { RetrievalMode } from "../Domain/Rag.js"
import { ChunksRepo } from "./ChunksRepo.js"
import type { ChunkHit, TextHit } from "./ChunksRepo.js"
import { RetrievalRepo } from "./RetrievalRepo.js"

/** A vector search hit as a chunk, in the shape full-text search finds them, so the two lists can be fused. */
export const chunkHitOf = (hit: VectorHit): ChunkHit => ({
  id: hit.chunkId,
  first_message_id: hit.firstMessageId,
  last_message_id: hit.lastMessageId
})

export class Retrieval extends Effect.Service<Retrieval>()("chatsight/Retrieval", {
  effect: Effect.gen(function*() {
    const repo = yield* RetrievalRepo
    const chunks = yield* ChunksRepo
    const llm = yield* Llm
    const vector = yield* Vector

    /**
     * The two ranked lists before fusion, `depth` hits each: full-text hits with how much of the question
     * each covers, and vector hits (none while the chat has no vectors yet). `retrieve` fuses them;
     * bench:rag reads them to score each list alone and to sweep the fusion weights.
     */
    const candidates = (input: {
      readonly chatId: string
      readonly userId: string
      readonly question: string
      readonly depth: number
    }) =>
      Effect.gen(function*() {
        // Only true function words are dropped: full stop-word lists hold words people ask about
        // ("shed", "move", "home", "van"); the chat's text search configuration drops its own.
        const terms = searchTerms(input.question, isFunctionWord)
        // One count says whether the chat has chunks, whether any has its vector, and their language.
        const { config, embedded, total } = yield* chunks.chunkCount(input.chatId, llm.embedder)
        const indexed = embedded > 0
        const query = anyWordQuery(input.question, isFunctionWord)
        const [textHits, vectorHits] = yield* Effect.all([
          terms.length === 0
            ? Effect.succeed<ReadonlyArray<TextHit>>([])
            : total > 0
            ? chunks.searchText({ chatId: input.chatId, embedder: llm.embedder, config, terms, total, k: input.depth })
            : query === null
            ? Effect.succeed<ReadonlyArray<TextHit>>([])
            : Effect.map(
              repo.fullTextMessages({ chatId: input.chatId, query, k: input.depth }),
              (hits) => hits.map((hit) => ({ ...hit, coverage: 1 }))
            ),
          indexed
            ? Effect.flatMap(llm.embed([input.question], "query"), ([queryVector]) =>
              vector.search({
                chatId: input.chatId,
                userId: input.userId,
                embedder: llm.embedder,
                vector: queryVector ?? [],
                k: input.depth
              })).pipe(Effect.map((hits) => hits.map(chunkHitOf)))
            : Effect.succeed<ReadonlyArray<ChunkHit>>([])
        ], { concurrency: 2 })
        return { textHits, vectorHits, indexed, config }
      }).pipe(orDatabaseError, Effect.withSpan("Rag.candidates", { attributes: { depth: input.depth } }))

    const retrieve = (input: {
      readonly chatId: string
      readonly userId: string
      readonly question: string
      readonly k?: number
    }) =>
      Effect.gen(function*() {
        const k = input.k ?? 10
        const { config, indexed, textHits, vectorHits } = yield* candidates({ ...input, depth: candidatesPerList(k) })
        const fused = fuseHybrid(vectorHits, textHits).slice(0, k)
        const messages = fused.length === 0 ? [] : yield* repo.messagesOfChunks({
          chatId: input.chatId,
          firsts: fused.map((hit) => hit.first_message_id),
          lasts: fused.map((hit) => hit.last_message_id)
        })
        const mode: RetrievalMode = indexed ? "hybrid" : "full-text"
        yield* Effect.annotateCurrentSpan({ mode, config, hits: fused.length, messages: messages.length })
        return { messages, mode, hits: fused }
      }).pipe(
        orDatabaseError,
        Effect.withSpan("Rag.retrieve", { attributes: { store: vector.backend, chatId: input.chatId } })
      )

    return { retrieve, candidates } as const
  }),
  dependencies: [RetrievalRepo.Default, ChunksRepo.Default]
}) {}
