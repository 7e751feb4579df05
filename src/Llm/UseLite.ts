/**
 * The offline embedder: Universal Sentence Encoder Lite (`use-lite-v1@512`), in one long-lived worker
 * thread (UseLiteThread.ts) started on first use, so embedding a chat never holds up the event loop.
 * A thread that fails or dies fails its call with a logged UpstreamUnavailable (the pool restarts it).
 */
import * as Worker from "@effect/platform/Worker"
import { Cause, Chunk, Effect, Scope } from "effect"
import { UpstreamUnavailable } from "../Domain/Errors.js"
import { threadsRunning } from "../Threads.js"
import { embedderId } from "../Vector.js"
// Nothing here imports the model's modules: TensorFlow.js is loaded by the thread only.
import { EmbedTexts, type UseLiteRequest, useLiteDimensions } from "./UseLiteRequest.js"

/** Stored with every vector it makes; a change of model or of its input must change this name. */
export const useLiteEmbedder = embedderId("use-lite-v1", useLiteDimensions)

/** The embedding thread's entry module: the TypeScript file under tsx, the compiled one from the build (npm start). */
export const UseLiteThreadEntry = new URL(
  import.meta.url.endsWith(".ts") ? "./UseLiteThread.ts" : "./UseLiteThread.js",
  import.meta.url
)

/**
 * Texts per request to the thread. Requests run one at a time, and 16 chunks take well under a second,
 * so a question's embedding never waits long behind a chat being embedded; larger requests gain
 * almost nothing (about 48 against 47 ms a chunk at 64).
 */
const requestSize = 16

const unavailable = new UpstreamUnavailable({ message: "The offline embedder is unavailable; please retry shortly" })

export class UseLiteThreads extends Effect.Service<UseLiteThreads>()("chatsight/UseLiteThreads", {
  scoped: Effect.gen(function*() {
    // The thread starts on the first embedding (about a second once, with the model), not when the
    // layer is built: an instance that never embeds holds no second isolate. It closes with the layer.
    const platform = yield* Effect.context<Worker.WorkerManager | Worker.Spawner>()
    const scope = yield* Effect.scope
    const pool = yield* Effect.cached(
      Worker.makePoolSerialized<UseLiteRequest>({ size: 1 }).pipe(Scope.extend(scope), Effect.provide(platform))
    )

    const failed = (cause: Cause.Cause<unknown>) =>
      Effect.logError("Embedding thread failed", cause).pipe(Effect.zipRight(Effect.fail(unavailable)))

    // Questions go first. Chats being embedded (the worker runs several jobs at once) send one request
    // at a time between them, and only while no question waits, so a question's embedding waits for the
    // request already running at most. (The platform's pool of threads does not serve its waiters in
    // order: without this, a question could wait as long as chats kept coming.)
    const documents = yield* Effect.makeSemaphore(1)
    const noQuestionWaiting = yield* Effect.makeLatch(true)
    let questionsWaiting = 0
    const asQuestion = <A, E>(request: Effect.Effect<A, E>) =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          questionsWaiting++
          noQuestionWaiting.unsafeClose()
        }),
        () => request,
        () =>
          Effect.sync(() => {
            questionsWaiting--
            if (questionsWaiting === 0) noQuestionWaiting.unsafeOpen()
          })
      )
    const asDocument = <A, E>(request: Effect.Effect<A, E>) =>
      documents.withPermits(1)(Effect.zipRight(noQuestionWaiting.await, request))

    /** One unit vector of 512 numbers per text, in order; `document` texts yield to questions (`query`). */
    const embed = (
      texts: ReadonlyArray<string>,
      purpose: "document" | "query"
    ): Effect.Effect<ReadonlyArray<ReadonlyArray<number>>, UpstreamUnavailable> =>
      Effect.forEach(Chunk.chunksOf(Chunk.fromIterable(texts), requestSize), (slice) => {
        const request = Effect.flatMap(pool, (threads) => threads.executeEffect(new EmbedTexts({ texts: Chunk.toReadonlyArray(slice) })))
        return purpose === "document" ? asDocument(request) : asQuestion(request)
      }).pipe(
          Effect.map((slices) => slices.flat()),
          Effect.catchAll((error) => failed(Cause.fail(error))),
          Effect.catchAllDefect((defect) => failed(Cause.die(defect))),
          Effect.withSpan("UseLite.embed", { attributes: { count: texts.length, purpose } })
        )

    return { embed } as const
  }),
  dependencies: [threadsRunning(UseLiteThreadEntry)]
}) {}
