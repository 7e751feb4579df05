/**
 * Writing a zip archive as a sequence of parts. Each entry's content is an Effect stream, pulled only as
 * yazl compresses that entry, and the archive's bytes are cut into parts handed to `writePart` in order:
 * whatever the archive's size, memory holds about one part and one page of content.
 */
import { NodeStream } from "@effect/platform-node"
import { Cause, Deferred, Effect, Exit, Runtime, Schema, Stream } from "effect"
import type { Readable } from "node:stream"
import yazl from "yazl"

/** The zip library or its output stream failed: a bug or a broken stream, never the user's data. */
export class ArchiveError extends Schema.TaggedError<ArchiveError>()("ArchiveError", { message: Schema.String }) {}

/** The largest part an archive is cut into (export_parts allows no more). */
export const maxPartBytes = 1024 * 1024

export interface ArchiveEntry<E, R> {
  /** The path in the archive, `/`-separated. */
  readonly name: string
  readonly content: Stream.Stream<string | Uint8Array, E, R>
}

export interface Written {
  readonly sizeBytes: number
  readonly parts: number
}

const describe = (error: unknown) => error instanceof Error ? error.message : String(error)

/**
 * Writes `entries` as one zip archive, in order, calling `writePart(seq, bytes)` for parts 0, 1, ... of
 * `partBytes` (the last one shorter). Fails with the first failure of an entry's content, of `writePart`
 * or of the zip library; the streams still open are then stopped.
 */
export const writeArchive = <E, R, E2, R2>(options: {
  readonly entries: Iterable<ArchiveEntry<E, R>>
  readonly writePart: (seq: number, bytes: Uint8Array) => Effect.Effect<void, E2, R2>
  readonly partBytes?: number | undefined
  readonly modified?: Date | undefined
}): Effect.Effect<Written, E | E2 | ArchiveError, R | R2> =>
  Effect.gen(function*() {
    const partBytes = options.partBytes ?? maxPartBytes
    if (!Number.isSafeInteger(partBytes) || partBytes < 1 || partBytes > maxPartBytes) {
      return yield* Effect.dieMessage(`A part must be 1 to ${maxPartBytes} bytes, not ${partBytes}`)
    }
    const runtime = yield* Effect.runtime<R>()
    // yazl does not watch the streams it is given: a content's failure is taken here instead.
    const failed = yield* Deferred.make<never, E | ArchiveError>()
    const zip = new yazl.ZipFile()
    const readables: Array<Readable> = []
    yield* Effect.addFinalizer(() => Effect.sync(() => readables.forEach((readable) => readable.destroy())))
    zip.on("error", (error: unknown) => Deferred.unsafeDone(failed, Exit.fail(new ArchiveError({ message: describe(error) }))))

    for (const entry of options.entries) {
      const content = entry.content.pipe(
        Stream.tapErrorCause((cause) => Cause.isInterruptedOnly(cause) ? Effect.void : Deferred.failCause(failed, cause))
      )
      // Lazily: the stream (and the reads behind it) starts when yazl reaches the entry.
      zip.addReadStreamLazy(entry.name, { mtime: options.modified ?? new Date() }, (callback) => {
        const readable = Runtime.runSync(runtime)(NodeStream.toReadable(content))
        // Its failure is in `failed`; an `error` event with no listener would throw.
        readable.on("error", () => undefined)
        readables.push(readable)
        callback(null, readable)
      })
    }
    zip.end()

    let pending: Array<Uint8Array> = []
    let pendingBytes = 0
    let parts = 0
    let sizeBytes = 0
    const flush = (bytes: Uint8Array) => Effect.zipRight(options.writePart(parts, bytes), Effect.sync(() => void parts++))

    const cut = Effect.gen(function*() {
      yield* NodeStream.fromReadable<ArchiveError, Uint8Array>(
        () => zip.outputStream,
        (error) => new ArchiveError({ message: describe(error) })
      ).pipe(Stream.runForEach((chunk) =>
        Effect.gen(function*() {
          pending.push(chunk)
          pendingBytes += chunk.length
          sizeBytes += chunk.length
          while (pendingBytes >= partBytes) {
            const all = Buffer.concat(pending)
            yield* flush(all.subarray(0, partBytes))
            const rest = all.subarray(partBytes)
            pending = rest.length === 0 ? [] : [rest]
            pendingBytes = rest.length
          }
        })
      ))
      if (pendingBytes > 0) yield* flush(Buffer.concat(pending))
      return { sizeBytes, parts } satisfies Written
    })

    return yield* Effect.raceFirst(cut, Deferred.await(failed))
  }).pipe(Effect.scoped)
