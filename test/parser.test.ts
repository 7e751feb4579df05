// The chat parser on fixture exports of fictional people: header shapes, day/month order, message kinds,
// system events, the report, and the refusals.
import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { messagesOf } from "../src/Ingest/Columns.js"
import { decodeChatBytes } from "../src/Ingest/ChatText.js"
import type { ParsedMessage } from "../src/Ingest/Messages.js"
import { parseChat, type ParseOptions } from "../src/Ingest/Parser.js"
import type { Refusal } from "../src/Ingest/Refusal.js"
import type { ParserReport } from "../src/Ingest/Report.js"
import { wireReport } from "../src/Ingest/ReportWire.js"

const fixture = (name: string): string => {
  const bytes = readFileSync(fileURLToPath(new URL(`./fixtures/whatsapp/${name}`, import.meta.url)))
  const text = decodeChatBytes(bytes)
  if (typeof text !== "string") throw new Error(`fixture ${name} refused: ${text.message}`)
  return text
}

/** A parsed chat with its columns read back as message objects, which the expectations compare. */
interface ParsedChat {
  readonly messages: ReadonlyArray<ParsedMessage>
  readonly report: ParserReport
}

const parse = (text: string, options?: ParseOptions): ParsedChat => {
  const outcome = parseChat(text, options)
  if (outcome._tag !== "Parsed") throw new Error(`refused: ${outcome.message}`)
  return { messages: messagesOf(outcome.chat.columns), report: outcome.chat.report }
}

const refused = (text: string): Refusal => {
  const outcome = parseChat(text)
  if (outcome._tag !== "Refusal") throw new Error("expected a refusal")
  return outcome
}

const at = (y: number, m: number, d: number, h = 0, min = 0, s = 0): number => Date.UTC(y, m - 1, d, h, min, s)

const brief = (chat: ParsedChat) => chat.messages.map((m) => [m.sentAt, m.author, m.text, m.kind])

