/**
 * A fake Gemini REST endpoint on 127.0.0.1 for the `@google/genai` SDK (`GEMINI_BASE_URL`): it answers
 * `:batchEmbedContents`, `:embedContent` and `:generateContent`, can fail, stall or talk nonsense on
 * demand, and records every request it receives. A `generateContent` constrained to a schema with
 * `findings` (an insight report) is answered like a model would: findings citing the `[id]`s of the
 * prompt, plus one invented id and one finding citing only an invented id, which the client must drop.
 * With `callFunction`, a request that declares tools is answered by a `functionCall` part, as the real
 * API does (`candidates[0].content.parts[].functionCall {id, name, args}`, with a thought signature);
 * like the real API it refuses tools together with a JSON response, and a `functionResponse` that
 * answers no call of the turn before.
 */
import { Effect, type Scope } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"

export interface RecordedRequest {
  readonly method: string
  /** Path without the query, e.g. `/v1beta/models/gemini-embedding-001:batchEmbedContents`. */
  readonly path: string
  /** `batchEmbedContents`, `embedContent` or `generateContent`. */
  readonly action: string
  readonly apiKey: string | undefined
  readonly body: unknown
}

/** What the next requests get before the normal reply. */
export interface Failure {
  readonly status: number
  /** Sent as the Retry-After header, if given. */
  readonly retryAfter?: string
  /** Sent as JSON; a Google-style error body by default. */
  readonly body?: unknown
}

export interface FakeGemini {
  /** The base URL to give the SDK (`GEMINI_BASE_URL`). */
  readonly url: string
  readonly requests: ReadonlyArray<RecordedRequest>
  /** The next `count` requests fail with `failure`, then requests succeed again. */
  readonly failNext: (count: number, failure: Failure) => void
  /** Every request fails with `failure` until `reset`. */
  readonly failAlways: (failure: Failure) => void
  /** Replies to `generateContent` with this text as the model's output (JSON or not). */
  readonly answerWith: (text: string) => void
  /** Replies to `generateContent` requests whose body contains `needle` with this text, until `reset`. */
  readonly answerWhen: (needle: string, text: string) => void
  /**
   * The next `generateContent` that declares tools is answered with a call of function `name` with
   * `args` (one queued call per request); later requests get the usual text reply.
   */
  readonly callFunction: (name: string, args: Record<string, unknown>) => void
  /** Waits this long before replying to every request, until `reset`. */
  readonly delayReplies: (millis: number) => void
  /** Back to the defaults and an empty request log. */
  readonly reset: () => void
}

/** The settings that point the server's Gemini client at `fake`, retrying once and quickly. */
export const fakeGeminiEnv = (fake: FakeGemini): Record<string, string> => ({
  GEMINI_API_KEY: "test-key",
  GEMINI_BASE_URL: fake.url,
  GEMINI_MAX_RETRIES: "1",
  GEMINI_RETRY_BASE_DELAY: "1 millis",
  GEMINI_RETRY_MAX_DELAY: "20 millis"
})

/** The reply to `generateContent` until `answerWith` says otherwise. */
export const defaultAnswer = JSON.stringify({ answer: "You moved to Lisbon in March.", message_ids: ["m2"] })

/**
 * A deterministic, deliberately *not* unit-length vector for a text (as Gemini's truncated vectors
 * are not), so the client's re-normalisation shows.
 */
export const fakeVector = (text: string, length: number): Array<number> => {
  let seed = 0x811c9dc5
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193)
  // mulberry32
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return Array.from({ length }, () => (next() - 0.5) * 3)
}

const readBody = (request: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    request.on("error", reject)
  })

const sendJson = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  if (response.destroyed) return
  response.writeHead(status, { "content-type": "application/json; charset=UTF-8", ...headers })
  response.end(JSON.stringify(body))
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The text of an embedding request (`{ content: { parts: [{ text }] } }`). */
const textOf = (request: unknown): string => {
  if (!isRecord(request) || !isRecord(request["content"])) return ""
  const parts = request["content"]["parts"]
  if (!Array.isArray(parts)) return ""
  return parts.map((part) => isRecord(part) && typeof part["text"] === "string" ? part["text"] : "").join("")
}

const dimensionOf = (request: unknown): number =>
  isRecord(request) && typeof request["outputDimensionality"] === "number" ? request["outputDimensionality"] : 3072

