/**
 * The HTTP edge under what clients really send: bodies that are not JSON or not multipart, bodies that
 * stall or never end, NUL characters, request lines too long to parse, bytes that are not HTTP, echoes
 * of huge inputs, span names; and the real server process answering from its first accepted connection.
 * Everything runs on the server `main.ts` runs (src/Http/NodeServer.ts), over real sockets where the
 * behaviour is the socket's.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { expect, layer } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, FiberSet, Layer, Logger, Schema } from "effect"
import { readFileSync } from "node:fs"
import { connect } from "node:net"
import {
  call,
  collectingLogger,
  errorShape,
  type LogLine,
  needsPostgres,
  onPostgres,
  refused,
  type Reply,
  scratchDatabase,
  send,
  serverPort,
  TestAppOnNodeServer,
  TestConfig,
  tokenFor,
  upload,
  waitFor
} from "./support/TestApp.js"
import { nodeServerOn } from "../src/Http/NodeServer.js"
import { freePort, serverEnv, startServer } from "./support/serverProcess.js"

const group = new Uint8Array(readFileSync(new URL("./fixtures/whatsapp/android-24h-group.txt", import.meta.url)))

// ---------------------------------------------------------------------------------------------------
// Raw connections

interface RawReply {
  /** Everything the server wrote, as Latin-1 text. */
  readonly text: string
  /** Whether the server closed the connection before the test stopped waiting. */
  readonly closed: boolean
  readonly elapsedMs: number
}

/**
 * Opens a connection, writes each chunk (Latin-1 text: one character a byte) at its time (ms after
 * connecting), and reads until the server closes the connection or `waitMs` has passed (then the test
 * closes it).
 */
const exchange = (port: number, chunks: ReadonlyArray<readonly [atMs: number, data: string]>, waitMs: number) =>
  Effect.async<RawReply>((resume) => {
    const started = Date.now()
    const socket = connect({ host: "127.0.0.1", port })
    let text = ""
    socket.on("data", (data: Buffer) => {
      text += data.toString("latin1")
    })
    // A reset after the server's answer is still a closed connection; the answer is what counts.
    socket.on("error", () => undefined)
    const timers = chunks.map(([atMs, data]) =>
      setTimeout(() => {
        if (!socket.destroyed) socket.write(data, "latin1")
      }, atMs)
    )
    const gaveUp = setTimeout(() => {
      socket.destroy()
      resume(Effect.succeed({ text, closed: false, elapsedMs: Date.now() - started }))
    }, waitMs)
    socket.on("close", () => {
      clearTimeout(gaveUp)
      resume(Effect.succeed({ text, closed: true, elapsedMs: Date.now() - started }))
    })
    return Effect.sync(() => {
      for (const timer of timers) clearTimeout(timer)
      clearTimeout(gaveUp)
      socket.destroy()
    })
  })

/** The reply in a raw exchange, read as one HTTP/1.1 response with a JSON body. */
const parseReply = (raw: RawReply): Reply => {
  const split = raw.text.indexOf("\r\n\r\n")
  expect(split, `no HTTP response in ${JSON.stringify(raw.text.slice(0, 300))}`).toBeGreaterThan(0)
  const [statusLine = "", ...headerLines] = raw.text.slice(0, split).split("\r\n")
  const headers = Object.fromEntries(headerLines.map((line) => {
    const colon = line.indexOf(":")
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]
  }))
  return { status: Number(statusLine.split(" ")[1]), headers, body: JSON.parse(raw.text.slice(split + 4)) }
}

const multipartHead = (token: string, boundary: string, contentLength: number) =>
  `POST /api/chats/upload HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${token}\r\n` +
  `content-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${contentLength}\r\n\r\n`

const filePart = (boundary: string) =>
  `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="chat.txt"\r\n` +
  `content-type: text/plain\r\n\r\n${Buffer.from(group).toString("latin1")}`

// ---------------------------------------------------------------------------------------------------
// The application on the production server, with its logs and spans kept

const serverLog: Array<LogLine> = []
const exporter = new InMemorySpanExporter()
const TracingTest = NodeSdk.layer(() => ({
  resource: { serviceName: "chatsight-edge-test" },
  spanProcessor: new SimpleSpanProcessor(exporter)
}))

const logged = (message: string, requestId: string) =>
  serverLog.filter((line) => line.message === message && line.annotations.requestId === requestId)

/** A user who called POST /api/users/store and uploaded the group chat: their token and chat id. */
const userWithChat = (sub: string) =>
  Effect.gen(function*() {
    const token = yield* tokenFor(sub)
    expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
    const uploaded = yield* upload(token, { name: "group.txt", bytes: group })
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201)
    const { id } = yield* Schema.decodeUnknown(Schema.Struct({ id: Schema.String }))(uploaded.body).pipe(Effect.orDie)
    return { token, chatId: id }
  })