describe("header shapes", () => {
  // Every shape whatsapp-chat-parser reads (its own test formats), written anew with our names.
  const shapes: ReadonlyArray<readonly [string, number]> = [
    ["3/6/18, 1:55 p.m. - Ana: hi", at(2018, 6, 3, 13, 55)],
    ["03-06-2018, 01.55 PM - Ana: hi", at(2018, 6, 3, 13, 55)],
    ["13.06.18 21.25.15: Ana: hi", at(2018, 6, 13, 21, 25, 15)],
    ["[06.13.18 21:25:15] Ana: hi", at(2018, 6, 13, 21, 25, 15)],
    ["13.6.2018 klo 21.25.15 - Ana: hi", at(2018, 6, 13, 21, 25, 15)],
    ["13. 6. 2018. 21:25:15 Ana: hi", at(2018, 6, 13, 21, 25, 15)],
    ["[3/6/18 1:55:00 p. m.] Ana: hi", at(2018, 6, 3, 13, 55)],
    ["\u200E[3/6/18 1:55:00 p. m.] Ana: hi", at(2018, 6, 3, 13, 55)],
    ["[2018/06/13, 21:25:15] Ana: hi", at(2018, 6, 13, 21, 25, 15)],
    ["[06/2018/13, 21:25:15] Ana: hi", at(2018, 6, 13, 21, 25, 15)],
    ["[13/06/2018, 9:25:15 am] Ana: hi", at(2018, 6, 13, 9, 25, 15)],
    ["13/06/2018, 12:05 a.m. - Ana: hi", at(2018, 6, 13, 0, 5)],
    ["13/06/2018, 12:05 PM - Ana: hi", at(2018, 6, 13, 12, 5)],
    ["13-06-18 21:25 - Ana: hi", at(2018, 6, 13, 21, 25)]
  ]
  for (const [line, expected] of shapes) {
    it(`reads ${JSON.stringify(line)}`, () => {
      const chat = parse(line)
      expect(brief(chat)).toEqual([[expected, "Ana", "hi", "text"]])
    })
  }

  it("reads an Android group export: 24 h, dd/mm/yyyy, every kind and system event", () => {
    const chat = parse(fixture("android-24h-group.txt"))
    const { report } = chat
    expect(report.shape).toBe("android-dash")
    expect(report.format).toBe("d/m/yyyy, H:MM - (android-dash)")
    expect(report).toMatchObject({
      dayFirst: true,
      dayFirstConfidence: "certain",
      messages: 8,
      systemEvents: 11,
      media: 2,
      deleted: 2,
      edited: 1,
      participants: ["Mira Okafor", "Tomasz Wierzba", "+44 7700 900123", "Ines Duarte"],
      unreadableLines: 0,
      firstMessageAt: at(2021, 2, 3, 9, 2),
      lastMessageAt: at(2021, 2, 13, 20, 19),
      warnings: []
    })
    expect(chat.messages.map((m) => m.seq)).toEqual(chat.messages.map((_, i) => i))
    expect(chat.messages[3]).toEqual({
      seq: 3,
      sentAt: at(2021, 2, 3, 9, 2),
      author: "Mira Okafor",
      text: "Morning all!\nSeeds arrive Friday.\n\nBring gloves.",
      kind: "text",
      mediaKind: null,
      fileName: null,
      event: null
    })
    // A body line holding a date in another shape stays in the body.
    expect(chat.messages[7]?.text).toBe("I do. Meeting notes: [05/02/21, 10:00:00] sort the compost")
    expect(chat.messages[8]).toMatchObject({ text: "See you at 8", kind: "edited" })
    // A colon inside a system line's quoted subject does not make an author.
    expect(chat.messages[9]).toMatchObject({
      author: null,
      kind: "system",
      text: "Mira Okafor changed the subject from \"Allotment crew\" to \"Allotment crew: 2021\""
    })
    const system = chat.messages.filter((m) => m.kind === "system").map((m) => m.text.slice(0, 30))
    expect(system).toEqual([
      "Messages and calls are end-to-",
      "Mira Okafor created group \"All",
      "Mira Okafor added Tomasz Wierz",
      "Mira Okafor changed the subjec",
      "Mira Okafor changed this group",
      "Your security code with Tomasz",
      "+44 7700 900123 changed their ",
      "Mira Okafor turned on disappea",
      "Mira Okafor removed +44 7700 9",
      "Tomasz Wierzba left",
      "Ines Duarte joined using this "
    ])
    // A media message's text is its caption: the placeholder and the file name are not.
    expect(chat.messages.filter((m) => m.kind === "media").map((m) => [m.text, m.mediaKind, m.fileName])).toEqual([
      ["", "unknown", null],
      ["", "image", "IMG-20210213-WA0003.jpg"]
    ])
    expect(chat.messages.filter((m) => m.kind === "system").map((m) => m.event)).toEqual([
      "encryption", "created", "added", "subject", "icon", "security_code", "number_changed", "disappearing", "removed",
      "left", "joined"
    ])
  })

  it("reads an iOS export: bracketed, 12 h with U+202F, CRLF and LF mixed, system events with authors", () => {
    const chat = parse(fixture("ios-12h-bracketed.txt"))
    expect(chat.report).toMatchObject({
      format: "[d/m/yy, H:MM:SS AM/PM] (ios-bracketed)",
      shape: "ios-bracketed",
      dayFirst: true,
      dayFirstConfidence: "certain",
      messages: 8,
      systemEvents: 5,
      media: 4,
      deleted: 1,
      edited: 1,
      // The group's name writes system events only: it is no participant. "~ " is dropped, and the
      // phone number loses its invisible isolates but keeps its spelling.
      participants: ["Priya Raman", "Olu Bakare", "+1 (555) 010-0199"]
    })
    expect(chat.messages.map((m) => m.kind)).toEqual([
      "system",
      "system",
      "system",
      "text",
      "media",
      "media",
      "media",
      "media",
      "text",
      "deleted",
      "edited",
      "system",
      "system"
    ])
    // System events are never authored, even when iOS writes them after the group's name.
    expect(chat.messages[0]).toMatchObject({ author: null, kind: "system", text: expect.stringMatching(/^Messages and calls/) })
    expect(chat.messages[3]).toMatchObject({
      sentAt: at(2022, 3, 12, 9, 16, 40),
      text: "Welcome! First pick:\nThe Glass Orchard"
    })
    expect(chat.messages[4]).toMatchObject({ sentAt: at(2022, 3, 12, 13, 5), author: "Olu Bakare", text: "" })
    expect(chat.messages[5]?.text).toBe("")
    expect(chat.messages[8]?.sentAt).toBe(at(2022, 3, 12, 12, 0))
    expect(chat.messages[9]?.sentAt).toBe(at(2022, 3, 13, 0, 30))
    expect(chat.messages[10]?.text).toBe("Chapter 3 by Friday")
    expect(chat.messages.every((m) => !m.text.includes("\r"))).toBe(true)
  })

  it("reads m/d/yy with AM/PM after a narrow no-break space", () => {
    const chat = parse(fixture("android-us-12h.txt"))
    expect(chat.report).toMatchObject({ dayFirst: false, dayFirstConfidence: "certain", format: "m/d/yy, H:MM AM/PM - (android-dash)" })
    expect(chat.messages.map((m) => m.sentAt)).toEqual([
      at(2023, 1, 5, 20, 3),
      at(2023, 1, 5, 20, 4),
      at(2023, 1, 14, 0, 10),
      at(2023, 1, 14, 12, 45)
    ])
  })

  it("reads German dd.mm.yy with translated system, media, deleted and edited markers", () => {
    const chat = parse(fixture("android-de-dots.txt"))
    expect(chat.report).toMatchObject({ format: "d.m.yy, H:MM - (android-dash)", messages: 4, systemEvents: 1, media: 1, deleted: 1, edited: 1 })
    expect(chat.messages[4]).toMatchObject({ sentAt: at(2020, 12, 25, 9, 0), text: "Guten Morgen", kind: "edited" })
  })

  it("reads Spanish a. m./p. m. with <Multimedia omitido> and both deletion phrasings", () => {
    const chat = parse(fixture("android-es-ampm.txt"))
    expect(brief(chat)).toEqual([
      [at(2021, 7, 20, 9, 5), "Lucía Ferrer", "Hola", "text"],
      [at(2021, 7, 20, 15, 40), "Mateo Ibarra", "", "media"],
      [at(2021, 7, 20, 15, 41), "Lucía Ferrer", "Se eliminó este mensaje.", "deleted"],
      [at(2021, 7, 21, 0, 15), "Mateo Ibarra", "Este mensaje fue eliminado", "deleted"]
    ])
  })

  it("reads French with a word between date and time, <Médias omis> and its deletion phrase", () => {
    const chat = parse(fixture("android-fr.txt"))
    expect(chat.messages.map((m) => [m.sentAt, m.kind])).toEqual([
      [at(2022, 9, 2, 14, 30), "text"],
      [at(2022, 9, 2, 14, 31), "media"],
      [at(2022, 9, 2, 14, 32), "deleted"]
    ])
  })

  it("reads year-first dates with seconds and a colon after the time", () => {
    const chat = parse(fixture("year-first.txt"))
    expect(chat.report).toMatchObject({ format: "yyyy-m-d, H:MM:SS: (other)", shape: "other", dayFirst: false })
    expect(chat.messages.map((m) => m.sentAt)).toEqual([at(2021, 6, 30, 21, 4, 11), at(2021, 7, 1, 7), at(2021, 7, 2, 7)])
  })

  it("reads Persian digits", () => {
    const chat = parse(fixture("persian-digits.txt"))
    expect(brief(chat)).toEqual([
      [at(2021, 6, 15, 18, 45), "Dariush Karimi", "سلام", "text"],
      [at(2021, 6, 16, 9, 5), "Shirin Ahmadi", "صبح بخیر", "text"]
    ])
  })

  it("reads Arabic-Indic digits with U+200F in the date and م/ص for pm/am", () => {
    const chat = parse(fixture("arabic-digits.txt"))
    expect(chat.messages.map((m) => [m.sentAt, m.author])).toEqual([
      [at(2020, 3, 25, 14, 30), "Layla Haddad"],
      [at(2020, 3, 26, 9, 15), "Karim Nassar"]
    ])
  })

  it("reads vorm./nachm.", () => {
    const chat = parse(fixture("de-vorm-nachm.txt"))
    expect(chat.messages.map((m) => m.sentAt)).toEqual([at(2019, 8, 15, 10, 0), at(2019, 8, 15, 15, 15)])
  })

  it("reads 午前/午後 written before the time", () => {
    const chat = parse(fixture("ja-gozen-gogo.txt"))
    expect(chat.messages.map((m) => m.sentAt)).toEqual([
      at(2019, 11, 23, 9, 5),
      at(2019, 11, 23, 13, 30),
      at(2019, 11, 24, 12, 10)
    ])
  })

  it("drops a BOM and direction marks, turns no-break spaces into spaces, and reports lines before the first header", () => {
    const chat = parse(fixture("bom-and-junk.txt"))
    expect(chat.messages.map((m) => m.author)).toEqual(["Noor Aziz", "Elif Kaya"])
    expect(chat.report.unreadableLines).toBe(2)
    expect(chat.report.unreadableSamples).toEqual(["Exported from a backup tool", "second preface line"])
    expect(chat.report.warnings).toContain("2 line(s) before the first message could not be read and were skipped.")
  })

  it("takes the shape from the whole file: a line of another shape inside a body is not a message", () => {
    const chat = parse([
      "[01/02/2020, 10:00:00] Ana Ruiz: the log says",
      "01/02/2020, 09:59 - Server: restarted",
      "2020-02-01 09:58:00 boot",
      "[01/02/2020, 10:01:00] Ben Cho: ok"
    ].join("\n"))
    expect(chat.messages).toHaveLength(2)
    expect(chat.messages[0]?.text).toBe("the log says\n01/02/2020, 09:59 - Server: restarted\n2020-02-01 09:58:00 boot")
    expect(chat.report.unreadableLines).toBe(0)
  })

  it("keeps an empty body and a body that is only a colon line", () => {
    const chat = parse("01/02/2020, 10:00 - Ana Ruiz: \n01/02/2020, 10:01 - Ben Cho:\n01/02/2020, 10:02 - Ana Ruiz: Note: ok")
    expect(chat.messages.map((m) => [m.author, m.text])).toEqual([["Ana Ruiz", ""], ["Ben Cho", ""], ["Ana Ruiz", "Note: ok"]])
  })
})

