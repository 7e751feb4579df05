/**
 * The shared page and the chart endpoint through HTTP on a fresh database: the page is a 404 page until
 * sharing is on, anonymised (no name, no word, no display name; only the chat's top emoji), with Open Graph tags and a
 * preview PNG; its ETag answers 304 and changes when the chat does; turning sharing off makes the page,
 * the preview and a remembered ETag 404 at once. The owner's SVG charts carry the same numbers as the
 * chat's statistics; sizes and kinds are validated.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { chartKinds } from "../src/Domain/Charts.js"
import { call, client, refused, TestApp, tokenFor, upload } from "./support/TestApp.js"
import { rhythmChatExport, rhythmParticipants, rhythmWords } from "./support/rhythmChat.js"

/** A GET whose body is kept as bytes (a PNG), with the reply's status and headers. */
const fetchBytes = (path: string, headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const response = yield* http.execute(HttpClientRequest.get(path).pipe(HttpClientRequest.setHeaders(headers)))
    const bytes = new Uint8Array(yield* response.arrayBuffer)
    return { status: response.status, headers: response.headers, bytes, text: new TextDecoder().decode(bytes) }
  }).pipe(Effect.scoped, Effect.orDie)

const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/** An owner with an uploaded generated chat (named, so its display name can be looked for). */
const sharedChat = (sub: string) =>
  Effect.gen(function*() {
    const token = yield* tokenFor(sub, { email: `${sub}@example.com`, name: sub })
    const api = yield* client(token)
    yield* api.users.store()
    const bytes = new TextEncoder().encode(rhythmChatExport(3_000))
    const reply = yield* upload(token, { name: "Allotment and lighthouse trips.txt", bytes }, { display_name: "Our secret garden club" })
    expect(reply.status, JSON.stringify(reply.body).slice(0, 300)).toBe(201)
    const chat = yield* api.chats.list({ urlParams: { limit: 1 } }).pipe(Effect.map((page) => page.data[0]!))
    return { token, api, chat }
  })

/** Names (and their parts), the chat's words, the display and file names: none may be shown. */
const secrets = [
  ...rhythmParticipants.flatMap((name) => [name, ...name.split(" ")]),
  ...rhythmWords,
  "Our secret garden club",
  "Allotment and lighthouse trips"
].map((s) => s.toLowerCase())