// On the live clock: the server's timeouts and the waits below are real time.
layer(
  TestAppOnNodeServer({ REQUEST_BODY_TIMEOUT: "1 second", REQUEST_TIMEOUT: "3 seconds", RATE_LIMITS: "false" }).pipe(
    Layer.provide(Logger.add(collectingLogger(serverLog))),
    Layer.provide(TracingTest)
  ),
  { excludeTestServices: true }
)("the edge", (it) => {
  it.effect("a body that is not JSON is a 400 validation_error (after authentication), never a 500", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* userWithChat("json-user")
      const targets = [
        ["POST", "/api/rag/query", "{\"chat_id\":"],
        ["PUT", `/api/chats/${chatId}/display-name`, "{\"display_name\":\"a"],
        ["PUT", `/api/chats/${chatId}/sharing`, "{\"enabled\": tru"]
      ] as const
      for (const [method, path, body] of targets) {
        const reply = yield* send(method, path, { token, body })
        refused(reply, 400, "validation_error", "valid JSON")
        refused(yield* send(method, path, { body }), 401, "unauthorized")
      }
      expect(serverLog.filter((line) => line.message === "Unhandled failure")).toEqual([])
    }))

  it.effect("an upload that is not multipart is a 415, and multipart without a boundary a 400", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("type-user")
      yield* call("POST", "/api/users/store", { token })
      refused(
        yield* send("POST", "/api/chats/upload", { token, body: "hello", contentType: "text/plain" }),
        415,
        "unsupported_media_type",
        "multipart/form-data",
        "text/plain"
      )
      refused(yield* send("POST", "/api/chats/upload", { token, body: "{}" }), 415, "unsupported_media_type")
      for (const contentType of ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=a;"]) {
        const reply = yield* send("POST", "/api/chats/upload", { token, body: "--a\r\n", contentType })
        refused(reply, 400, "validation_error")
      }
      // The other way round: a JSON endpoint does not take a multipart body (nor write its files to disk).
      refused(
        yield* send("POST", "/api/rag/query", { token, body: "--a--\r\n", contentType: "multipart/form-data; boundary=a" }),
        415,
        "unsupported_media_type",
        "application/json"
      )
      expect(serverLog.filter((line) => line.message === "Unhandled failure")).toEqual([])
    }))

  it.effect("a cut-off upload is answered 408 after REQUEST_BODY_TIMEOUT, its connection closed and its handler ended", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("stalled-user")
      yield* call("POST", "/api/users/store", { token })
      const port = yield* serverPort
      const part = filePart("cut")
      // Announces 1,000 bytes more than it sends, then waits as long as a patient client would.
      const raw = yield* exchange(port, [[0, multipartHead(token, "cut", part.length + 1000) + part]], 15_000)
      expect(raw.closed, "the server closed the connection").toBe(true)
      const reply = parseReply(raw)
      expect(reply.status).toBe(408)
      expect(reply.body).toEqual(errorShape("request_timeout", reply))
      const requestId = reply.headers["x-request-id"] ?? ""
      // The access log line is written when the handler's fiber ends: it did not stay waiting for the body.
      const ended = yield* waitFor("the upload's access log line", Effect.sync(() => logged("request", requestId)), (lines) => lines.length > 0)
      expect(ended[0]?.annotations).toMatchObject({ path: "/api/chats/upload", status: 499 })
      // Logged from Node's side of the connection, independently of the handler's end.
      const stalled = yield* waitFor(
        "the stall's log line",
        Effect.sync(() => logged("Request body stalled; answered 408 and closed the connection", requestId)),
        (lines) => lines.length > 0
      )
      expect(stalled).toHaveLength(1)
    }))

  it.effect("a body that keeps trickling in is cut at REQUEST_TIMEOUT with a 408", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("trickle-user")
      yield* call("POST", "/api/users/store", { token })
      const port = yield* serverPort
      const part = filePart("drip")
      const trickle = Array.from({ length: 40 }, (_, i) => [250 * (i + 1), "x"] as const)
      const raw = yield* exchange(port, [[0, multipartHead(token, "drip", part.length + 1000) + part], ...trickle], 15_000)
      expect(raw.closed).toBe(true)
      const reply = parseReply(raw)
      expect(reply.status).toBe(408)
      expect(reply.body).toEqual(errorShape("request_timeout", reply))
      expect(JSON.stringify(reply.body)).toContain("did not arrive within 3 s")
    }))

  it.effect("NUL in a query, a JSON field or an upload field is a 400 that names the field", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* userWithChat("nul-user")
      refused(yield* call("GET", `/api/chats/${chatId}/messages?q=%00`, { token }), 400, "validation_error", "q: must not contain the NUL")
      refused(yield* call("GET", `/api/chats/${chatId}/messages?author=a%00b`, { token }), 400, "validation_error", "author:")
      refused(
        yield* call("PUT", `/api/chats/${chatId}/display-name`, { token, json: { display_name: "a\u0000b" } }),
        400,
        "validation_error",
        "display_name: must not contain the NUL"
      )
      refused(
        yield* call("POST", "/api/rag/query", { token, json: { chat_id: chatId, question: "who\u0000" } }),
        400,
        "validation_error",
        "question:"
      )
      refused(
        yield* upload(token, { name: "again.txt", bytes: group }, { display_name: "x\u0000" }),
        400,
        "validation_error",
        "display_name:"
      )
      // A file name can carry NUL percent-encoded (RFC 5987's filename*), which the multipart parser decodes.
      const form = `--b\r\ncontent-disposition: form-data; name="file"; filename*=UTF-8''a%00.txt\r\n\r\nhello\r\n--b--\r\n`
      refused(
        yield* send("POST", "/api/chats/upload", { token, body: form, contentType: "multipart/form-data; boundary=b" }),
        400,
        "validation_error",
        "file (its name)"
      )
      // Nothing of it reached the database.
      expect(serverLog.filter((line) => line.level === "ERROR")).toEqual([])
    }))

  it.effect("JSON nested past any payload of ours is a 400, not a stack overflow", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* userWithChat("deep-user")
      const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`
      refused(
        yield* send("POST", "/api/rag/query", { token, body: `{"chat_id":"${chatId}","question":${deep}}` }),
        400,
        "validation_error",
        "nested deeper"
      )
    }))

  it.effect("a request line over Node's header limit is a 431 in the one error shape", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("long-query")
      const reply = yield* call("GET", `/api/chats?starting_after=${"a".repeat(20_000)}`, { token })
      refused(reply, 431, "headers_too_large", "query string")
      const raw = yield* exchange(yield* serverPort, [[0, `GET /?${"q".repeat(20_000)} HTTP/1.1\r\nhost: x\r\n\r\n`]], 5000)
      expect(raw.closed).toBe(true)
      const parsed = parseReply(raw)
      expect(parsed.status).toBe(431)
      expect(parsed.body).toEqual(errorShape("headers_too_large", parsed))
    }))

  it.effect("bytes that are not HTTP/1.1 are a 400 in the one error shape, and the connection is closed", () =>
    Effect.gen(function*() {
      const port = yield* serverPort
      for (const garbage of ["HELLO\r\n\r\n", "GET / HTTP/1.1\r\nbad header\r\n\r\n", "GET / HTTP/1.1\r\nhost: a\r\ncontent-length: -1\r\n\r\n"]) {
        const raw = yield* exchange(port, [[0, garbage]], 5000)
        expect(raw.closed, garbage).toBe(true)
        const reply = parseReply(raw)
        expect(reply.status, garbage).toBe(400)
        expect(reply.body).toEqual(errorShape("validation_error", reply))
      }
    }))

  it.effect("a refusal repeats at most a short excerpt of what it refuses", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* userWithChat("echo-user")
      const question = "x".repeat(900_000)
      const reply = yield* call("POST", "/api/rag/query", { token, json: { chat_id: chatId, question } })
      refused(reply, 400, "validation_error", "question")
      const text = JSON.stringify(reply.body)
      expect(text.length).toBeLessThan(1000)
      expect(text).not.toContain("x".repeat(101))
      const path = `/api/${"p".repeat(8000)}`
      const missing = yield* call("GET", path)
      refused(missing, 404, "not_found")
      expect(JSON.stringify(missing.body).length).toBeLessThan(1000)
    }))

  it.effect("the server span is named {method} {route} with the route's template, never the raw URL", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* userWithChat("span-user")
      const reply = yield* call("GET", `/api/chats/${chatId}`, { token })
      expect(reply.status).toBe(200)
      const unknown = yield* call("GET", `/api/nothing/${chatId}`)
      expect(unknown.status).toBe(404)
      const serverSpan = (requestId: string) =>
        waitFor(
          `the server span of ${requestId}`,
          Effect.sync(() =>
            exporter.getFinishedSpans().find((span) =>
              span.kind === SpanKind.SERVER && span.attributes["request.id"] === requestId
            )
          ),
          (span) => span !== undefined
        )
      const routed = yield* serverSpan(reply.headers["x-request-id"] ?? "")
      expect(routed?.name).toBe("GET /api/chats/{chat_id}")
      expect(routed?.attributes).toMatchObject({
        "http.route": "/api/chats/{chat_id}",
        "http.request.method": "GET",
        "http.response.status_code": 200
      })
      const unrouted = yield* serverSpan(unknown.headers["x-request-id"] ?? "")
      expect(unrouted?.name).toBe("GET")
      expect(unrouted?.attributes["http.response.status_code"]).toBe(404)
      expect(unrouted?.attributes["http.route"]).toBeUndefined()
    }))
})

// ---------------------------------------------------------------------------------------------------
// The server with no application attached (as between listening and attaching, and after detaching)

layer(nodeServerOn({ host: "127.0.0.1", port: 0 }).pipe(Layer.provide(TestConfig({ RETRY_AFTER_SECONDS: "2" }))), {
  excludeTestServices: true
})("the server before the application is attached", (it) => {
  it.effect("answers every request 503 service_unavailable with Retry-After, and closes the connection", () =>
    Effect.gen(function*() {
      const port = yield* serverPort
      const requests = [
        "GET /health HTTP/1.1\r\nhost: x\r\n\r\n",
        // A body it never reads, and one that has not all arrived: answered all the same.
        "POST /api/rag/query HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
        "POST /api/chats/upload HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\npartial"
      ]
      for (const request of requests) {
        const raw = yield* exchange(port, [[0, request]], 5000)
        expect(raw.closed, request).toBe(true)
        const reply = parseReply(raw)
        expect(reply.status).toBe(503)
        expect(reply.headers["retry-after"]).toBe("2")
        expect(reply.body).toEqual(errorShape("service_unavailable", reply))
      }
    }))
})

// ---------------------------------------------------------------------------------------------------
// The real process, from its first accepted connection

type Outcome =
  | { readonly status: number; readonly body: unknown }
  | { readonly refused: true }
  | { readonly failed: string }

const errorCode = (error: unknown): unknown =>
  error instanceof Error && typeof error.cause === "object" && error.cause !== null && "code" in error.cause
    ? error.cause.code
    : undefined

/** One request with a bounded wait: its answer, a refused connection (nothing listens yet), or the failure. */
const probe = (url: string) =>
  Effect.promise(async (): Promise<Outcome> => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) })
      const text = await response.text()
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body }
    } catch (error) {
      return errorCode(error) === "ECONNREFUSED" ? { refused: true } : { failed: `${String(error)} ${String(errorCode(error))}` }
    }
  })

layer(Layer.empty, { excludeTestServices: true })("the server process starting", (it) => {
  const name = "every request from the first accepted connection on is answered (503 until the application is attached), none hangs"
  it.effect.skipIf(!onPostgres)(onPostgres ? name : `${name} (${needsPostgres})`, () =>
    Effect.gen(function*() {
      const database = yield* scratchDatabase({ fromTemplate: true })
      const port = yield* freePort
      const server = yield* startServer({
        DATABASE_URL: database.url,
        DB_MIGRATE: "false",
        // The flood below comes from one address: the public routes' limit would answer it 429.
        RATE_LIMITS: "false",
        ...serverEnv(port)
      })
      const running = () => server.child.exitCode === null && server.child.signalCode === null
      const base = `http://127.0.0.1:${port}`

      // From the spawn on, a request every millisecond without waiting for earlier ones, so that some
      // arrive in the moment between the port opening and the application being attached; until 30
      // have been answered by the application.
      const outcomes: Array<Outcome> = []
      const paths = ["/health", "/api/categories", "/api/credits/balance"]
      const served = () => outcomes.filter((outcome) => "status" in outcome && outcome.status !== 503).length
      const probes = yield* FiberSet.make<void>()
      const deadline = Date.now() + 90_000
      for (let i = 0; served() < 30 && running() && Date.now() < deadline; i++) {
        yield* FiberSet.run(probes, Effect.map(probe(`${base}${paths[i % paths.length]}`), (outcome) => {
          outcomes.push(outcome)
        }))
        yield* Effect.sleep("1 millis")
      }
      yield* FiberSet.awaitEmpty(probes)
      expect(served(), server.output()).toBeGreaterThanOrEqual(30)
      for (const outcome of outcomes) {
        if ("failed" in outcome) expect.fail(`a connected request got no answer: ${outcome.failed}\n${server.output()}`)
        else if ("status" in outcome && outcome.status === 503) {
          expect(outcome.body).toMatchObject({ error: { code: "service_unavailable" } })
        } // The balance without a token is the application's own 401.
        else if ("status" in outcome) expect([200, 401]).toContain(outcome.status)
      }
    }).pipe(Effect.scoped), 120_000)
})
