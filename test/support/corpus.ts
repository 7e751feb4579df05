/**
 * The corpus: a generated export per language and platform, built from the reference table of WhatsApp's
 * markers (test/fixtures/markers/whatsapp-markers.json, a trimmed copy of the shared reference) and NOT from
 * src/Ingest/markers, so a parser that misreads a marker fails here. Each export holds text (one and several
 * lines), media placeholders, attachments with and without captions, deleted and edited messages, a
 * location, a missed call and system events (one with a colon in it), with the facts a correct parse must
 * find. Deterministic: the same table makes the same files.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

export interface ReferenceEntry {
  readonly lang: string
  readonly platform: "android" | "ios" | "both"
  readonly category: string
  readonly subtype: string
  readonly text: string
  readonly confidence: "seen-in-export" | "from-parser-code" | "uncertain"
}

export const referenceEntries = (): ReadonlyArray<ReferenceEntry> => {
  const file = fileURLToPath(new URL("../fixtures/markers/whatsapp-markers.json", import.meta.url))
  const parsed: { readonly entries: ReadonlyArray<ReferenceEntry> } = JSON.parse(readFileSync(file, "utf8"))
  return parsed.entries
}

export const corpusLanguages = [
  "en", "es", "pt-BR", "pt-PT", "hi", "id", "ar", "ru", "de", "fr", "it", "tr", "fa", "ur", "bn", "ms", "nl", "pl", "sw",
  "th", "vi"
] as const

export type Platform = "android" | "ios"

export interface CorpusFacts {
  readonly messages: number
  readonly systemEvents: number
  readonly participants: ReadonlyArray<string>
  readonly mediaByKind: Readonly<Record<string, number>>
  /** Wall-clock milliseconds of the first and last message (not system event). */
  readonly firstAt: number
  readonly lastAt: number
  /** Words of the text bodies and captions, as whitespace runs: what the statistics must count. */
  readonly words: number
  /** File names written in the export: none may reach the words. */
  readonly fileNames: ReadonlyArray<string>
  /** Events the export holds, in order. */
  readonly events: ReadonlyArray<string>
}

export interface CorpusFile {
  readonly lang: string
  readonly platform: Platform
  readonly name: string
  readonly text: string
  readonly facts: CorpusFacts
}

const ANA = "Ana Lima"
const BO = "Bo Chen"
const GROUP = "Corpus Group"
const SUBJECT = "Plans: 2024"

const confidenceRank = (e: ReferenceEntry): number =>
  e.confidence === "seen-in-export" ? 0 : e.confidence === "from-parser-code" ? 1 : 2

/** The surest entry of a language and platform whose subtype passes `subtype`, or undefined. */
const pick = (
  entries: ReadonlyArray<ReferenceEntry>,
  lang: string,
  platform: Platform,
  category: string,
  subtype: (s: string) => boolean = () => true,
  text: (t: string) => boolean = () => true
): ReferenceEntry | undefined =>
  entries
    .filter((e) =>
      e.lang === lang && (e.platform === platform || e.platform === "both") && e.category === category &&
      subtype(e.subtype) && text(e.text) && !e.subtype.endsWith("_example")
    )
    .sort((a, b) => confidenceRank(a) - confidenceRank(b))[0]

const fill = (template: string, values: Readonly<Record<string, string>>): string =>
  template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => values[name] ?? "x")

const pad = (n: number): string => (n < 10 ? `0${n}` : `${n}`)
const toDigits = (text: string, zero: number): string => text.replace(/[0-9]/g, (d) => String.fromCharCode(zero + Number(d)))