/**
 * What the real API refuses in a `generateContent` body's `generationConfig`: a response schema
 * without a JSON mime type, or both schema fields at once (they are alternatives).
 */
const invalidGenerationConfig = (body: unknown): string | undefined => {
  const config = isRecord(body) && isRecord(body["generationConfig"]) ? body["generationConfig"] : {}
  const hasSchema = config["responseSchema"] !== undefined
  const hasJsonSchema = config["responseJsonSchema"] !== undefined
  if (hasSchema && hasJsonSchema) return "responseSchema and responseJsonSchema cannot both be set"
  if ((hasSchema || hasJsonSchema) && config["responseMimeType"] !== "application/json") {
    return "a response schema needs responseMimeType application/json"
  }
  return undefined
}

/** The body's `tools` declare at least one function. */
const declaresTools = (body: unknown): boolean =>
  isRecord(body) && Array.isArray(body["tools"]) && body["tools"].some((tool) => isRecord(tool) && Array.isArray(tool["functionDeclarations"]))

/** What the real API refuses about functions: a JSON response alongside them, or a response to no call. */
const invalidFunctions = (body: unknown): string | undefined => {
  const config = isRecord(body) && isRecord(body["generationConfig"]) ? body["generationConfig"] : {}
  if (declaresTools(body) && config["responseMimeType"] === "application/json") {
    return "Function calling with a response mime type: 'application/json' is unsupported"
  }
  const contents = isRecord(body) && Array.isArray(body["contents"]) ? body["contents"] : []
  const partsOf = (content: unknown): Array<unknown> => isRecord(content) && Array.isArray(content["parts"]) ? content["parts"] : []
  const named = (part: unknown, key: string) =>
    isRecord(part) && isRecord(part[key]) && typeof part[key]["name"] === "string" ? [part[key]["name"]] : []
  for (const [i, content] of contents.entries()) {
    const answered = partsOf(content).flatMap((part) => named(part, "functionResponse"))
    if (answered.length === 0) continue
    const called = partsOf(contents[i - 1]).flatMap((part) => named(part, "functionCall"))
    if (answered.some((name) => !called.includes(name))) {
      return "Please ensure that function response turn comes immediately after a function call turn."
    }
  }
  return undefined
}

/** An id the fake cites that was never in any prompt. */
export const inventedId = "999999999"

/** Whether the request asks for an insight report (its response schema has `findings`). */
const asksForReport = (body: unknown): boolean => {
  const config = isRecord(body) && isRecord(body["generationConfig"]) ? body["generationConfig"] : {}
  const schema = config["responseJsonSchema"]
  return isRecord(schema) && isRecord(schema["properties"]) && schema["properties"]["findings"] !== undefined
}

/** A report as a model would write it from the prompt: citing the first message ids it was given. */
const reportFor = (body: unknown): string => {
  // Message lines start a line with their id: `\n[123] Author, ...` (the newline escaped in the JSON body).
  const ids = [...JSON.stringify(body).matchAll(/\\n\[(\d+)\] /g)].map((match) => Number(match[1]))
  return JSON.stringify({
    summary: "Both of you keep this chat going, each in your own way.",
    findings: [
      { title: "Shared effort", detail: "Messages go both ways.", message_ids: [...ids.slice(0, 2), Number(inventedId)] },
      { title: "An invented moment", detail: "Cites nothing that was given.", message_ids: [Number(inventedId) - 1] }
    ],
    confidence: "medium"
  })
}

const googleError = (status: number) => ({
  error: {
    code: status,
    message: status === 429 ? "Resource has been exhausted (e.g. check quota)." : "Internal error encountered.",
    status: status === 429 ? "RESOURCE_EXHAUSTED" : status === 503 ? "UNAVAILABLE" : "INTERNAL"
  }
})

