/**
 * Logs and traces never hold what people wrote: a chat whose text, file name, display name, author and
 * owner's email carry a unique marker is uploaded, searched, asked about, given insights, exported and
 * erased, with every log line (annotations and causes included) and every span (attributes and events)
 * captured; the marker, and the bearer token, appear in none of them.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { expect, layer } from "@effect/vitest"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Cause, Effect, HashMap, Layer, Logger, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { createOrder, deliverStripe, Doubles, PaymentsApp } from "./support/payments.js"
import { call, tokenFor, upload, waitFor } from "./support/TestApp.js"

const lines: Array<string> = []
const everything = Logger.make(({ annotations, cause, message }) => {
  lines.push(JSON.stringify({ message, annotations: Object.fromEntries(HashMap.toEntries(annotations)) }))
  if (!Cause.isEmpty(cause)) lines.push(Cause.pretty(cause, { renderErrorCause: true }))
})

const exporter = new InMemorySpanExporter()
const Tracing = NodeSdk.layer(() => ({ resource: { serviceName: "chatsight-test" }, spanProcessor: new SimpleSpanProcessor(exporter) }))

const App = PaymentsApp().pipe(Layer.provide(Tracing), Layer.provide(Logger.replace(Logger.defaultLogger, everything)))

const marker = `mk${randomUUID().replaceAll("-", "").slice(0, 14)}`
const Id = Schema.Struct({ id: Schema.String })

layer(App, { excludeTestServices: true })("what logs and traces hold", (it) => {
  it.effect("no message text, question, answer, file name, display name, email or token, through every flow", () =>
    Effect.gen(function*() {
      const sub = `privacy-${randomUUID()}`
      const token = yield* tokenFor(sub, { email: `${marker}@example.com`, name: `Name ${marker}` })
      expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
      const chat = [
        `01/06/2024, 10:00 - Ana ${marker}: the secret is ${marker} and nobody else knows`,
        `01/06/2024, 10:05 - Bo: what was the secret again?`,
        `01/06/2024, 10:06 - Ana ${marker}: ${marker}, remember it`
      ].join("\n") + "\n"
      const uploaded = yield* upload(token, { name: `Chat ${marker}.txt`, bytes: new Uint8Array(Buffer.from(chat)) }, { display_name: `Title ${marker}` })
      expect(uploaded.status).toBe(201)
      const chatId = Schema.decodeUnknownSync(Id)(uploaded.body).id
      yield* waitFor("the vectors", call("GET", `/api/chats/${chatId}/vector-status`, { token }), (r) => JSON.stringify(r.body).includes("\"ready\""))
      expect((yield* call("GET", `/api/chats/${chatId}/messages?q=${marker}&author=Ana%20${marker}`, { token })).status).toBe(200)
      expect((yield* call("POST", "/api/rag/query", { token, json: { chat_id: chatId, question: `what is ${marker}?` } })).status).toBe(200)
      expect((yield* call("PUT", `/api/chats/${chatId}/display-name`, { token, json: { display_name: `Renamed ${marker}` } })).status).toBe(200)

      // Credits through a purchase, then a category's insights.
      const { stripe } = yield* Doubles
      const order = yield* createOrder(token, { package_id: "popular", provider: "stripe" })
      expect((yield* deliverStripe(stripe.pay(order.provider_order_id ?? ""))).status).toBe(200)
      const unlocked = yield* call("POST", "/api/insights/unlock", { token, json: { chat_id: chatId, category_id: "communication-style" } })
      expect(unlocked.status).toBe(202)
      const jobId = Schema.decodeUnknownSync(Schema.Struct({ job_id: Schema.String }))(unlocked.body).job_id
      yield* waitFor("the insights", call("GET", `/api/insights/jobs/${jobId}/status`, { token }), (r) => JSON.stringify(r.body).includes("succeeded"))

      const started = yield* call("POST", "/api/users/export", { token })
      expect(started.status).toBe(202)
      const exportId = Schema.decodeUnknownSync(Id)(started.body).id
      yield* waitFor("the export", call("GET", `/api/users/exports/${exportId}`, { token }), (r) => r.status === 200)

      const erased = yield* call("DELETE", "/api/users/delete-account", { token, json: { confirm: `${marker}@example.com` } })
      expect(erased.status).toBe(202)
      const erasureId = Schema.decodeUnknownSync(Id)(erased.body).id
      yield* waitFor("the purge", call("GET", `/api/users/erasures/${erasureId}`), (r) => JSON.stringify(r.body).includes("\"done\""))
      yield* Effect.sleep("300 millis")

      // The test's own requests to the API are client spans of this process, not the server's: left out.
      const ours = (span: ReadableSpan) => span.name.startsWith("http.client") && String(span.attributes["url.path"]).startsWith("/api/")
      const spans = exporter.getFinishedSpans().filter((span) => !ours(span)).map((span) =>
        JSON.stringify({ name: span.name, attributes: span.attributes, events: span.events, status: span.status })
      )
      // The capture saw the flows (so finding nothing means something).
      expect(lines.some((line) => line.includes("Account purged"))).toBe(true)
      expect(spans.some((span) => span.includes("Rag.query"))).toBe(true)
      expect(lines.filter((line) => line.includes(marker))).toEqual([])
      expect(spans.filter((span) => span.includes(marker))).toEqual([])
      // The server's own span of the search kept the parameters' names only.
      expect(spans.some((span) => span.includes("q=<redacted>&author=<redacted>"))).toBe(true)
      expect([...lines, ...spans].filter((text) => text.includes(token))).toEqual([])
    }), 60_000)
})