describe("day and month order", () => {
  const line = (d: number, m: number, i: number, dayFirst: boolean) =>
    `${dayFirst ? d : m}/${dayFirst ? m : d}/21, 10:${String(i % 60).padStart(2, "0")} - Person ${i % 3}: message ${i}`

  it("is settled by a value over 12 that comes late in the file", () => {
    const lines: Array<string> = []
    // 60 messages whose day and month are both at most 12, then 25/03.
    for (let i = 0; i < 60; i++) lines.push(`03/${String(1 + (i % 12)).padStart(2, "0")}/2021, 10:00 - Ana Ruiz: ${i}`)
    lines.push("25/03/2021, 10:00 - Ana Ruiz: late")
    const chat = parse(lines.join("\n"))
    expect(chat.report.dayFirst).toBe(true)
    expect(chat.report.dayFirstConfidence).toBe("certain")
    // The early ones were fixed: 03/05 is 3 May.
    expect(chat.messages[4]?.sentAt).toBe(at(2021, 5, 3, 10))
    expect(chat.messages[60]?.sentAt).toBe(at(2021, 3, 25, 10))
  })

  it("is settled month-first by a late value over 12 in the second field", () => {
    const lines: Array<string> = []
    for (let i = 0; i < 60; i++) lines.push(`${1 + (i % 12)}/03/21, 10:00 - Ana Ruiz: ${i}`)
    lines.push("3/25/21, 10:00 - Ana Ruiz: late")
    const chat = parse(lines.join("\n"))
    expect(chat.report).toMatchObject({ dayFirst: false, dayFirstConfidence: "certain" })
    expect(chat.messages[4]?.sentAt).toBe(at(2021, 5, 3, 10))
  })

  it("is inferred from how the fields move when no value passes 12", () => {
    const dayFirstLines: Array<string> = []
    const monthFirstLines: Array<string> = []
    for (let i = 0; i < 24; i++) {
      const d = 1 + (i % 12)
      const m = 1 + Math.floor(i / 12)
      dayFirstLines.push(line(d, m, i, true))
      monthFirstLines.push(line(d, m, i, false))
    }
    const a = parse(dayFirstLines.join("\n"))
    expect(a.report).toMatchObject({ dayFirst: true, dayFirstConfidence: "inferred" })
    expect(a.messages[13]?.sentAt).toBe(at(2021, 2, 2, 10, 13))
    const b = parse(monthFirstLines.join("\n"))
    expect(b.report).toMatchObject({ dayFirst: false, dayFirstConfidence: "inferred" })
    expect(b.messages[13]?.sentAt).toBe(at(2021, 2, 2, 10, 13))
    expect(b.report.format).toBe("m/d/yy, H:MM - (android-dash)")
  })

  it("is assumed, with a warning, when nothing tells", () => {
    const chat = parse("05/06/2021, 10:00 - Ana Ruiz: hi\n05/06/2021, 10:01 - Ben Cho: hey")
    expect(chat.report).toMatchObject({ dayFirst: true, dayFirstConfidence: "assumed" })
    expect(chat.messages[0]?.sentAt).toBe(at(2021, 6, 5, 10))
    expect(chat.report.warnings[0]).toContain("day-first was assumed")
    // "/" with upper-case AM/PM is the US form: month first.
    const us = parse("5/6/21, 10:00 AM - Ana Ruiz: hi")
    expect(us.report).toMatchObject({ dayFirst: false, dayFirstConfidence: "assumed" })
    expect(us.messages[0]?.sentAt).toBe(at(2021, 5, 6, 10))
  })

  it("follows the caller's override", () => {
    const chat = parse("05/06/2021, 10:00 - Ana Ruiz: hi\n25/06/2021, 10:00 - Ana Ruiz: later", { dayFirst: false })
    expect(chat.report).toMatchObject({ dayFirst: false, dayFirstConfidence: "override" })
    expect(chat.messages[0]?.sentAt).toBe(at(2021, 5, 6, 10))
    expect(chat.report.warnings).toContain("1 date(s) are not valid calendar dates with the detected day/month order.")
  })
})

