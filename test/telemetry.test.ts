/**
 * Traces: with an OpenTelemetry SDK in place (as `TracingLive` installs one), a request is one trace
 * whose server span names the route, status, user and request id, with the SQL it ran beneath it.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { expect, layer } from "@effect/vitest"
import { SpanKind } from "@opentelemetry/api"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"
import { buyer, createOrder, deliverStripe, Doubles, PaymentsApp } from "./support/payments.js"
import { client, TestApp, tokenFor } from "./support/TestApp.js"

/** An SDK exporting each span as it ends into `exporter` (one per layer: its shutdown stops the exporter). */
const tracingInto = (exporter: InMemorySpanExporter) =>
  NodeSdk.layer(() => ({
    resource: { serviceName: "chatsight-test" },
    spanProcessor: new SimpleSpanProcessor(exporter)
  }))

const exporter = new InMemorySpanExporter()
const paymentsExporter = new InMemorySpanExporter()

/** The spans from `span` up to the root of its trace, as far as they were exported. */
const ancestry = (span: ReadableSpan, spans: ReadonlyArray<ReadableSpan>): ReadonlyArray<ReadableSpan> => {
  const byId = new Map(spans.map((each) => [each.spanContext().spanId, each]))
  const chain: Array<ReadableSpan> = []
  let parentId = span.parentSpanContext?.spanId
  while (parentId !== undefined) {
    const parent = byId.get(parentId)
    if (parent === undefined || chain.includes(parent)) break
    chain.push(parent)
    parentId = parent.parentSpanContext?.spanId
  }
  return chain
}

const isServerSpanOf = (route: string, requestId: string) => (span: ReadableSpan) =>
  span.kind === SpanKind.SERVER && span.attributes["http.route"] === route && span.attributes["request.id"] === requestId

/**
 * The server span of a request, once it has ended and been exported (the client may read the reply
 * a moment before the server's span is closed).
 */
const serverSpan = (route: string, requestId: string, spansOf: InMemorySpanExporter = exporter) =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < 100; attempt++) {
      const found = spansOf.getFinishedSpans().find(isServerSpanOf(route, requestId))
      if (found !== undefined) return found
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.die(`no server span for ${route} with request.id ${requestId} was exported`)
  })

// On the live clock (`excludeTestServices`), so that spans carry real times and the wait above ends.
layer(TestApp().pipe(Layer.provide(tracingInto(exporter))), { excludeTestServices: true })("request traces", (it) => {
  it.effect("a request produces a trace whose server span has the SQL spans of the request as descendants", () =>
    Effect.gen(function*() {
      const sub = "traced-user"
      const api = yield* client(yield* tokenFor(sub))
      // With the response, for its X-Request-Id header: the id the server span is found by.
      const [, stored] = yield* api.users.store({ withResponse: true })
      expect(stored.status).toBe(200)
      const [, reply] = yield* api.credits.balance({ withResponse: true })
      expect(reply.status).toBe(200)
      const requestId = reply.headers["x-request-id"] ?? ""
      expect(requestId).not.toBe("")

      const server = yield* serverSpan("/api/credits/balance", requestId)
      expect(server.attributes).toMatchObject({
        "http.request.method": "GET",
        "http.route": "/api/credits/balance",
        "http.response.status_code": 200,
        "user.id": sub,
        "request.id": requestId
      })
      expect(server.resource.attributes["service.name"]).toBe("chatsight-test")

      const spans = exporter.getFinishedSpans()
      const traceId = server.spanContext().traceId
      const serverId = server.spanContext().spanId
      const sqlOfRequest = spans.filter((span) =>
        span.name === "sql.execute" && ancestry(span, spans).some((each) => each.spanContext().spanId === serverId)
      )
      // The account's standing and balance, read in one statement (the route's only query).
      expect(sqlOfRequest.length).toBeGreaterThanOrEqual(1)
      for (const span of sqlOfRequest) {
        expect(span.spanContext().traceId).toBe(traceId)
        expect(span.kind).toBe(SpanKind.CLIENT)
        expect(span.attributes["db.system.name"]).toBe("postgresql")
      }
      const queries = sqlOfRequest.map((span) => String(span.attributes["db.query.text"]))
      expect(queries.some((query) => query.includes("credit_balance") && query.includes("deleted_at IS NOT NULL"))).toBe(true)
      // The application's own span sits between the request and its query.
      expect(spans.some((span) => span.name === "Credits.balance" && span.spanContext().traceId === traceId)).toBe(true)

      // The other request is a trace of its own: none of its SQL hangs under this request.
      const storeServer = yield* serverSpan("/api/users/store", stored.headers["x-request-id"] ?? "")
      expect(storeServer.spanContext().traceId).not.toBe(traceId)
      const storeSql = spans.filter((span) =>
        span.name === "sql.execute" &&
        ancestry(span, spans).some((each) => each.spanContext().spanId === storeServer.spanContext().spanId)
      )
      expect(storeSql.length).toBeGreaterThanOrEqual(1)
      expect(storeSql.every((span) => span.spanContext().traceId !== traceId)).toBe(true)
    }))
})

layer(PaymentsApp().pipe(Layer.provide(tracingInto(paymentsExporter))), { excludeTestServices: true })("payment traces", (it) => {
  it.effect("provider calls and webhook handling are spans with order and event ids; signatures are never recorded", () =>
    Effect.gen(function*() {
      const { stripe } = yield* Doubles
      const token = yield* buyer("traced-buyer")
      const order = yield* createOrder(token, { package_id: "starter", provider: "stripe" })
      const event = stripe.pay(order.provider_order_id ?? "")
      const header = stripe.sign(JSON.stringify(event))
      const reply = yield* deliverStripe(event, { header })
      expect(reply.status).toBe(200)
      const server = yield* serverSpan("/api/payments/webhooks/stripe", reply.headers["x-request-id"] ?? "", paymentsExporter)
      expect(server.attributes["http.request.header.stripe-signature"]).toBe("<redacted>")
      const spans = paymentsExporter.getFinishedSpans()
      const traceId = server.spanContext().traceId
      const webhook = spans.find((span) => span.name === "Payments.webhook" && span.spanContext().traceId === traceId)
      expect(webhook?.attributes).toMatchObject({ "payment.provider": "stripe", "payment.event_id": event.id })
      expect(spans.some((span) => span.name === "Payments.receiveEvent" && span.spanContext().traceId === traceId)).toBe(true)
      const call = spans.find((span) => span.name === "Payments.stripe.createCheckoutSession")
      expect(call?.kind).toBe(SpanKind.CLIENT)
      const signature = header.split(",")[1] ?? header
      // The server's spans (the test's own client span of the delivery is not the server's to redact).
      const servers = spans.filter((span) => span.kind !== SpanKind.CLIENT || span.name.startsWith("Payments."))
      expect(servers.length).toBeGreaterThan(3)
      for (const span of servers) expect(JSON.stringify(span.attributes)).not.toContain(signature)
    }))
})
