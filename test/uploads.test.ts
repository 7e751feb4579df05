import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { readFileSync } from "node:fs"
import { call, TestApp, tokenFor, upload } from "./support/TestApp.js"

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`./fixtures/whatsapp/${name}`, import.meta.url)))

/** Every date in it reads either way round: only day_first decides the order. */
const ambiguous = "01/02/2021, 09:15 - Mira: first\n03/04/2021, 18:40 - Tomasz: second\n"
const utf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"))

/** The fields of an upload's reply these tests read. */
const UploadReply = Schema.Struct({
  id: Schema.String,
  display_name: Schema.String,
  source_filename: Schema.NullOr(Schema.String),
  time_zone: Schema.NullOr(Schema.String),
  created: Schema.Boolean,
  parse_report: Schema.Struct({ day_first: Schema.Boolean }),
  ignored_options: Schema.optional(Schema.Array(Schema.String)),
  notice: Schema.optional(Schema.NullOr(Schema.String))
})

const signedUp = (sub: string) =>
  Effect.gen(function*() {
    const token = yield* tokenFor(sub, { email: `${sub}@example.com`, name: sub })
    expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
    return token
  })

const uploaded = (status: number) => (reply: { readonly status: number; readonly body: unknown }) => {
  expect(reply.status, JSON.stringify(reply.body).slice(0, 400)).toBe(status)
  return Schema.decodeUnknownSync(UploadReply)(reply.body)
}

layer(TestApp(), { excludeTestServices: true })("uploads", (it) => {
  it.effect("an identical re-upload with other options answers the stored chat and names the options it did not apply", () =>
    Effect.gen(function*() {
      const token = yield* signedUp("reupload-options")
      const file = { name: "spring.txt", bytes: utf8(ambiguous) }
      const first = uploaded(201)(yield* upload(token, file, { day_first: "true", timezone: "Europe/Berlin" }))
      expect(first).toMatchObject({ created: true, time_zone: "Europe/Berlin", parse_report: { day_first: true } })

      const same = uploaded(200)(yield* upload(token, file, { day_first: "true", timezone: "Europe/Berlin" }))
      expect(same).toMatchObject({ id: first.id, created: false, ignored_options: [], notice: null })

      const other = uploaded(200)(yield* upload(token, file, { day_first: "false", timezone: "Asia/Kolkata", display_name: "Renamed" }))
      expect(other).toMatchObject({
        id: first.id,
        created: false,
        ignored_options: ["display_name", "day_first", "timezone"],
        // Nothing changed: the stored chat is answered as it was.
        display_name: "spring",
        time_zone: "Europe/Berlin",
        parse_report: { day_first: true }
      })
      expect(other.notice).toContain(`DELETE /api/chats/${first.id}`)
    }))

  it.effect("a re-upload that only names another display name points to the rename route", () =>
    Effect.gen(function*() {
      const token = yield* signedUp("reupload-name")
      const file = { name: "android-24h-group.txt", bytes: fixture("android-24h-group.txt") }
      const first = uploaded(201)(yield* upload(token, file))
      const again = uploaded(200)(yield* upload(token, file, { display_name: "Allotment" }))
      expect(again.ignored_options).toEqual(["display_name"])
      expect(again.notice).toContain(`PUT /api/chats/${first.id}/display-name`)
    }))

  it.effect("a display name from the file name keeps no path, no control characters and at most 100 characters", () =>
    Effect.gen(function*() {
      const token = yield* signedUp("file-names")
      const named = (name: string, text: string) =>
        Effect.map(upload(token, { name, bytes: utf8(text) }), (reply) => {
          expect(reply.status, `${name.slice(0, 40)}: ${JSON.stringify(reply.body).slice(0, 300)}`).toBe(201)
          return uploaded(201)(reply)
        })

      const traversal = yield* named("../../etc/passwd", ambiguous)
      expect(traversal.display_name).toBe("passwd")
      expect(traversal.source_filename).toBe("passwd")

      const windows = yield* named("C:\\Users\\mira\\WhatsApp Chat with Tomasz.txt", `${ambiguous}04/05/2021, 10:00 - Mira: third\n`)
      expect(windows.display_name).toBe("Tomasz")


      // WhatsApp names exports after the contact or group, in any script.
      const cyrillic = yield* named("WhatsApp Chat with Иван.txt", `${ambiguous}07/08/2021, 10:00 - Mira: sixth\n`)
      expect(cyrillic.display_name).toBe("Иван")
      const arabic = yield* named("WhatsApp Chat - عائلة.txt", `${ambiguous}08/09/2021, 10:00 - Mira: seventh\n`)
      expect(arabic.display_name).toBe("عائلة")
      const controls = yield* named("Garden\tgang\u202E.txt", `${ambiguous}05/06/2021, 10:00 - Mira: fourth\n`)
      expect(controls.display_name).toBe("Garden gang")

      const long = yield* named(`${"x".repeat(5000)}.txt`, `${ambiguous}06/07/2021, 10:00 - Mira: fifth\n`)
      expect(Array.from(long.display_name)).toHaveLength(100)
      expect(long.source_filename?.length).toBeLessThanOrEqual(255)
    }))
})
