/**
 * Parsing off the event loop: a pool of INGEST_THREADS long-lived threads (ParseThread.ts) that read
 * exports and bring back their columns, report and statistics. A refusal comes back as the same typed
 * error the parser raises; a thread that fails or dies fails its call with a logged InternalError.
 */
import * as Worker from "@effect/platform/Worker"
import { Effect, Scope } from "effect"
import { IngestConfig } from "../Config.js"
import { type ExportToParse, ParseExport, type ParserRequest } from "./ParseRequest.js"
import { orInternalError, threadsRunning } from "../Threads.js"

/** The parsing thread's entry module: the TypeScript file under tsx, the compiled one from the build (npm start). */
export const ParseThreadEntry = new URL(
  import.meta.url.endsWith(".ts") ? "./ParseThread.ts" : "./ParseThread.js",
  import.meta.url
)

/** The bytes in an ArrayBuffer of their own, so moving it to a thread takes nothing else along. */
const ownBuffer = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => {
  const copy = new Uint8Array(new ArrayBuffer(bytes.byteLength))
  copy.set(bytes)
  return copy
}

export class ParserThreads extends Effect.Service<ParserThreads>()("chatsight/ParserThreads", {
  scoped: Effect.gen(function*() {
    const { threads } = yield* IngestConfig
    // At least one thread: a pool of none would leave every upload waiting.
    const size = Math.max(1, threads)
    // The threads start on first use (the first upload, about a second once), not when the layer is
    // built: an idle instance holds no second isolate; they close with the layer.
    const platform = yield* Effect.context<Worker.WorkerManager | Worker.Spawner>()
    const scope = yield* Effect.scope
    const pool = yield* Effect.cached(
      Worker.makePoolSerialized<ParserRequest>({ size }).pipe(Scope.extend(scope), Effect.provide(platform))
    )

    /** Reads an export on a thread; the caller's bytes are copied once, then moved, and stay usable. */
    const parse = (request: ExportToParse) =>
      pool.pipe(
        Effect.flatMap((threads) => threads.executeEffect(new ParseExport({ ...request, bytes: ownBuffer(request.bytes) }))),
        orInternalError("Parsing thread failed", "The export could not be read; it has been logged"),
        Effect.withSpan("Ingest.parseInThread", { attributes: { bytes: request.bytes.length } })
      )

    return { parse } as const
  }),
  dependencies: [threadsRunning(ParseThreadEntry)]
}) {}