describe("the report", () => {
  const cappedChat = (count: number, first: string | null): string => {
    const lines: Array<string> = first === null ? [] : [first]
    for (let i = lines.length; i < count; i++) {
      const day = 1 + Math.floor(i / 2000)
      lines.push(`${String(day).padStart(2, "0")}/01/2022, 10:${String(i % 60).padStart(2, "0")} - Person ${i % 4}: message ${i}`)
    }
    return lines.join("\n")
  }

  it("warns when the export looks cut at WhatsApp's 40,000-message cap", () => {
    const chat = parse(cappedChat(40_000, null))
    expect(chat.report.messages).toBe(40_000)
    expect(chat.report.warnings.some((w) => w.includes("export limit without media"))).toBe(true)
  })

  it("warns near the 10,000 cap unless the file starts at the chat's origin", () => {
    const cut = parse(cappedChat(9_950, null))
    expect(cut.report.warnings.some((w) => w.includes("export limit with media"))).toBe(true)
    const whole = parse(cappedChat(9_950, "01/01/2022, 09:00 - Messages and calls are end-to-end encrypted."))
    expect(whole.report.systemEvents).toBe(1)
    expect(whole.report.warnings.some((w) => w.includes("export limit"))).toBe(false)
  })

  it("names participants in order of first appearance, without system authors", () => {
    const chat = parse([
      "[01/02/2020, 10:00:00] Club: \u200EMessages and calls are end-to-end encrypted.",
      "[01/02/2020, 10:00:01] Zed Park: \u200EZed Park added Amy Lowe",
      "[01/02/2020, 10:00:02] Amy Lowe: hi",
      "[01/02/2020, 10:00:03] Zed Park: hey",
      "[01/02/2020, 10:00:04] Amy Lowe: again"
    ].join("\n"))
    expect(chat.report.participants).toEqual(["Amy Lowe", "Zed Park"])
    expect(chat.report.firstMessageAt).toBe(at(2020, 2, 1, 10, 0, 2))
    expect(chat.report.lastMessageAt).toBe(at(2020, 2, 1, 10, 0, 4))
  })

  it("goes on the wire snake_cased, with times as written and nothing left out", () => {
    const chat = parse([
      "preface line",
      "[01/02/2020, 10:00:00] Club: \u200EMessages and calls are end-to-end encrypted.",
      "[01/02/2020, 10:00:02] Amy Lowe: hi",
      "[13/02/2020, 21:30:04] Zed Park: <Media omitted>"
    ].join("\n"))
    expect(wireReport(chat.report)).toEqual({
      format: "[d/m/yyyy, H:MM:SS] (ios-bracketed)",
      shape: "ios-bracketed",
      day_first: true,
      day_first_confidence: "certain",
      messages: 2,
      system_events: 1,
      media: 1,
      deleted: 0,
      edited: 0,
      participants: ["Amy Lowe", "Zed Park"],
      unreadable_lines: 1,
      unreadable_samples: ["preface line"],
      first_message_at: "2020-02-01T10:00:02",
      last_message_at: "2020-02-13T21:30:04",
      warnings: ["1 line(s) before the first message could not be read and were skipped."]
    })
  })
})

