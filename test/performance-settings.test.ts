/**
 * Settings chosen for the cost of running the service (bench:http measures them): the log writer that
 * gathers a turn's lines into one write, the embedded database's small page cache, the OpenTelemetry SDK
 * loaded only when traces are exported, and a secret that cannot be an HS256 key refused at start rather
 * than failing every request.
 */
import { expect, it } from "@effect/vitest"
import { Cause, ConfigProvider, Effect, Exit, Layer, Option } from "effect"
import { mkdtemp, rm } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { InvalidJwtSecret, TokenVerifier } from "../src/Auth.js"
import { openPglite } from "../src/Database/Embedded.js"
import { lineWriter } from "../src/Logging.js"
import { TracingLive } from "../src/Tracing.js"

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

it("log lines written in one turn of the event loop leave in one write, in order", async () => {
  const writes: Array<string> = []
  const writer = lineWriter((text) => writes.push(text))
  writer.push("first")
  writer.push("second")
  writer.push("third")
  expect(writes).toEqual([])
  await nextTurn()
  expect(writes).toEqual(["first\nsecond\nthird\n"])
  writer.push("later")
  await nextTurn()
  expect(writes).toEqual(["first\nsecond\nthird\n", "later\n"])
})

it("a flush writes what is gathered at once, and nothing when nothing is", () => {
  const writes: Array<string> = []
  const writer = lineWriter((text) => writes.push(text))
  writer.flush()
  expect(writes).toEqual([])
  writer.push("at exit")
  writer.flush()
  expect(writes).toEqual(["at exit\n"])
})

it.effect("the embedded database runs with the shared_buffers it was given, not PostgreSQL's 128MB", () =>
  Effect.acquireUseRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "chatsight-pglite-"))),
    (dir) =>
      Effect.scoped(
        Effect.gen(function*() {
          const db = yield* openPglite(join(dir, "pgdata"), "16MB")
          const shown = yield* Effect.promise(() => db.query<{ shared_buffers: string }>("SHOW shared_buffers"))
          expect(shown.rows[0]?.shared_buffers).toBe("16MB")
        })
      ),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  ), 60_000)

it.effect("an empty AUTH_JWT_SECRET stops the start instead of failing every request", () =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(
      Effect.scoped(Layer.build(TokenVerifier.Default)).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["AUTH_JWT_SECRET", ""]])))
      )
    )
    const failure = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
    expect(failure).toBeInstanceOf(InvalidJwtSecret)
  }))

it.effect("with OTEL_EXPORTER_OTLP_ENDPOINT set, the SDK is loaded and the spans reach the collector", () =>
  Effect.gen(function*() {
    const bodies: Array<string> = []
    const collector = yield* Effect.acquireRelease(
      Effect.async<Server>((resume) => {
        const server = createServer((request, response) => {
          const chunks: Array<Buffer> = []
          request.on("data", (chunk: Buffer) => chunks.push(chunk))
          request.on("end", () => {
            if (request.url === "/v1/traces") bodies.push(Buffer.concat(chunks).toString("utf8"))
            response.writeHead(200, { "content-type": "application/json" }).end("{}")
          })
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
        })
    )
    const address = collector.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    // The layer's end shuts the SDK down, which exports what its batch holds.
    yield* Effect.void.pipe(
      Effect.withSpan("performance-settings-probe"),
      Effect.provide(TracingLive),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["OTEL_EXPORTER_OTLP_ENDPOINT", `http://127.0.0.1:${port}`]])))
    )
    expect(bodies.some((body) => body.includes("performance-settings-probe"))).toBe(true)
  }).pipe(Effect.scoped))
