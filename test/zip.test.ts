// Zipped exports and the one entry readExport: choosing the chat file, refusing archives without one,
// corrupt or truncated archives, zip bombs, and uploads over the size limit. Zips are built here.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { PayloadTooLarge, UnsupportedExport } from "../src/Domain/Errors.js"
import { messagesOf } from "../src/Ingest/Columns.js"
import { readExport } from "../src/Ingest/Export.js"
import { pickChatEntry, readChatFromZip } from "../src/Ingest/Zip.js"
import { zip } from "./support/zipWriter.js"

const CHAT = [
  "[12/03/22, 9:15:02 AM] Book Club: \u200EMessages and calls are end-to-end encrypted.",
  "[12/03/22, 9:16:40 AM] Priya Raman: Welcome!",
  "[13/03/22, 1:05:00 PM] Olu Bakare: \u200Eimage omitted"
].join("\r\n")

const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1])

describe("choosing the chat in a zip", () => {
  it.effect("reads _chat.txt next to media, ignoring __MACOSX entries", () =>
    Effect.gen(function*() {
      const bytes = zip([
        { name: "00000003-PHOTO-2022-03-13-13-05-00.jpg", data: jpeg, stored: true },
        { name: "__MACOSX/._chat.txt", data: "\0\0junk" },
        { name: "_chat.txt", data: CHAT }
      ])
      const chat = yield* readChatFromZip(bytes)
      expect(chat.name).toBe("_chat.txt")
      expect(new TextDecoder().decode(chat.bytes)).toBe(CHAT)
      const parsed = yield* readExport(bytes, "WhatsApp Chat - Book Club.zip")
      expect(parsed.report).toMatchObject({ messages: 2, systemEvents: 1, media: 1, participants: ["Priya Raman", "Olu Bakare"] })
    }))

  it("prefers files named after WhatsApp, in any language, then the largest top-level .txt", () => {
    const entry = (name: string, uncompressedSize = 10) => ({ name, compressedSize: 5, uncompressedSize })
    const names = [
      "WhatsApp Chat with Priya Raman.txt",
      "WhatsApp Chat mit Greta Lindqvist.txt",
      "Chat de WhatsApp con Lucía Ferrer.txt",
      "Discussion WhatsApp avec Chloé Marchand.txt",
      "Conversa do WhatsApp com Ana Souza.txt"
    ]
    for (const name of names) {
      expect(pickChatEntry([entry("notes.txt", 999), entry("photo.jpg"), entry(name)])?.name).toBe(name)
    }
    expect(pickChatEntry([entry("a.txt", 10), entry("b.txt", 50), entry("sub/c.txt", 500)])?.name).toBe("b.txt")
    expect(pickChatEntry([entry("__MACOSX/WhatsApp Chat with X.txt"), entry("photo.jpg")])).toBeNull()
  })

  it.effect("falls back to the single top-level .txt", () =>
    Effect.gen(function*() {
      const bytes = zip([{ name: "export.txt", data: CHAT }, { name: "IMG-1.jpg", data: jpeg, stored: true }])
      const chat = yield* readExport(bytes, "export.zip")
      expect(chat.columns.count).toBe(3)
    }))
})

describe("refusing zips", () => {
  it.effect("refuses a zip that holds only media, as 422", () =>
    Effect.gen(function*() {
      const bytes = zip([
        { name: "00000001-PHOTO.jpg", data: jpeg, stored: true },
        { name: "00000002-AUDIO.opus", data: jpeg, stored: true }
      ])
      const error = yield* Effect.flip(readExport(bytes, "chat.zip"))
      expect(error).toBeInstanceOf(UnsupportedExport)
      expect(error.message).toContain("no chat text")
    }))

  it.effect("refuses a truncated zip", () =>
    Effect.gen(function*() {
      const whole = zip([{ name: "_chat.txt", data: CHAT.repeat(50) }])
      const error = yield* Effect.flip(readExport(whole.slice(0, Math.floor(whole.length / 2)), "chat.zip"))
      expect(error).toBeInstanceOf(UnsupportedExport)
      expect(error.message).toContain("damaged or incomplete")
    }))

  it.effect("refuses a zip whose chat data is corrupt", () =>
    Effect.gen(function*() {
      const bytes = zip([{ name: "_chat.txt", data: CHAT.repeat(50) }])
      // Overwrite the deflated data (after the 30-byte header and the 9-byte name) with garbage.
      bytes.fill(0xff, 39, 80)
      const refusal = yield* Effect.flip(readChatFromZip(bytes))
      expect(refusal.reason).toBe("corrupt-zip")
    }))

  it.effect("refuses a bomb declaring 200 MB without inflating it", () =>
    Effect.gen(function*() {
      const bytes = zip([{ name: "_chat.txt", data: new Uint8Array(1024), declaredSize: 200 * 1024 * 1024 }])
      const refusal = yield* Effect.flip(readChatFromZip(bytes, { maxChatBytes: 100 * 1024 * 1024 }))
      expect(refusal.reason).toBe("too-large")
      const error = yield* Effect.flip(readExport(bytes, "chat.zip"))
      expect(error).toBeInstanceOf(PayloadTooLarge)
      const total = yield* Effect.flip(readChatFromZip(bytes, { maxTotalUncompressed: 50 * 1024 * 1024 }))
      expect(total.reason).toBe("zip-bomb")
    }))

  it.effect("refuses a high-ratio entry (8 MB of zeros)", () =>
    Effect.gen(function*() {
      const bytes = zip([{ name: "_chat.txt", data: new Uint8Array(8 * 1024 * 1024) }])
      expect(bytes.length).toBeLessThan(20_000)
      const refusal = yield* Effect.flip(readChatFromZip(bytes))
      expect(refusal.reason).toBe("zip-bomb")
      expect(refusal.message).toContain("compressed")
      const error = yield* Effect.flip(readExport(bytes, "chat.zip"))
      expect(error).toBeInstanceOf(UnsupportedExport)
    }))

  it.effect("stops inflating when an entry is larger than its header declares", () =>
    Effect.gen(function*() {
      const bytes = zip([{ name: "_chat.txt", data: CHAT.repeat(2000), declaredSize: 1000 }])
      const refusal = yield* Effect.flip(readChatFromZip(bytes))
      expect(["zip-bomb", "corrupt-zip"]).toContain(refusal.reason)
    }))

  it.effect("refuses too many entries", () =>
    Effect.gen(function*() {
      const bytes = zip(Array.from({ length: 12 }, (_, i) => ({ name: `IMG-${i}.jpg`, data: jpeg, stored: true })))
      const refusal = yield* Effect.flip(readChatFromZip(bytes, { maxEntries: 10 }))
      expect(refusal).toMatchObject({ reason: "zip-bomb", message: expect.stringContaining("12 entries") })
    }))
})