describe("refusals", () => {
  it("refuses an empty or blank file", () => {
    expect(decodeChatBytes(new Uint8Array(0))).toMatchObject({ _tag: "Refusal", reason: "empty" })
    expect(decodeChatBytes(new TextEncoder().encode("\uFEFF \n\n"))).toMatchObject({ reason: "empty" })
    expect(refused("  \n").reason).toBe("empty")
  })

  it("refuses binary content", () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d])
    expect(decodeChatBytes(png)).toMatchObject({ reason: "binary", message: expect.stringContaining("binary") })
    const controls = new Uint8Array(200).fill(0x01)
    expect(decodeChatBytes(controls)).toMatchObject({ reason: "binary" })
  })

  it("refuses invalid UTF-8", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode("01/02/2020, 10:00 - Ana: caf"), 0xe9, 0x0a])
    expect(decodeChatBytes(bytes)).toMatchObject({ reason: "invalid-utf8", message: expect.stringContaining("UTF-8") })
  })

  it("reads UTF-16 with a byte-order mark", () => {
    const text = "01/02/2020, 10:00 - Ana Ruiz: hola"
    const bytes = new Uint8Array(2 + text.length * 2)
    bytes[0] = 0xff
    bytes[1] = 0xfe
    for (let i = 0; i < text.length; i++) bytes[2 + i * 2] = text.charCodeAt(i)
    const decoded = decodeChatBytes(bytes)
    expect(typeof decoded === "string" ? parse(decoded).messages[0]?.text : decoded).toBe("hola")
  })

  it("refuses text that is not a WhatsApp chat", () => {
    const refusal = refused(fixture("not-a-chat.txt"))
    expect(refusal.reason).toBe("not-a-chat")
    expect(refusal.message).toContain("does not look like a WhatsApp chat export")
  })
})

