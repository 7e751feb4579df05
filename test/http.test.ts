import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { call, errorShape, TestApp, tokenFor } from "./support/TestApp.js"



layer(TestApp({ MAX_BODY_BYTES: "1024", CORS_ORIGINS: "https://app.example" }), { excludeTestServices: true })("the HTTP edge", (it) => {
  it.effect("GET / names the service and links the docs and health", () =>
    Effect.gen(function*() {
      const reply = yield* call("GET", "/")
      expect(reply.status).toBe(200)
      expect(reply.body).toMatchObject({ name: "Chatsight", docs: "/docs", health: "/health" })
    }))

  it.effect("GET /health is 200 with the database up, and reports it", () =>
    Effect.gen(function*() {
      const reply = yield* call("GET", "/health")
      expect(reply.status).toBe(200)
      expect(reply.body).toMatchObject({
        status: "ok",
        // This application runs no background worker; the server in main.ts does.
        checks: { database: { status: "up" }, worker: { status: "absent", in_flight: 0, backlog: null } }
      })
    }))

  it.effect("GET /health/db-pool reads the pool's own counters", () =>
    Effect.gen(function*() {
      const reply = yield* call("GET", "/health/db-pool")
      expect(reply.status).toBe(200)
      expect(reply.body).toMatchObject({
        size: expect.any(Number),
        max: expect.any(Number),
        idle: expect.any(Number),
        in_use: expect.any(Number),
        waiting: 0
      })
    }))

  it.effect("the OpenAPI document is at /docs/openapi.json and the UI at /docs", () =>
    Effect.gen(function*() {
      const spec = yield* call("GET", "/docs/openapi.json")
      expect(spec.status).toBe(200)
      expect(spec.body).toMatchObject({ openapi: expect.stringMatching(/^3\./) })
      const paths = Object.keys((spec.body as { paths: Record<string, unknown> }).paths)
      expect(paths).toEqual(expect.arrayContaining([
        "/health",
        "/api/users/store",
        "/api/categories/{category_id}/insights",
        "/api/credits/transactions"
      ]))
      const ui = yield* call("GET", "/docs")
      expect(ui.status).toBe(200)
      expect(ui.headers["content-type"]).toContain("text/html")
    }))

  it.effect("the document lists on every operation the refusals the edge makes before any handler", () =>
    Effect.gen(function*() {
      const spec = yield* call("GET", "/docs/openapi.json")
      const Operations = Schema.Struct({
        paths: Schema.Record({
          key: Schema.String,
          value: Schema.Record({ key: Schema.String, value: Schema.Struct({ responses: Schema.Record({ key: Schema.String, value: Schema.Unknown }) }) })
        })
      })
      const { paths } = yield* Schema.decodeUnknown(Operations)(spec.body)
      const operations = Object.values(paths).flatMap((item) => Object.values(item))
      expect(operations.length).toBeGreaterThan(10)
      for (const operation of operations) {
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(["400", "408", "413", "415", "431", "503"]))
      }
    }))

  it.effect("an unknown route is a 404 in the one error shape", () =>
    Effect.gen(function*() {
      const reply = yield* call("GET", "/api/nothing-here")
      expect(reply.status).toBe(404)
      expect(reply.body).toEqual(errorShape("not_found", reply))
    }))

  it.effect("a malformed parameter is a 400 that names the field", () =>
    Effect.gen(function*() {
      const reply = yield* call("GET", "/api/categories/Not%20A%20Slug/insights")
      expect(reply.status).toBe(400)
      expect(reply.body).toEqual(errorShape("validation_error", reply))
      expect(JSON.stringify(reply.body)).toContain("category_id")
    }))

  it.effect("a query parameter out of range is a 400 that names it", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("edge-user")
      yield* call("POST", "/api/users/store", { token })
      const reply = yield* call("GET", "/api/credits/transactions?limit=0", { token })
      expect(reply.status).toBe(400)
      expect(reply.body).toMatchObject({ error: { code: "validation_error", message: expect.stringContaining("limit") } })
    }))

  it.effect("every response carries a request id, the same one as its error body", () =>
    Effect.gen(function*() {
      const reply = yield* call("GET", "/nope")
      const requestId = reply.headers["x-request-id"]
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
      expect(reply.body).toMatchObject({ error: { request_id: requestId } })
    }))

  it.effect("a sane incoming X-Request-Id is kept; an unsafe one is replaced", () =>
    Effect.gen(function*() {
      const kept = yield* call("GET", "/health", { headers: { "x-request-id": "client-req.42" } })
      expect(kept.headers["x-request-id"]).toBe("client-req.42")
      const replaced = yield* call("GET", "/health", { headers: { "x-request-id": "bad id\twith spaces" } })
      expect(replaced.headers["x-request-id"]).not.toContain("bad")
    }))

  it.effect("CORS answers the configured origin and exposes the request id", () =>
    Effect.gen(function*() {
      const reply = yield* call("GET", "/health", { headers: { origin: "https://app.example" } })
      expect(reply.headers["access-control-allow-origin"]).toBe("https://app.example")
      expect(reply.headers["access-control-expose-headers"]).toContain("x-request-id")
      const preflight = yield* call("OPTIONS", "/api/users/store", {
        headers: { origin: "https://app.example", "access-control-request-method": "POST" }
      })
      expect(preflight.status).toBe(204)
      expect(preflight.headers["access-control-allow-methods"]).toContain("POST")
    }))

  it.effect("the balance, answered at the edge, keeps the contract: its body, errors, request id and CORS", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("edge-balance")
      const headers = { origin: "https://app.example", "x-request-id": "balance-req.1" }
      const missing = yield* call("GET", "/api/credits/balance", { token, headers })
      expect(missing.status).toBe(404)
      expect(missing.body).toEqual(errorShape("not_found", missing))
      expect(missing.headers["x-request-id"]).toBe("balance-req.1")
      expect(missing.headers["access-control-allow-origin"]).toBe("https://app.example")
      expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
      const reply = yield* call("GET", "/api/credits/balance", { token, headers })
      expect(reply.status).toBe(200)
      expect(reply.headers["content-type"]).toContain("application/json")
      expect(reply.headers["access-control-allow-origin"]).toBe("https://app.example")
      expect(reply.headers["x-request-id"]).toBe("balance-req.1")
      expect(reply.body).toEqual({ user_id: "edge-balance", balance: 10 })
      const unauthorized = yield* call("GET", "/api/credits/balance", { token: "not-a-token" })
      expect(unauthorized.status).toBe(401)
      expect(unauthorized.body).toEqual(errorShape("unauthorized", unauthorized))
    }))

  it.effect("a body over the limit is a 413 and changes nothing", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("big-body", { email: "before@example.com" })
      yield* call("POST", "/api/users/store", { token })
      const other = yield* tokenFor("big-body", { email: "after@example.com" })
      const reply = yield* call("POST", "/api/users/store", { token: other, body: JSON.stringify({ pad: "x".repeat(4096) }) })
      expect(reply.status).toBe(413)
      expect(reply.body).toEqual(errorShape("payload_too_large", reply))
      const again = yield* call("POST", "/api/users/store", { token })
      expect(again.body).toMatchObject({ email: "before@example.com" })
    }))
})

describe("errors", () => {
  it("codes are the snake case of their tags", async () => {
    const { errorCode } = await import("../src/Domain/Errors.js")
    expect(errorCode("LockTimeout")).toBe("lock_timeout")
    expect(errorCode("DatabaseError")).toBe("database_error")
  })
})
