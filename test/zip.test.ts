// Zipped exports and the one entry readExport: choosing the chat file, refusing archives without one,
// corrupt or truncated archives, zip bombs, and uploads over the size limit. Zips are built here.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { deflateRawSync } from "node:zlib"
import { PayloadTooLarge, UnsupportedExport } from "../src/Domain/Errors.js"
import { readExport } from "../src/Ingest/Export.js"
import { pickChatEntry, readChatFromZip } from "../src/Ingest/Zip.js"

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

const crc32 = (data: Uint8Array): number => {
  let c = 0xffffffff
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

interface ZipEntrySpec {
  readonly name: string
  readonly data: Uint8Array | string
  /** Store instead of deflate. */
  readonly stored?: boolean
  /** Lie about the uncompressed size in both headers. */
  readonly declaredSize?: number
}

/** A minimal zip writer: local headers, data, central directory, end record. */
const zip = (entries: ReadonlyArray<ZipEntrySpec>): Uint8Array => {
  const parts: Array<Buffer> = []
  const central: Array<Buffer> = []
  let offset = 0
  for (const entry of entries) {
    const raw = typeof entry.data === "string" ? Buffer.from(entry.data, "utf8") : Buffer.from(entry.data)
    const body = entry.stored === true ? raw : deflateRawSync(raw)
    const name = Buffer.from(entry.name, "utf8")
    const size = entry.declaredSize ?? raw.length
    const crc = crc32(raw)
    const method = entry.stored === true ? 0 : 8
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x0800, 6) // UTF-8 names
    local.writeUInt16LE(method, 8)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(size, 22)
    local.writeUInt16LE(name.length, 26)
    const header = Buffer.alloc(46)
    header.writeUInt32LE(0x02014b50, 0)
    header.writeUInt16LE(20, 4)
    header.writeUInt16LE(20, 6)
    header.writeUInt16LE(0x0800, 8)
    header.writeUInt16LE(method, 10)
    header.writeUInt32LE(crc, 16)
    header.writeUInt32LE(body.length, 20)
    header.writeUInt32LE(size, 24)
    header.writeUInt16LE(name.length, 28)
    header.writeUInt32LE(offset, 42)
    parts.push(local, name, body)
    central.push(header, name)
    offset += local.length + name.length + body.length
  }
  const directory = Buffer.concat(central)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return new Uint8Array(Buffer.concat([...parts, directory, end]))
}

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
      expect(chat.messages).toHaveLength(3)
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
      expect(chat.messages.map((m) => m.kind)).toEqual(["system", "text", "media"])
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