describe("attachments", () => {
  it("keeps an Android attachment's file name and kind, and the lines after it as its caption", () => {
    const chat = parse([
      "14/03/2024, 08:00 - Ana Lima: IMG-20240314-WA0001.jpg (file attached)",
      "14/03/2024, 08:01 - Bo Chen: VID-20240314-WA0002.mp4 (file attached)",
      "our trip",
      "was great",
      "14/03/2024, 08:02 - Bo Chen: PTT-20240314-WA0003.opus (Datei angehängt)",
      "14/03/2024, 08:03 - Ana Lima: STK-20240314-WA0004.webp (file attached)",
      "14/03/2024, 08:04 - Ana Lima: Ana Lima.vcf (file attached)"
    ].join("\n"))
    expect(chat.messages.map((m) => [m.kind, m.mediaKind, m.fileName, m.text])).toEqual([
      ["media", "image", "IMG-20240314-WA0001.jpg", ""],
      ["media", "video", "VID-20240314-WA0002.mp4", "our trip\nwas great"],
      ["media", "voice", "PTT-20240314-WA0003.opus", ""],
      ["media", "sticker", "STK-20240314-WA0004.webp", ""],
      ["media", "contact", "Ana Lima.vcf", ""]
    ])
  })

  it("reads iOS attachments in other languages, a caption before the marker, and a document's name and page count", () => {
    const chat = parse([
      "[14/03/24, 08:00:00] Ana Lima: \u200E<Anhang: 00000005-PHOTO-2024-03-14-08-00-00.jpg>",
      "[14/03/24, 08:01:00] Bo Chen: sunset \u200E<attached: 00000006-PHOTO-2024-03-14-08-01-00.jpg>",
      "[14/03/24, 08:02:00] Bo Chen: Report.pdf • \u200E3 pages \u200E<attached: 00000007-Report.pdf>",
      "[14/03/24, 08:03:00] Ana Lima: Notes.txt \u200E<attached: 00000008-Notes.txt>",
      "[14/03/24, 08:04:00] Ana Lima: Report.pdf • \u200E3 pages \u200Edocument omitted",
      "[14/03/24, 08:05:00] Bo Chen: \u200E<adjunto: 00000009-AUDIO-2024-03-14-08-05-00.opus>",
      "[14/03/24, 08:06:00] Bo Chen: \u200Eimagen omitida"
    ].join("\n"))
    expect(chat.messages.map((m) => [m.mediaKind, m.fileName, m.text])).toEqual([
      ["image", "00000005-PHOTO-2024-03-14-08-00-00.jpg", ""],
      ["image", "00000006-PHOTO-2024-03-14-08-01-00.jpg", "sunset"],
      ["document", "00000007-Report.pdf", ""],
      ["document", "00000008-Notes.txt", ""],
      ["document", null, ""],
      ["voice", "00000009-AUDIO-2024-03-14-08-05-00.opus", ""],
      ["image", null, ""]
    ])
  })
})

