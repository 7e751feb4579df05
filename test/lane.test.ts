/**
 * The lean lane (src/Http/Lane.ts) on the server `main.ts` runs: a plain `GET /api/credits/balance` is
 * answered beneath the platform, with the same answers, request id, server span and access log as the
 * full way; requests that are not plain (a query string, an Origin) still go the full way. Also the
 * verified-token cache (src/Auth.ts): a remembered token still expires, and its account is still read.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { expect, layer } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Logger } from "effect"
import {
  call,
  collectingLogger,
  errorShape,
  type LogLine,
  type Reply,
  TestAppOnNodeServer,
  tokenFor
} from "./support/TestApp.js"

const exporter = new InMemorySpanExporter()
const serverLog: Array<LogLine> = []

const Tracing = NodeSdk.layer(() => ({
  resource: { serviceName: "chatsight-lane-test" },
  spanProcessor: new SimpleSpanProcessor(exporter)
}))

/** The spans of the trace whose server span carries `requestId`, once that server span has ended. */
const traceOf = (requestId: string) =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < 100; attempt++) {
      const spans = exporter.getFinishedSpans()
      const server = spans.find((span) => span.kind === SpanKind.SERVER && span.attributes["request.id"] === requestId)
      if (server !== undefined) {
        const traceId = server.spanContext().traceId
        return { server, names: spans.filter((span) => span.spanContext().traceId === traceId).map((span) => span.name) }
      }
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.die(`no server span with request.id ${requestId}`)
  })

const accessLine = (requestId: string) =>
  serverLog.find((line) => line.message === "request" && line.annotations.requestId === requestId)

const balanceOf = (reply: Reply) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200)
  return reply.body
}

// On the live clock: spans and token expiry are real time.
layer(
  TestAppOnNodeServer({ RATE_LIMITS: "false" }).pipe(
    Layer.provide(Logger.add(collectingLogger(serverLog))),
    Layer.provide(Tracing)
  ),
  { excludeTestServices: true }
)("the lean lane", (it) => {
  it.effect("a plain balance read is answered on the lane: same body, request id, server span and access log", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("lane-user")
      expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)

      const plain = yield* call("GET", "/api/credits/balance", { token, headers: { "x-request-id": "lane-plain-1" } })
      expect(balanceOf(plain)).toEqual({ user_id: "lane-user", balance: 10 })
      expect(plain.headers["x-request-id"]).toBe("lane-plain-1")
      expect(plain.headers["content-type"]).toBe("application/json")

      const { names, server } = yield* traceOf("lane-plain-1")
      expect(server.name).toBe("GET /api/credits/balance")
      expect(server.attributes).toMatchObject({
        "http.request.method": "GET",
        "http.route": "/api/credits/balance",
        "http.response.status_code": 200,
        "user.id": "lane-user"
      })
      // The one query, beneath the server span (the token was verified by the request before, and is
      // remembered); not the contract's handler.
      expect(names).toContain("sql.execute")
      expect(names).not.toContain("TokenVerifier.verify")
      expect(names).not.toContain("Credits.balance")
      expect(accessLine("lane-plain-1")?.annotations).toMatchObject({
        method: "GET",
        route: "/api/credits/balance",
        status: 200,
        userId: "lane-user"
      })

      // A token the server has not seen is verified (its span), then remembered (no span).
      const fresh = yield* tokenFor("lane-user", { name: "Lane" })
      expect(balanceOf(yield* call("GET", "/api/credits/balance", { token: fresh, headers: { "x-request-id": "lane-fresh-1" } })))
        .toEqual({ user_id: "lane-user", balance: 10 })
      expect((yield* traceOf("lane-fresh-1")).names).toContain("TokenVerifier.verify")
      expect(balanceOf(yield* call("GET", "/api/credits/balance", { token: fresh, headers: { "x-request-id": "lane-fresh-2" } })))
        .toEqual({ user_id: "lane-user", balance: 10 })
      expect((yield* traceOf("lane-fresh-2")).names).not.toContain("TokenVerifier.verify")

      // Not plain: with a query string, or from a browser (Origin), the full way answers the same.
      const queried = yield* call("GET", "/api/credits/balance?fresh=1", { token, headers: { "x-request-id": "lane-query-1" } })
      expect(balanceOf(queried)).toEqual({ user_id: "lane-user", balance: 10 })
      expect((yield* traceOf("lane-query-1")).names).toContain("Credits.balance")
      const browser = yield* call("GET", "/api/credits/balance", {
        token,
        headers: { origin: "https://app.example", "x-request-id": "lane-origin-1" }
      })
      expect(balanceOf(browser)).toEqual({ user_id: "lane-user", balance: 10 })
      expect(browser.headers["access-control-allow-origin"]).toBeDefined()
      expect((yield* traceOf("lane-origin-1")).names).toContain("Credits.balance")
    }))

  it.effect("refusals on the lane are the one error body, logged with their status", () =>
    Effect.gen(function*() {
      const none = yield* call("GET", "/api/credits/balance", { headers: { "x-request-id": "lane-none-1" } })
      expect(none.status).toBe(401)
      expect(none.body).toEqual(errorShape("unauthorized", none, "Send a bearer token: Authorization: Bearer <token>"))
      expect(none.headers["x-request-id"]).toBe("lane-none-1")
      expect((yield* traceOf("lane-none-1")).server.attributes["http.response.status_code"]).toBe(401)
      expect(accessLine("lane-none-1")?.annotations).toMatchObject({ status: 401 })

      const bad = yield* call("GET", "/api/credits/balance", { token: "not.a.token" })
      expect(bad.status).toBe(401)
      expect(bad.body).toEqual(errorShape("unauthorized", bad, "The token is malformed"))

      // A valid token of a subject that never signed up: no account yet.
      const stranger = yield* call("GET", "/api/credits/balance", { token: yield* tokenFor("lane-stranger") })
      expect(stranger.status).toBe(404)
      expect(stranger.body).toEqual(errorShape("not_found", stranger))
    }))

  it.effect("a remembered token still expires, and its deleted account is refused at once", () =>
    Effect.gen(function*() {
      const shortLived = yield* tokenFor("lane-short", { expiresIn: Math.floor(Date.now() / 1000) + 2 })
      expect((yield* call("POST", "/api/users/store", { token: shortLived })).status).toBe(200)
      expect((yield* call("GET", "/api/credits/balance", { token: shortLived })).status).toBe(200)
      yield* Effect.sleep("2100 millis")
      const expired = yield* call("GET", "/api/credits/balance", { token: shortLived })
      expect(expired.status).toBe(401)
      expect(expired.body).toEqual(errorShape("unauthorized", expired, "The token has expired"))

      const token = yield* tokenFor("lane-leaving", { email: "leaving@example.com" })
      expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
      expect((yield* call("GET", "/api/credits/balance", { token })).status).toBe(200)
      const erased = yield* call("DELETE", "/api/users/delete-account", { token, json: { confirm: "leaving@example.com" } })
      expect(erased.status).toBe(202)
      const after = yield* call("GET", "/api/credits/balance", { token })
      expect(after.status).toBe(401)
    }))
})