describe("readExport", () => {
  it.effect("reads a plain .txt export", () =>
    Effect.gen(function*() {
      const chat = yield* readExport(new TextEncoder().encode(CHAT), "_chat.txt", { dayFirst: true })
      expect(chat.report.dayFirstConfidence).toBe("override")
      expect(messagesOf(chat.columns).map((m) => m.kind)).toEqual(["system", "text", "media"])
    }))

  it.effect("refuses an upload over the caller's size limit as 413", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(readExport(new TextEncoder().encode(CHAT), "_chat.txt", { maxBytes: 100 }))
      expect(error).toBeInstanceOf(PayloadTooLarge)
      expect(error.message).toContain("limit")
    }))

  it.effect("refuses a zipped chat larger than the limit once unpacked as 413", () =>
    Effect.gen(function*() {
      const bytes = zip([{ name: "_chat.txt", data: CHAT.repeat(40) }])
      const error = yield* Effect.flip(readExport(bytes, "chat.zip", { maxBytes: 3000 }))
      expect(error).toBeInstanceOf(PayloadTooLarge)
    }))

  it.effect("refuses empty, binary, invalid UTF-8 and non-chat uploads as 422", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Uint8Array, string]> = [
        [new Uint8Array(0), "empty"],
        [new Uint8Array([0x47, 0x49, 0x46, 0x38, 0, 0, 0, 1]), "binary"],
        [new Uint8Array([0x68, 0x69, 0xc3, 0x28]), "UTF-8"],
        [new TextEncoder().encode("Dear diary,\ntoday was fine.\n"), "does not look like a WhatsApp chat"]
      ]
      for (const [bytes, words] of cases) {
        const error = yield* Effect.flip(readExport(bytes, "upload.txt"))
        expect(error).toBeInstanceOf(UnsupportedExport)
        expect(error.message).toContain(words)
      }
    }))
})

describe("attachments in a zip", () => {
  it.effect("matches the zip's files to the messages that name them, by kind, without keeping them", () =>
    Effect.gen(function*() {
      const chat = [
        "14/03/2024, 08:00 - Ana Lima: IMG-20240314-WA0001.jpg (file attached)",
        "14/03/2024, 08:01 - Bo Chen: VID-20240314-WA0002.mp4 (file attached)",
        "nice",
        "14/03/2024, 08:02 - Bo Chen: PTT-20240314-WA0003.opus (file attached)",
        "14/03/2024, 08:03 - Ana Lima: hello"
      ].join("\n")
      const bytes = zip([
        { name: "WhatsApp Chat with Bo Chen.txt", data: chat },
        { name: "IMG-20240314-WA0001.jpg", data: jpeg, stored: true },
        { name: "PTT-20240314-WA0003.opus", data: "opus" },
        { name: "IMG-20240101-WA0009.jpg", data: jpeg, stored: true },
        { name: "__MACOSX/._IMG-20240314-WA0001.jpg", data: "junk" }
      ])
      const parsed = yield* readExport(bytes, "WhatsApp Chat with Bo Chen.zip")
      expect(parsed.report.attachments).toEqual({
        matched: { image: 1, voice: 1 },
        unmatched: { video: 1 },
        filesWithoutMessage: 1
      })
      expect(messagesOf(parsed.columns).map((m) => m.text)).toEqual(["", "nice", "", "hello"])
    }))

  it.effect("a plain text export has no attachments report", () =>
    Effect.gen(function*() {
      const parsed = yield* readExport(new TextEncoder().encode("14/03/2024, 08:00 - Ana Lima: IMG-1.jpg (file attached)"), "chat.txt")
      expect(parsed.report.attachments).toBeUndefined()
    }))
})
