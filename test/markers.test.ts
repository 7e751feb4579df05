// The markers table, per language: copied from the reference (nothing added, nothing left out), and
// every marker read as what it is once its placeholders are filled in as an export would.
import { describe, expect, it } from "@effect/vitest"
import { bodyMarkerOf, editedMarkerAt, eventOfCategory, eventOfLine, iosAttachmentOf } from "../src/Ingest/Markers.js"
import { markerLanguages, markerTable } from "../src/Ingest/markers/Table.js"
import { referenceEntries } from "./support/corpus.js"

const reference = referenceEntries()
const confidence = { "seen-in-export": "seen", "from-parser-code": "code", uncertain: "uncertain" } as const

const sample: Readonly<Record<string, string>> = {
  name: "Ana Lima", name2: "Bo Chen", names: "Bo Chen", phone: "+44 7700 900123", old: "+44 7700 900123",
  new: "+44 7700 900456", subject: "Plans: 2024", community: "Town: North", file: "IMG-20240314-WA0001.jpg",
  doc_name: "Report.pdf", N: "3", url: "https://maps.google.com/?q=51.5,-0.12", lat: "51.5", lon: "-0.12",
  duration: "7", message: "see you", question: "Lunch", option: "Yes", NNNNNNNN: "00000051", date: "2022-03-27-21-51-57",
  venue: "Pimlico Gardens", address: "London", id: "4e89af95e5fa8"
}
const fill = (text: string): string => text.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => sample[name] ?? "x")

/** What the table makes of one marker, filled in; null when it is not recognised. */
const readAs = (category: string, subtype: string, text: string): string | null => {
  // A fragment ("Konum https://") is the start of its line.
  const line = fill(text) + (subtype.includes("fragment") && category === "location" ? "maps.google.com/?q=1,2" : "")
  const event = eventOfCategory[category]
  if (event !== undefined) return eventOfLine(line)
  if (category === "edited") return editedMarkerAt(text.includes("<") ? line : `${line} <${text}>`) === -1 ? null : "edited"
  if (category === "poll") return bodyMarkerOf(line.slice(0, line.indexOf("\n")))?.meaning.form ?? null
  const hit = bodyMarkerOf(line)
  if (hit !== null) return hit.meaning.form === "placeholder" ? hit.meaning.media : hit.meaning.form
  return iosAttachmentOf(line) === null ? null : "attachment"
}

const expected = (category: string, subtype: string): string => {
  const event = eventOfCategory[category]
  if (event !== undefined) return event
  switch (category) {
    case "media_omitted":
      return subtype === "document_with_pages"
        ? "pages"
        : ({ generic_android: "unknown", generic_android_variant: "unknown", contact_card: "contact", video_message: "video", video_note: "video", image_alt: "image", audio_alt: "audio" } as Record<string, string>)[subtype] ?? subtype
    case "view_once":
      return "view_once"
    case "unsupported":
      return "unknown"
    default:
      return category
  }
}

// Markers the matchers do not read on their own, and why: each is read some other way or is no marker.
const notOnTheirOwn = (category: string, subtype: string, text: string): boolean =>
  category === "export_filename" ||
  // a place shared as a venue: a name, an address and a link, with no fixed text to tell it from a message
  subtype === "foursquare_venue" ||
  // examples of a form listed with its placeholder
  (category === "attachment" && !text.includes("{")) ||
  // "Tap to learn more." alone: the second half of a two-part iOS event, read with its first half
  subtype.startsWith("part2")

describe("the markers table", () => {
  it("has the 20 languages most used on WhatsApp (Portuguese as Brazil and Portugal write it)", () => {
    expect(markerLanguages.length).toBe(21)
  })

  for (const lang of markerLanguages) {
    describe(lang, () => {
      const entries = reference.filter((e) => e.lang === lang && e.category !== "export_filename")

      it("is the reference's strings for the language, copied, with their confidence", () => {
        expect(markerTable[lang].map(([platform, category, subtype, text, sure]) => [platform, category, subtype, text, sure]))
          .toEqual(entries.map((e) => [e.platform, e.category, e.subtype, e.text, confidence[e.confidence]]))
      })

      it("reads every marker as what it marks", () => {
        const misread = entries
          .filter((e) => !notOnTheirOwn(e.category, e.subtype, e.text))
          .map((e) => ({ category: e.category, subtype: e.subtype, text: e.text, read: readAs(e.category, e.subtype, e.text) }))
          .filter((r) => r.read !== expected(r.category, r.subtype))
        expect(misread).toEqual([])
      })

      it("reads none of a few ordinary messages as a marker", () => {
        for (const text of ["hello everyone", "see you at the station: 8 pm", "Ana Lima: left the keys (on the table)", "<3 <3"]) {
          expect(bodyMarkerOf(text)).toBeNull()
          expect(eventOfLine(text)).toBeNull()
        }
      })
    })
  }
})