/** The header each language's phones write (shapes the parser reads), for a wall-clock time in ms. */
const header = (lang: string, platform: Platform, at: number): string => {
  const d = new Date(at)
  const day = pad(d.getUTCDate())
  const month = pad(d.getUTCMonth() + 1)
  const year = d.getUTCFullYear()
  const yy = pad(year % 100)
  const hh = pad(d.getUTCHours())
  const mm = pad(d.getUTCMinutes())
  const ss = pad(d.getUTCSeconds())
  if (platform === "ios") {
    if (lang === "en") {
      const h12 = d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12
      return `[${day}/${month}/${yy}, ${h12}:${mm}:${ss}\u202F${d.getUTCHours() < 12 ? "AM" : "PM"}] `
    }
    const sep = lang === "de" || lang === "ru" || lang === "tr" || lang === "pl" ? "." : "/"
    return `[${day}${sep}${month}${sep}${yy}, ${hh}:${mm}:${ss}] `
  }
  switch (lang) {
    case "de":
    case "ru":
    case "pl":
      return `${day}.${month}.${lang === "de" ? yy : year}, ${hh}:${mm} - `
    case "tr":
      return `${day}.${month}.${year} ${hh}:${mm} - `
    case "nl":
      return `${day}-${month}-${year} ${hh}:${mm} - `
    case "fr":
      return `${day}/${month}/${year} à ${hh}:${mm} - `
    case "ar":
      return toDigits(`${day}/${month}/${year}, ${hh}:${mm} - `, 0x660)
    case "fa":
      return toDigits(`${day}/${month}/${year}, ${hh}:${mm} - `, 0x6f0)
    default:
      return `${day}/${month}/${year}, ${hh}:${mm} - `
  }
}

const words = (text: string): number => text.split(/\s+/).filter((w) => w.length > 0).length

