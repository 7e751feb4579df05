/**
 * The shared page in a real browser: headless Chromium (Debian's `chromium`, installed by .ci/run;
 * CHROMIUM_PATH overrides where it is) driven by playwright-core, on the server `main.ts` runs. At 390
 * and 1280 pixels wide every chart is visible, nothing scrolls sideways, the console stays clean, and
 * neither the DOM nor the preview image holds a name or a word of the chat; without JavaScript the
 * page is the same. Screenshots are kept in test-artifacts/ (not in git).
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { type Browser, chromium } from "playwright-core"
import { PublicStats } from "../src/Chats/Api.js"
import { chartKinds } from "../src/Domain/Charts.js"
import { previewSvg, rasterise } from "../src/Pages/Preview.js"
import { client, serverPort, TestAppOnNodeServer, tokenFor, upload } from "./support/TestApp.js"
import { rhythmChatExport, rhythmParticipants, rhythmWords } from "./support/rhythmChat.js"

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
const artifacts = new URL("../test-artifacts/", import.meta.url)

const secrets = [
  ...rhythmParticipants.flatMap((name) => [name, ...name.split(" ")]),
  ...rhythmWords,
  "Weekend walkers"
].map((s) => s.toLowerCase())

const launch = Effect.acquireRelease(
  Effect.tryPromise(() => {
    if (!existsSync(chromiumPath)) {
      throw new Error(`no Chromium at ${chromiumPath}: install Debian's chromium package (.ci/run does) or set CHROMIUM_PATH`)
    }
    // As root (CI) Chromium refuses its sandbox; the page it loads is our own.
    return chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] })
  }),
  (browser: Browser) => Effect.promise(() => browser.close())
).pipe(Effect.orDie)

/** A GET through the test client (aimed at the server) whose body is kept as bytes. */
const bytesOf = (path: string) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const response = yield* http.execute(HttpClientRequest.get(path))
    return { status: response.status, type: response.headers["content-type"], bytes: new Uint8Array(yield* response.arrayBuffer) }
  }).pipe(Effect.scoped, Effect.orDie)

layer(TestAppOnNodeServer(), { excludeTestServices: true })("the shared page in Chromium", (it) => {
  it.scoped("at 390 and 1280 pixels: every chart visible, no sideways scroll, no console error, nothing of the chat's text", () =>
    Effect.gen(function*() {
      mkdirSync(artifacts, { recursive: true })
      const token = yield* tokenFor("browser-owner", { email: "browser@example.com", name: "Browser Owner" })
      const api = yield* client(token)
      yield* api.users.store()
      const bytes = new TextEncoder().encode(rhythmChatExport(3_000))
      const uploaded = yield* upload(token, { name: "chat.txt", bytes }, { display_name: "Weekend walkers" })
      expect(uploaded.status).toBe(201)
      const chat = (yield* api.chats.list({ urlParams: { limit: 1 } })).data[0]!
      yield* api.chats.sharing({ path: { chat_id: chat.id }, payload: { enabled: true } })
      const base = `http://127.0.0.1:${yield* serverPort}`
      const browser = yield* launch

      for (const [width, javaScriptEnabled] of [[390, true], [1280, true], [390, false]] as const) {
        const label = `${width} px${javaScriptEnabled ? "" : ", no JavaScript"}`
        const context = yield* Effect.promise(() => browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled }))
        const page = yield* Effect.promise(() => context.newPage())
        const problems: Array<string> = []
        page.on("console", (message) => {
          if (message.type() === "error" || message.type() === "warning") problems.push(`${message.type()}: ${message.text()}`)
        })
        page.on("pageerror", (error) => problems.push(`page error: ${error.message}`))
        page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`))
        const response = yield* Effect.promise(() => page.goto(`${base}/s/${chat.id}`, { waitUntil: "load" }))
        expect(response?.status(), label).toBe(200)

        for (const kind of chartKinds) {
          const chart = page.locator(`figure#${kind} svg`)
          expect(yield* Effect.promise(() => chart.isVisible()), `${label}: ${kind}`).toBe(true)
          const box = yield* Effect.promise(() => chart.boundingBox())
          expect(box, `${label}: ${kind}`).not.toBeNull()
          expect(box!.width, `${label}: ${kind} width`).toBeGreaterThan(Math.min(300, width - 80))
          expect(box!.x + box!.width, `${label}: ${kind} inside the page`).toBeLessThanOrEqual(width)
          expect(box!.height, `${label}: ${kind} height`).toBeGreaterThan(50)
          const caption = yield* Effect.promise(() => page.locator(`figure#${kind} figcaption`).innerText())
          expect(caption.length, `${label}: ${kind} summary`).toBeGreaterThan(10)
        }
        // Evaluated in the page (whose DOM types this project does not load), decoded here.
        const widths = yield* Effect.promise(() =>
          page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth, document.body.scrollWidth]")
        ).pipe(Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Number))), Effect.orDie)
        expect(widths[0], `${label}: no sideways scroll`).toBeLessThanOrEqual(widths[1]!)
        expect(widths[2], `${label}: no sideways scroll`).toBeLessThanOrEqual(widths[1]!)

        const dom = (yield* Effect.promise(() => page.content())).toLowerCase()
        const text = (yield* Effect.promise(() => page.locator("body").innerText())).toLowerCase()
        for (const secret of secrets) {
          expect(dom, `${label}: ${secret} in the DOM`).not.toContain(secret)
          expect(text, `${label}: ${secret} in the text`).not.toContain(secret)
        }
        expect(text).toContain("participant 1")

        const file = `shared-page-${width}${javaScriptEnabled ? "" : "-nojs"}.png`
        yield* Effect.promise(() => page.screenshot({ path: new URL(file, artifacts).pathname, fullPage: true }))
        expect(problems, label).toEqual([])
        yield* Effect.promise(() => context.close())
      }

      // The preview a messenger shows: the PNG of the text-free heatmap SVG of the public statistics,
      // byte for byte, so no name or word can be in it.
      const preview = yield* bytesOf(`/s/${chat.id}/preview.png`)
      expect([preview.status, preview.type]).toEqual([200, "image/png"])
      writeFileSync(new URL("shared-page-preview.png", artifacts), preview.bytes)
      const stats = yield* bytesOf(`/api/chats/public/${chat.id}/stats`).pipe(
        Effect.flatMap(({ bytes }) => Schema.decodeUnknown(Schema.parseJson(PublicStats))(new TextDecoder().decode(bytes))),
        Effect.orDie
      )
      const svg = previewSvg(stats.statistics)
      expect(svg).not.toMatch(/<text|<title|<desc|font/i)
      expect(svg.match(/data-count="/g)).toHaveLength(168)
      expect(Buffer.from(preview.bytes).equals(Buffer.from(rasterise(svg)))).toBe(true)

      // And the preview as a browser gets it.
      const context = yield* Effect.promise(() => browser.newContext())
      const image = yield* Effect.promise(() => context.newPage())
      const loaded = yield* Effect.promise(() => image.goto(`${base}/s/${chat.id}/preview.png`))
      expect(loaded?.headers()["content-type"]).toBe("image/png")
      yield* Effect.promise(() => context.close())
    }), { timeout: 120_000 })
})