describe("system events", () => {
  it("a colon inside an event makes no author, no participant, and does not move the first message", () => {
    const chat = parse([
      "14/03/2024, 08:00 - Ana Lima added you to a group in the community: Town: North",
      "14/03/2024, 08:01 - Ana Lima changed the subject to \"Plans: 2024\"",
      "14/03/2024, 08:02 - Bo Chen: hello",
      "14/03/2024, 08:03 - Ana Lima: hi Bo",
      "14/03/2024, 08:04 - Ana Lima changed the subject to \"Trip: May\""
    ].join("\n"))
    expect(chat.report.participants).toEqual(["Bo Chen", "Ana Lima"])
    expect(chat.report.firstMessageAt).toBe(at(2024, 3, 14, 8, 2))
    expect(chat.messages.map((m) => [m.kind, m.event, m.author])).toEqual([
      ["system", "community", null],
      ["system", "subject", null],
      ["text", null, "Bo Chen"],
      ["text", null, "Ana Lima"],
      ["system", "subject", null]
    ])
    expect(chat.messages[0]?.text).toBe("Ana Lima added you to a group in the community: Town: North")
  })

  it("an event-shaped line by someone who also writes messages stays their message", () => {
    const chat = parse([
      "14/03/2024, 08:00 - Bo changed the subject to \"Trip: May\"",
      "14/03/2024, 08:01 - Bo changed the subject to \"Trip: hi all",
      "14/03/2024, 08:02 - Ana: hello"
    ].join("\n"))
    // The second line's "author" also wrote a line with no event shape: a participant, so the first line
    // (whose author looks the same) is theirs too.
    expect(chat.messages.map((m) => [m.kind, m.author])).toEqual([
      ["text", "Bo changed the subject to \"Trip"],
      ["text", "Bo changed the subject to \"Trip"],
      ["text", "Ana"]
    ])
  })

  it("keeps a missed call by a participant with its author, as an event that is no message", () => {
    const chat = parse([
      "[14/03/24, 08:00:00] Ana Lima: hi",
      "[14/03/24, 08:01:00] Bo Chen: \u200EMissed voice call",
      "[14/03/24, 08:02:00] Bo Chen: sorry",
      "[14/03/24, 08:03:00] Corpus Group: \u200EBo Chen left"
    ].join("\n"))
    expect(chat.messages.map((m) => [m.kind, m.event, m.author])).toEqual([
      ["text", null, "Ana Lima"],
      ["system", "call", "Bo Chen"],
      ["text", null, "Bo Chen"],
      ["system", "left", null]
    ])
    expect(chat.report).toMatchObject({ messages: 2, systemEvents: 2, participants: ["Ana Lima", "Bo Chen"] })
  })
})
