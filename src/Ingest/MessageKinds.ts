/**
 * What an authored message is, from its body and the markers table (Markers.ts): text, edited, deleted,
 * a missed call, or media with its kind, attachment file name and caption. The answer is written into a
 * reused record of offsets into the chat text, so classifying a million bodies allocates next to nothing.
 */
import type { MediaKind } from "../Domain/MessageKind.js"
import { kinds, mediaKindCode, systemEventCode } from "./Columns.js"
import * as Markers from "./Markers.js"

// Bound once: a transpiled module's import can be a getter call on every use, and these run per message.
const bodyMarkerIn = Markers.bodyMarkerIn
const editedMarkerAt = Markers.editedMarkerAt
const documentBeforePages = Markers.documentBeforePages
const iosAttachmentOf = Markers.iosAttachmentOf

export const TEXT = kinds.indexOf("text")
export const MEDIA = kinds.indexOf("media")
export const SYSTEM = kinds.indexOf("system")
export const DELETED = kinds.indexOf("deleted")
export const EDITED = kinds.indexOf("edited")

/** A body's classification: kind and media/event codes (Columns.ts), text (the caption for media) and file name as offsets. */
export interface BodyClass {
  kind: number
  media: number
  event: number
  textStart: number
  textEnd: number
  fileStart: number
  fileEnd: number
}

export const emptyClass = (): BodyClass => ({ kind: TEXT, media: 0, event: 0, textStart: 0, textEnd: 0, fileStart: 0, fileEnd: 0 })

const IMAGE = new Set(["jpg", "jpeg", "png", "heic", "heif", "bmp", "tif", "tiff"])
const VIDEO = new Set(["mp4", "mov", "3gp", "mkv", "avi", "webm", "m4v"])
const AUDIO = new Set(["m4a", "mp3", "aac", "ogg", "amr", "wav", "flac", "caf"])

/**
 * The media kind of an attachment from its file name, as WhatsApp names them: Android "IMG-", "VID-",
 * "AUD-", "PTT-" (push-to-talk: a voice note), "STK-", "DOC-"; iOS "00000035-PHOTO-…", "-VIDEO-", "-AUDIO-",
 * "-STICKER-", "-GIF-". An iOS voice note is an "-AUDIO-" .opus (audio files keep their own format);
 * stickers are .webp, contact cards .vcf; anything else is a document.
 */
export const mediaKindOfFile = (name: string): MediaKind => {
  const upper = name.toUpperCase()
  const dot = upper.lastIndexOf(".")
  const ext = dot === -1 ? "" : upper.slice(dot + 1).toLowerCase()
  if (ext === "vcf") return "contact"
  if (ext === "webp" || upper.startsWith("STK-") || upper.includes("-STICKER-")) return "sticker"
  if (upper.startsWith("PTT-") || (upper.includes("-AUDIO-") && ext === "opus")) return "voice"
  if (upper.includes("-GIF-") || ext === "gif") return "gif"
  if (upper.startsWith("IMG-") || upper.includes("-PHOTO-") || IMAGE.has(ext)) return "image"
  if (upper.startsWith("VID-") || upper.includes("-VIDEO-") || VIDEO.has(ext)) return "video"
  if (upper.startsWith("AUD-") || upper.includes("-AUDIO-") || AUDIO.has(ext) || ext === "opus") return "audio"
  return "document"
}

/** Offsets of the lines after the first, without the line break between (the caption of a media marker). */
const captionAfter = (out: BodyClass, firstEnd: number, end: number): void => {
  out.textStart = firstEnd < end ? firstEnd + 1 : end
  out.textEnd = end
}

/**
 * Classifies the body `source[start, end)` of an authored message whose first line ends at `firstEnd`,
 * into `out`. Only the first line is matched against the markers (a caption follows on the next lines),
 * and sliced only when it could be one; an edited marker ends the whole body and is cut off.
 */
export const classifyBody = (source: string, start: number, firstEnd: number, end: number, out: BodyClass): void => {
  out.kind = TEXT
  out.media = 0
  out.event = 0
  out.textStart = start
  out.textEnd = end
  out.fileStart = 0
  out.fileEnd = 0
  if (start === end) return
  const hit = bodyMarkerIn(source, start, firstEnd)
  if (hit === null) {
    if (source.charCodeAt(firstEnd - 1) === 0x3e /* > */) {
      const ios = iosAttachmentOf(source.slice(start, firstEnd))
      if (ios !== null) {
        const before = ios.before === null ? null : [start + ios.before[0], start + ios.before[1]] as const
        attachment(source, [start + ios.file[0], start + ios.file[1]], before, false, firstEnd, end, out)
        return
      }
    }
    if (source.charCodeAt(end - 1) === 0x3e /* > */) {
      const at = editedMarkerAt(source.slice(start, end))
      if (at !== -1) {
        out.kind = EDITED
        out.textEnd = start + at
      }
    }
    return
  }
  const meaning = hit.meaning
  const indices = hit.match?.indices
  /** Absolute offsets of placeholder `name`'s text, or null. */
  const span = (name: string): readonly [number, number] | null => {
    const at = hit.groups.indexOf(name)
    const range = at === -1 || indices === undefined ? undefined : indices[at + 1]
    return range === undefined ? null : [start + range[0], start + range[1]]
  }
  switch (meaning.form) {
    case "deleted":
      out.kind = DELETED
      return
    case "event":
      out.kind = SYSTEM
      out.event = systemEventCode(meaning.event)
      return
    case "placeholder":
      out.kind = MEDIA
      out.media = mediaKindCode(meaning.media)
      captionAfter(out, firstEnd, end)
      return
    case "pages":
    case "location":
      out.kind = MEDIA
      out.media = mediaKindCode(meaning.form === "pages" ? "document" : "location")
      captionAfter(out, firstEnd, end)
      return
    case "poll": {
      // "POLL:", the question, then "OPTION: …" lines: the question is the text.
      out.kind = MEDIA
      out.media = mediaKindCode("poll")
      captionAfter(out, firstEnd, end)
      const nl = source.indexOf("\n", out.textStart)
      if (nl !== -1 && nl < end) out.textEnd = nl
      return
    }
    case "attachment":
      attachment(source, span("file"), span("before"), span("doc_name") !== null, firstEnd, end, out)
      return
  }
}

/**
 * An attachment: its file, its kind from the file name, and its caption: the lines after, or iOS's text
 * before the marker unless that is the document's own name (and page count), as in
 * "Resume.pdf • ‎2 pages ‎<attached: 00000047-Resume.pdf>".
 */
const attachment = (
  source: string,
  file: readonly [number, number] | null,
  before: readonly [number, number] | null,
  document: boolean,
  firstEnd: number,
  end: number,
  out: BodyClass
): void => {
  out.kind = MEDIA
  if (file !== null) {
    out.fileStart = file[0]
    out.fileEnd = file[1]
  }
  const name = file === null ? "" : source.slice(file[0], file[1])
  out.media = mediaKindCode(document ? "document" : mediaKindOfFile(name))
  captionAfter(out, firstEnd, end)
  if (before !== null && before[1] > before[0]) {
    const text = source.slice(before[0], before[1])
    const named = documentBeforePages(text) ?? text
    if (named !== text || name === text || name.endsWith(`-${text}`)) {
      out.media = mediaKindCode("document")
    } else if (out.textStart === out.textEnd) {
      out.textStart = before[0]
      out.textEnd = before[1]
    }
  }
}