/** Builds the export of one language and platform, and its facts. */
export const corpusFile = (entries: ReadonlyArray<ReferenceEntry>, lang: string, platform: Platform): CorpusFile => {
  const lines: Array<string> = []
  const events: Array<string> = []
  const mediaByKind: Record<string, number> = {}
  const participants: Array<string> = []
  const fileNames: Array<string> = []
  let at = Date.UTC(2024, 2, 14, 8, 0, 0)
  let messages = 0
  let wordCount = 0
  let firstAt = 0
  let lastAt = 0
  const mark = platform === "ios" ? (lang === "ar" || lang === "fa" || lang === "ur" ? "\u200F" : "\u200E") : ""
  const values = {
    name: ANA, name2: BO, names: BO, subject: SUBJECT, community: "Town: North", old: "+44 7700 900123",
    new: "+44 7700 900456", phone: "+44 7700 900123", N: "3", duration: "7", url: "https://maps.google.com/?q=51.5,-0.12",
    lat: "51.5", lon: "-0.12", doc_name: "Report.pdf", message: "see you", question: "Lunch", option: "Yes"
  }
  const next = (): string => {
    at += 61_000
    return header(lang, platform, at)
  }
  const system = (entry: ReferenceEntry | undefined, event: string): void => {
    if (entry === undefined) return
    const text = fill(entry.text, values)
    // Android writes system lines without an author; iOS after the group's name.
    lines.push(platform === "ios" ? `${next()}${GROUP}: ${text.startsWith(mark) || mark === "" ? text : mark + text}` : `${next()}${text}`)
    events.push(event)
  }
  const message = (author: string, body: string, counted: number, media?: string): void => {
    lines.push(`${next()}${author}: ${body}`)
    messages++
    wordCount += counted
    if (!participants.includes(author)) participants.push(author)
    if (media !== undefined) mediaByKind[media] = (mediaByKind[media] ?? 0) + 1
    // Android headers have no seconds.
    const written = platform === "android" ? at - (at % 60_000) : at
    if (firstAt === 0) firstAt = written
    lastAt = written
  }
  const ios = platform === "ios"

  system(pick(entries, lang, platform, "system.e2e_notice", (s) => s.startsWith("chat") && !s.includes("legacy")), "encryption")
  system(pick(entries, lang, platform, "system.group_created", (s) => s.startsWith("other")), "created")
  system(pick(entries, lang, platform, "system.added", (s) => s === "other_added_other"), "added")
  message(ANA, "hello everyone", 2)
  message(BO, "first line\nsecond line here", 5)
  // Media placeholders: Android's one for all media, iOS's one per kind.
  if (ios) {
    const kinds: ReadonlyArray<readonly [string, string]> = [
      ["image", "image"], ["video", "video"], ["audio", "audio"], ["sticker", "sticker"], ["gif", "gif"],
      ["document", "document"], ["contact_card", "contact"]
    ]
    kinds.forEach(([subtype, kind], k) => {
      const entry = pick(entries, lang, platform, "media_omitted", (s) => s === subtype)
      if (entry !== undefined) message(k % 2 === 0 ? ANA : BO, entry.text, 0, kind)
    })
    const withCaption = pick(entries, lang, platform, "media_omitted", (s) => s === "image")
    if (withCaption !== undefined) message(BO, `${withCaption.text}\nlook at this view`, 4, "image")
  } else {
    const omitted = pick(entries, lang, platform, "media_omitted", (s) => s === "generic_android")
    if (omitted !== undefined) message(ANA, omitted.text, 0, "unknown")
  }
  // Attachments, as exports "with media" write them.
  const attached = pick(entries, lang, platform, "attachment", (s) => s === "android_file_attached" || s.startsWith("ios_attached"), (t) => t.includes("{file}"))
  if (attached !== undefined) {
    const files: ReadonlyArray<readonly [string, string, string]> = ios
      ? [
        ["00000012-PHOTO-2024-03-14-08-10-00.jpg", "image", ""],
        ["00000013-VIDEO-2024-03-14-08-11-00.mp4", "video", "our trip"],
        ["00000014-AUDIO-2024-03-14-08-12-00.opus", "voice", ""],
        ["00000015-STICKER-2024-03-14-08-13-00.webp", "sticker", ""],
        ["00000016-Ana Lima.vcf", "contact", ""]
      ]
      : [
        ["IMG-20240314-WA0001.jpg", "image", ""],
        ["VID-20240314-WA0002.mp4", "video", "our trip\nwas great"],
        ["PTT-20240314-WA0003.opus", "voice", ""],
        ["STK-20240314-WA0004.webp", "sticker", ""],
        ["DOC-20240314-WA0005.pdf", "document", "the minutes"],
        ["Ana Lima.vcf", "contact", ""]
      ]
    for (const [file, kind, caption] of files) {
      fileNames.push(file)
      const line = fill(attached.text, { file })
      message(BO, caption === "" ? line : `${line}\n${caption}`, words(caption), kind)
    }
    // An iOS document writes its own name (and page count) before the file: not a caption.
    const paged = pick(entries, lang, platform, "media_omitted", (s) => s === "document_with_pages")
    const omittedDoc = pick(entries, lang, platform, "media_omitted", (s) => s === "document")
    const cut = paged === undefined || omittedDoc === undefined ? -1 : paged.text.lastIndexOf(omittedDoc.text)
    if (ios && paged !== undefined && cut > 0) {
      const pages = paged.text.slice(0, cut)
      const file = "00000017-Report.pdf"
      fileNames.push(file)
      message(ANA, fill(pages, values) + fill(attached.text, { file }), 0, "document")
    }
  }
  const deleted = pick(entries, lang, platform, "deleted", (s) => s.startsWith("deleted_other"))
  if (deleted !== undefined) message(ANA, deleted.text, 0)
  const edited = pick(entries, lang, platform, "edited", (s) => s === "edited_suffix")
  if (edited !== undefined) message(BO, fill(edited.text, { message: "see you at noon" }), 4)
  const location = pick(entries, lang, platform, "location", (s) => s === "location", (t) => t.includes("{"))
  if (location !== undefined) message(ANA, fill(location.text, values), 0, "location")
  const call = pick(entries, lang, platform, "call", (s) => s === "missed_voice")
  if (call !== undefined) {
    lines.push(`${next()}${BO}: ${call.text}`)
    events.push("call")
  }
  // Events whose text holds ": " (the subject is "Plans: 2024"): never an author, never a participant.
  system(pick(entries, lang, platform, "system.subject_changed", (s) => s === "other", (t) => t.includes("{subject}")), "subject")
  system(pick(entries, lang, platform, "system.community", (s) => s.startsWith("added_you_to_group_in_community")), "community")
  message(BO, "bye for now", 3)
  system(pick(entries, lang, platform, "system.left", (s) => s === "other"), "left")

  return {
    lang,
    platform,
    name: `${lang}-${platform}.txt`,
    text: lines.join(ios ? "\r\n" : "\n") + "\n",
    facts: {
      messages,
      systemEvents: events.length,
      participants,
      mediaByKind,
      firstAt,
      lastAt,
      words: wordCount,
      fileNames,
      events
    }
  }
}

/** Every corpus file: each language on Android and on iOS (Swahili has no iOS strings in the table). */
export const corpus = (): ReadonlyArray<CorpusFile> => {
  const entries = referenceEntries()
  return corpusLanguages.flatMap((lang) =>
    (["android", "ios"] as const)
      .filter((platform) => entries.some((e) => e.lang === lang && (e.platform === platform || e.platform === "both")))
      .map((platform) => corpusFile(entries, lang, platform))
  )
}
