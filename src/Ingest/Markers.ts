/**
 * WhatsApp's localized markers, in one place: the reference table (markers/, one list per language, every
 * string copied from whatsapp-markers.json) compiled once into the matchers the parser and the statistics
 * use. Fixed strings are compared in place with the few of a line's length and ends; strings with
 * placeholders ("{name} left") become anchored regexes reached through their literal head or tail
 * (markers/Matcher.ts), so an ordinary message costs a few array reads. The table has no pinned or
 * kept-message events: no source for them was found.
 */
import type { MediaKind, SystemEvent } from "../Domain/MessageKind.js"
import type { MarkerEntry } from "./markers/Entry.js"
import { type Hit, Matcher } from "./markers/Matcher.js"
import { markerLanguages, markerTable } from "./markers/Table.js"
import { coreOf, fragmentSource, hasPlaceholder, templateOf } from "./markers/Template.js"

/** What a marker on a message's first line makes of the message. */
export type BodyMeaning =
  /** A media placeholder (the following lines are a caption). */
  | { readonly form: "placeholder"; readonly media: MediaKind }
  /** An attachment naming its file; the kind comes from the file name. */
  | { readonly form: "attachment" }
  /** An iOS document with a page count and no file. */
  | { readonly form: "pages" }
  /** A poll: "POLL:" then the question and options on the following lines. */
  | { readonly form: "poll" }
  | { readonly form: "location" }
  | { readonly form: "deleted" }
  /** A line that is an event even with an author (missed calls). */
  | { readonly form: "event"; readonly event: SystemEvent }

/** The system event each category of the table records. */
export const eventOfCategory: Readonly<Record<string, SystemEvent>> = {
  "system.e2e_notice": "encryption",
  "system.group_created": "created",
  "system.added": "added",
  "system.removed": "removed",
  "system.left": "left",
  "system.joined_via_link": "joined",
  "system.community": "community",
  "system.subject_changed": "subject",
  "system.icon_changed": "icon",
  "system.icon_deleted": "icon",
  "system.description_changed": "description",
  "system.group_settings": "settings",
  "system.admin": "admin",
  "system.security_code_changed": "security_code",
  "system.number_changed": "number_changed",
  "system.disappearing_messages": "disappearing",
  "system.contact": "contact",
  "system.privacy": "privacy",
  call: "call"
}

/** The media kind of each iOS "… omitted" / Android "<Media omitted>" subtype. */
const placeholderMedia: Readonly<Record<string, MediaKind>> = {
  generic_android: "unknown",
  generic_android_variant: "unknown",
  image: "image",
  image_alt: "image",
  video: "video",
  video_message: "video",
  video_note: "video",
  audio: "audio",
  audio_alt: "audio",
  sticker: "sticker",
  gif: "gif",
  document: "document",
  contact_card: "contact"
}

/** Every entry of the table with its language. */
export const allMarkers = (): ReadonlyArray<readonly [string, MarkerEntry]> =>
  markerLanguages.flatMap((lang) => markerTable[lang].map((entry) => [lang, entry] as const))

const bodyMarkers = new Matcher<BodyMeaning>(false)
const eventMarkers = new Matcher<SystemEvent>(true)
const editedInner: Array<string> = []
const iosAttachmentForms = new Set<string>()
const pageForms: Array<string> = []

const startsAndEndsWithPlaceholder = (text: string): boolean => {
  const t = templateOf(text)
  return t.head === "" && t.tail === ""
}

const addBody = (text: string, meaning: BodyMeaning, cased: boolean): void => {
  if (!hasPlaceholder(text)) bodyMarkers.addExact(text, meaning, cased)
  // A marker with a placeholder at both ends has no cheap gate; none of the body markers needs one.
  else if (!startsAndEndsWithPlaceholder(text)) bodyMarkers.addPattern(text, meaning)
}