layer(TestApp(), { excludeTestServices: true })("shared page and charts", (it) => {
  it.effect("a shared page: 404 until shared, anonymised with every chart, Open Graph and a preview; 304 on its ETag; 404 at once when sharing stops", () =>
    Effect.gen(function*() {
      const { api, chat } = yield* sharedChat("pages-owner")
      const path = { chat_id: chat.id }
      const missing = yield* fetchBytes(`/s/${randomUUID()}`)
      expect(missing.status).toBe(404)
      expect(missing.headers["content-type"]).toContain("text/html")

      // Private: the same page as a chat that does not exist, and the same for the preview and a non-id.
      for (const route of [`/s/${chat.id}`, `/s/${chat.id}/preview.png`, "/s/not-a-chat-id", `/s/${randomUUID()}/preview.png`]) {
        const reply = yield* fetchBytes(route)
        expect([route, reply.status]).toEqual([route, 404])
        expect(reply.text).toBe(missing.text)
      }

      yield* api.chats.sharing({ path, payload: { enabled: true } })
      const page = yield* fetchBytes(`/s/${chat.id}`, { host: "chatsight.example" })
      expect(page.status).toBe(200)
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8")
      expect(page.headers["cache-control"]).toBe("no-cache")
      expect(page.headers["content-security-policy"]).toContain("default-src 'none'")
      const etag = page.headers["etag"] ?? ""
      expect(etag).toMatch(/^"[\w-]{27}"$/)
      const html = page.text
      expect(html).not.toContain("<script")
      expect(html).toContain(`<meta property="og:url" content="http://chatsight.example/s/${chat.id}">`)
      expect(html).toContain(`<meta property="og:image" content="http://chatsight.example/s/${chat.id}/preview.png">`)
      expect(html).toContain(`<meta name="twitter:card" content="summary_large_image">`)
      for (const kind of chartKinds) expect(html).toContain(`<figure id="${kind}" data-kind="${kind}">`)
      expect(html.match(/<svg /g)).toHaveLength(chartKinds.length)
      expect(html).toContain("Participant 1")
      const lower = html.toLowerCase()
      for (const secret of secrets) expect(lower, secret).not.toContain(secret)
      expect(lower).not.toContain(chat.display_name.toLowerCase())

      // The numbers on the page are the public statistics' numbers.
      const stats = (yield* (yield* client()).chats.publicStats({ path })).statistics
      const cells = [...html.matchAll(/data-weekday="(\d)" data-hour="(\d+)" data-count="(\d+)"/g)]
      expect(cells).toHaveLength(168)
      for (const [, weekday, hour, count] of cells) {
        expect(Number(count)).toBe(stats?.totals.activity.by_weekday_hour?.[Number(weekday)]?.[Number(hour)])
      }
      // The chat's own top emoji (counted over everyone) are shown; no one's own emoji are.
      const topEmoji = stats?.totals.top_emoji ?? []
      expect(topEmoji.length).toBeGreaterThan(0)
      for (const e of topEmoji.slice(0, 10)) expect(html).toContain(`data-emoji="${e.emoji}" data-count="${e.count}"`)
      expect(stats?.participants.every((p) => p.top_emoji.length === 0)).toBe(true)

      // Asked again with its ETag: 304 and nothing else; with another: the page.
      const again = yield* fetchBytes(`/s/${chat.id}`, { host: "chatsight.example", "if-none-match": etag })
      expect([again.status, again.bytes.length, again.headers["etag"]]).toEqual([304, 0, etag])
      expect((yield* fetchBytes(`/s/${chat.id}`, { host: "chatsight.example", "if-none-match": "\"other\"" })).status).toBe(200)

      const preview = yield* fetchBytes(`/s/${chat.id}/preview.png`)
      expect(preview.status).toBe(200)
      expect(preview.headers["content-type"]).toBe("image/png")
      expect([...preview.bytes.slice(0, 8)]).toEqual(pngSignature)
      // 1200 x 630, from the PNG's header.
      const view = new DataView(preview.bytes.buffer, preview.bytes.byteOffset)
      expect([view.getUint32(16), view.getUint32(20)]).toEqual([1200, 630])
      const previewTag = preview.headers["etag"] ?? ""
      expect((yield* fetchBytes(`/s/${chat.id}/preview.png`, { "if-none-match": previewTag })).status).toBe(304)

      // A rename changes the chat: a new ETag (the display name still not shown).
      yield* api.chats.rename({ path, payload: { display_name: "Renamed garden club" } })
      const renamed = yield* fetchBytes(`/s/${chat.id}`, { host: "chatsight.example", "if-none-match": etag })
      expect(renamed.status).toBe(200)
      expect(renamed.headers["etag"]).not.toBe(etag)
      expect(renamed.text.toLowerCase()).not.toContain("renamed garden club")

      // Off: page, preview and a remembered ETag are 404 at once.
      const current = renamed.headers["etag"] ?? ""
      yield* api.chats.sharing({ path, payload: { enabled: false } })
      expect((yield* fetchBytes(`/s/${chat.id}`, { host: "chatsight.example" })).status).toBe(404)
      expect((yield* fetchBytes(`/s/${chat.id}`, { host: "chatsight.example", "if-none-match": current })).status).toBe(404)
      expect((yield* fetchBytes(`/s/${chat.id}/preview.png`, { "if-none-match": previewTag })).status).toBe(404)
      expect((yield* fetchBytes(`/s/${chat.id}/preview.png`)).text).toBe(missing.text)

      // On again: served, under a new ETag.
      yield* api.chats.sharing({ path, payload: { enabled: true } })
      const back = yield* fetchBytes(`/s/${chat.id}`, { host: "chatsight.example", "if-none-match": current })
      expect(back.status).toBe(200)
      expect(back.headers["etag"]).not.toBe(current)

      // Deleted: gone.
      yield* api.chats.delete({ path })
      expect((yield* fetchBytes(`/s/${chat.id}`)).status).toBe(404)
    }))

  it.effect("the owner's SVG charts carry the chat's statistics, with names; sizes and kinds are checked; others get 404", () =>
    Effect.gen(function*() {
      const { api, chat, token } = yield* sharedChat("charts-owner")
      const stats = (yield* api.chats.get({ path: { chat_id: chat.id } })).statistics
      if (stats === null) return yield* Effect.dieMessage("no statistics")

      for (const kind of chartKinds) {
        const reply = yield* call("GET", `/api/chats/${chat.id}/charts/${kind}.svg`, { token })
        expect([kind, reply.status]).toEqual([kind, 200])
        expect(reply.headers["content-type"]).toBe("image/svg+xml; charset=utf-8")
        expect(reply.headers["cache-control"]).toBe("private, no-cache")
        expect(String(reply.body)).toMatch(new RegExp(`^<svg [^>]*role="img"[^>]*data-chart="${kind}"`))
      }

      const participants = String((yield* call("GET", `/api/chats/${chat.id}/charts/participants.svg`, { token })).body)
      const shares = [...participants.matchAll(/data-participant="([^"]+)" data-messages="(\d+)"/g)].map((m) => [m[1], Number(m[2])])
      expect(shares).toEqual(stats.participants.map((p) => [p.name, p.messages]))

      const replies = String((yield* call("GET", `/api/chats/${chat.id}/charts/reply-times.svg`, { token })).body)
      for (const p of stats.participants) {
        const counts = [...replies.matchAll(/data-participant="([^"]+)" data-bucket="[^"]+" data-from-seconds="\d+" data-to-seconds="\w+" data-count="(\d+)"/g)]
          .filter((m) => m[1] === p.name).map((m) => Number(m[2]))
        expect(counts).toEqual(p.response_time_buckets?.map((b) => b.count))
      }

      const sized = yield* call("GET", `/api/chats/${chat.id}/charts/heatmap.svg?width=800&height=300`, { token })
      expect(String(sized.body)).toMatch(/^<svg [^>]*viewBox="0 0 800 300" width="800" height="300"/)

      refused(yield* call("GET", `/api/chats/${chat.id}/charts/heatmap.svg?width=10`, { token }), 400, "validation_error", "width")
      refused(yield* call("GET", `/api/chats/${chat.id}/charts/heatmap.svg?height=5000`, { token }), 400, "validation_error", "height")
      refused(yield* call("GET", `/api/chats/${chat.id}/charts/heatmap.svg?width=abc`, { token }), 400, "validation_error", "width")
      refused(yield* call("GET", `/api/chats/${chat.id}/charts/pie.svg`, { token }), 400, "validation_error", "chart")
      refused(yield* call("GET", `/api/chats/${chat.id}/charts/heatmap.png`, { token }), 400, "validation_error", "chart")
      refused(yield* call("GET", `/api/chats/${chat.id}/charts/heatmap.svg`), 401, "unauthorized")

      const stranger = yield* tokenFor("charts-stranger")
      refused(yield* call("GET", `/api/chats/${chat.id}/charts/heatmap.svg`, { token: stranger }), 404, "not_found")
      refused(yield* call("GET", `/api/chats/${randomUUID()}/charts/heatmap.svg`, { token }), 404, "not_found")
    }))
})