/** A fake Gemini server for the life of the scope. */
export const fakeGemini: Effect.Effect<FakeGemini, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(async () => {
    const requests: Array<RecordedRequest> = []
    let pending: Array<Failure> = []
    let always: Failure | undefined
    let answerText = defaultAnswer
    let delayMillis = 0
    let rules: Array<readonly [string, string]> = []
    let functionCalls: Array<{ readonly name: string; readonly args: Record<string, unknown> }> = []
    let callCount = 0

    const server = createServer((request, response) => {
      void (async () => {
        const raw = await readBody(request)
        const url = new URL(request.url ?? "/", "http://127.0.0.1")
        const action = url.pathname.split(":").at(-1) ?? ""
        let body: unknown = undefined
        try {
          body = raw === "" ? undefined : JSON.parse(raw)
        } catch {
          body = raw
        }
        const key = request.headers["x-goog-api-key"]
        requests.push({
          method: request.method ?? "",
          path: url.pathname,
          action,
          apiKey: typeof key === "string" ? key : url.searchParams.get("key") ?? undefined,
          body
        })
        // The behaviour is fixed on arrival, so a stalled reply cannot take a later test's settings.
        const failure = pending.shift() ?? always
        const rule = action === "generateContent" ? rules.find(([needle]) => raw.includes(needle)) : undefined
        const text = rule?.[1] ?? (action === "generateContent" && asksForReport(body) ? reportFor(body) : answerText)
        const functionCall = action === "generateContent" && declaresTools(body) ? functionCalls.shift() : undefined
        const delay = delayMillis
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
        if (failure !== undefined) {
          return sendJson(
            response,
            failure.status,
            failure.body ?? googleError(failure.status),
            failure.retryAfter === undefined ? {} : { "retry-after": failure.retryAfter }
          )
        }
        switch (action) {
          case "batchEmbedContents": {
            const items = isRecord(body) && Array.isArray(body["requests"]) ? body["requests"] : []
            return sendJson(response, 200, {
              embeddings: items.map((item: unknown) => ({ values: fakeVector(textOf(item), dimensionOf(item)) }))
            })
          }
          case "embedContent":
            return sendJson(response, 200, { embedding: { values: fakeVector(textOf(body), dimensionOf(body)) } })
          case "generateContent": {
            const invalid = invalidGenerationConfig(body) ?? invalidFunctions(body)
            if (invalid !== undefined) {
              return sendJson(response, 400, { error: { code: 400, message: invalid, status: "INVALID_ARGUMENT" } })
            }
            if (functionCall !== undefined) {
              callCount += 1
              return sendJson(response, 200, {
                candidates: [{
                  content: {
                    role: "model",
                    parts: [{ functionCall: { id: `call-${callCount}`, ...functionCall }, thoughtSignature: `signature-${callCount}` }]
                  },
                  finishReason: "STOP",
                  index: 0
                }],
                usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 10, totalTokenCount: 110 },
                modelVersion: "fake"
              })
            }
            return sendJson(response, 200, {
              candidates: [{ content: { role: "model", parts: [{ text }] }, finishReason: "STOP", index: 0 }],
              usageMetadata: { promptTokenCount: 120, candidatesTokenCount: 30, totalTokenCount: 150 },
              modelVersion: "fake"
            })
          }
          default:
            return sendJson(response, 404, { error: { code: 404, message: `no such method: ${url.pathname}`, status: "NOT_FOUND" } })
        }
      })().catch(() => response.destroy())
    })
    // A client that gives up (a timeout) resets its socket; that is expected, not an error.
    server.on("clientError", (_error, socket) => socket.destroy())
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject)
      server.listen({ host: "127.0.0.1", port: 0 }, () => {
        const address = server.address()
        resolve(typeof address === "object" && address !== null ? address.port : 0)
      })
    })
    const fake: FakeGemini = {
      url: `http://127.0.0.1:${port}`,
      requests,
      failNext: (count, failure) => {
        pending = [...pending, ...Array.from({ length: count }, () => failure)]
      },
      failAlways: (failure) => {
        always = failure
      },
      answerWith: (text) => {
        answerText = text
      },
      answerWhen: (needle, text) => {
        rules = [...rules, [needle, text]]
      },
      callFunction: (name, args) => {
        functionCalls = [...functionCalls, { name, args }]
      },
      delayReplies: (millis) => {
        delayMillis = millis
      },
      reset: () => {
        requests.length = 0
        pending = []
        always = undefined
        answerText = defaultAnswer
        delayMillis = 0
        rules = []
        functionCalls = []
        callCount = 0
      }
    }
    return { fake, server }
  }),
  ({ server }) =>
    Effect.promise(() =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
    )
).pipe(Effect.map(({ fake }) => fake))