for (const [, [, category, subtype, text]] of allMarkers()) {
  const event = eventOfCategory[category]
  if (event !== undefined) {
    if (hasPlaceholder(text)) eventMarkers.addPattern(text, event)
    else eventMarkers.addExact(text, event, false)
    // What follows an event's first sentence ("Tap to change.", the rest of the encryption notice) changed
    // between app versions, and iOS joins two strings into one line: the first sentence alone, or followed
    // by any other, is still the event.
    const core = coreOf(text)
    const sentence = core.indexOf(". ")
    const first = sentence > 0 ? core.slice(0, sentence + 1) : ""
    if (first.replace(/\{[A-Za-z0-9_]+\}/g, "").length >= 12) {
      if (hasPlaceholder(first)) eventMarkers.addPattern(first, event)
      else eventMarkers.addExact(first, event, false)
      eventMarkers.addPattern(`${first} {message}`, event)
    }
    // A call line is the message of whoever called ("Missed voice call"); "{name} started a call" is a
    // line of its own, read as an event only.
    if (category === "call" && !coreOf(text).startsWith("{")) addBody(text, { form: "event", event }, false)
    continue
  }
  switch (category) {
    case "media_omitted":
      if (subtype === "document_with_pages") {
        addBody(text, { form: "pages" }, false)
        // "{doc_name} • ‎{N} pages ‎document omitted": the part between the name and the placeholder is
        // how this language writes a page count, also seen before "<attached: …>".
        const marks = Math.max(text.lastIndexOf("\u200e"), text.lastIndexOf("\u200f"))
        if (text.startsWith("{doc_name}") && marks > 10) pageForms.push(text.slice(10, marks).trim())
      } else addBody(text, { form: "placeholder", media: placeholderMedia[subtype] ?? "unknown" }, true)
      break
    case "attachment": {
      // Entries without a placeholder are examples of a form listed with one.
      if (!hasPlaceholder(text)) break
      // iOS "<attached: {file}>" (with a caption or a document's name before it) joins one regex of all
      // languages; other forms are matchers' patterns.
      const core = coreOf(text)
      const bracket = core.slice(core.lastIndexOf("<"))
      if (bracket.startsWith("<") && bracket.endsWith(">") && bracket.split("{").length === 2 && bracket.includes("{file}")) {
        iosAttachmentForms.add(bracket)
      } else {
        // "{name}.vcf (file terlampir)" names a contact card's file: the file is "{name}.vcf".
        addBody(text.replace("{name}.vcf", "{file}"), { form: "attachment" }, false)
      }
      break
    }
    case "deleted":
      addBody(text, { form: "deleted" }, true)
      break
    case "location":
      if (subtype.includes("fragment")) addBody(`${text}{url}`, { form: "location" }, false)
      else addBody(text, { form: "location" }, true)
      break
    case "view_once":
      addBody(text, { form: "placeholder", media: "view_once" }, false)
      break
    case "unsupported":
      addBody(text, { form: "placeholder", media: "unknown" }, false)
      break
    case "poll": {
      const head = text.slice(0, text.indexOf("\n"))
      if (head.length > 0) addBody(head, { form: "poll" }, true)
      break
    }
    case "edited": {
      // "{message} <This message was edited>" gives what is inside the brackets; a fragment is that alone.
      const open = text.lastIndexOf("<")
      const inner = open === -1 ? text : text.slice(open + 1, text.endsWith(">") ? -1 : undefined)
      editedInner.push(fragmentSource(coreOf(inner)))
      break
    }
  }
}

const EDITED_SUFFIX = new RegExp(
  `[ \\t\\u00A0\\u202F]*[\\u200E\\u200F]*<[\\u200E\\u200F]*(?:${[...new Set(editedInner)].join("|")})\\.?>$`,
  "i"
)

/** Where the edited marker that ends `body` starts (with the spaces before it), or -1 when none does. */
export const editedMarkerAt = (body: string): number => {
  if (body.charCodeAt(body.length - 1) !== 0x3e /* > */) return -1
  const marker = EDITED_SUFFIX.exec(body)
  return marker === null ? -1 : marker.index
}

const PAGES = new RegExp(`^([^\\n]*?)[ \\u00A0]*(?:${[...new Set(pageForms)].map(fragmentSource).join("|")})$`, "i")

/** The document name in "{doc_name} • ‎{N} pages" (any language), or null when `text` has no page count. */
export const documentBeforePages = (text: string): string | null => {
  const m = PAGES.exec(text.trimEnd())
  return m === null ? null : m[1]!
}

// Group 1: the text before (a caption, or a document's name and page count); then one file group per form.
const IOS_ATTACHMENT = new RegExp(
  `^(?:([^\\n]*?)[ \\u00A0\\u202F]*)?[\\u200E\\u200F]*(?:${
    [...iosAttachmentForms].map((form) => {
      const at = form.indexOf("{file}")
      return `${fragmentSource(form.slice(0, at))}([^\\n]+?)${fragmentSource(form.slice(at + 6))}`
    }).join("|")
  })\\.?[\\u200E\\u200F]*$`,
  "id"
)

/** An iOS attachment line: the offsets in `line` of the text before the marker (or null) and of the file name. */
export interface IosAttachment {
  readonly before: readonly [number, number] | null
  readonly file: readonly [number, number]
}

/** The iOS "<attached: …>" of `line` in any language, or null (`line` ends with ">"). */
export const iosAttachmentOf = (line: string): IosAttachment | null => {
  const m = IOS_ATTACHMENT.exec(line)
  if (m === null || m.indices === undefined) return null
  for (let g = 2; g < m.length; g++) {
    const file = m.indices[g]
    if (file !== undefined) return { before: m.indices[1] ?? null, file }
  }
  return null
}

/** Which body marker a message's first line is (an authored message), or null for ordinary text. */
export const bodyMarkerOf = (firstLine: string): Hit<BodyMeaning> | null => bodyMarkers.match(firstLine)

/** `bodyMarkerOf` for the first line `source[start, end)`, sliced only when it could be a marker. */
export const bodyMarkerIn = (source: string, start: number, end: number): Hit<BodyMeaning> | null =>
  bodyMarkers.matchIn(source, start, end)

/** `eventOfLine` for the line `source[start, end)`. */
export const eventOfLineIn = (source: string, start: number, end: number): SystemEvent | null =>
  eventMarkers.matchIn(source, start, end)?.meaning ?? null

/** The fixed body marker `line` is, without trying patterns: the cheap test of a whole short body. */
export const exactBodyMarkerOf = (line: string): BodyMeaning | undefined => bodyMarkers.exactOf(line)

/** The system event a line records, or null when it is not one the table knows. */
export const eventOfLine = (line: string): SystemEvent | null => eventMarkers.match(line)?.meaning ?? null
