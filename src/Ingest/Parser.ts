/**
 * Reads the text of a WhatsApp chat export into messages and a report. The header shape is detected
 * once from a sample of the whole file; one pass over the string then accepts only lines of that shape.
 */
import {
  type HeaderShape,
  kinds,
  type MessageColumns,
  type MessageKind,
  type ParseReport,
  type ParsedChat,
  type WallClock
} from "./Model.js"

export interface ParseOptions {
  /** Force the day/month order instead of inferring it from the dates. */
  readonly dayFirst?: boolean
}

export type RefusalReason =
  | "empty"
  | "binary"
  | "invalid-utf8"
  | "not-a-chat"
  | "no-chat-file"
  | "corrupt-zip"
  | "zip-bomb"
  | "too-large"

/** Why a file cannot be read, in words a person understands. */
export interface Refusal {
  readonly _tag: "Refusal"
  readonly reason: RefusalReason
  readonly message: string
}

export interface Parsed {
  readonly _tag: "Parsed"
  readonly chat: ParsedChat
}

export type ParseOutcome = Parsed | Refusal

export const refusal = (reason: RefusalReason, message: string): Refusal => ({ _tag: "Refusal", reason, message })

// ---------------------------------------------------------------------------------------------------
// Bytes to text

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * Decodes export bytes: UTF-8 (a BOM is dropped), or UTF-16 when a UTF-16 BOM says so (old Windows
 * exports). Refuses empty, binary and invalid UTF-8 content.
 */
export const decodeChatBytes = (bytes: Uint8Array): string | Refusal => {
  if (bytes.length === 0) return refusal("empty", "The file is empty.")
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    try {
      const text = new TextDecoder(bytes[0] === 0xff ? "utf-16le" : "utf-16be", { fatal: true }).decode(bytes)
      return isBlank(text) ? refusal("empty", "The file has no text in it.") : text
    } catch {
      return refusal("invalid-utf8", "The file claims to be UTF-16 text but is not valid UTF-16.")
    }
  }
  // A chat is text: NUL bytes never occur in one, and control characters other than tab and line
  // breaks are rare. Only a prefix is examined; that is enough to catch images, archives and the like.
  const sample = Math.min(bytes.length, 65_536)
  let control = 0
  for (let i = 0; i < sample; i++) {
    const b = bytes[i]!
    if (b === 0) return refusal("binary", "The file is binary data, not a text chat export.")
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) || b === 0x7f) control++
  }
  if (control / sample > 0.01) return refusal("binary", "The file is binary data, not a text chat export.")
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return refusal("invalid-utf8", "The file is not valid UTF-8 text; WhatsApp exports are UTF-8.")
  }
  return isBlank(text) ? refusal("empty", "The file has no text in it.") : text
}

const isBlank = (text: string): boolean => /^[\s\uFEFF\u200E\u200F]*$/.test(text)

// ---------------------------------------------------------------------------------------------------
// Header shapes

const D = "[0-9\\u0660-\\u0669\\u06F0-\\u06F9]"
// Spaces that can sit inside a header; never a line break, so a sticky match cannot run into the next line.
const SP = "[ \\t\\u00A0\\u202F]"
const MARKS = "[\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069\\uFEFF]*"
const DIR = "[\\u200E\\u200F]?"
const AMPM = "(?:[AaPp]\\.?[ \\u00A0\\u202F]?[Mm]\\.?|vorm\\.|nachm\\.|午前|午後|上午|下午|오전|오후|ق\\.ظ|ب\\.ظ|ص|م)" +
  "(?![A-Za-z\\u00C0-\\u024F\\u0600-\\u06FF])"
// A short word between date and time: "klo", "um", "à", "at", "г.," and the like.
const FILLER = `[^\\d\\s\\[\\]:,.\\-]{1,8}\\.?,?${SP}+`
const AFTER_DATE = `\\.?[,،]?(?:${SP}|[\\u200E\\u200F])+`

// Groups: 1 "[", 2-5 date (2 field, 3 separator, 4 field, 5 field), 6 prefix am/pm, 7 hour,
// 8 time separator, 9 minute, 10 second, 11 suffix am/pm, 12 terminator.
const GENERIC = new RegExp(
  `${MARKS}(\\[)?${MARKS}(${D}{1,4})${DIR}([-/.])${SP}?${DIR}(${D}{1,4})${DIR}\\3${SP}?${DIR}(${D}{1,4})` +
    `${AFTER_DATE}(?:(${AMPM})${SP}?|${FILLER})?(${D}{1,2})([:.])(${D}{2})(?:\\8(${D}{2}))?` +
    `(?:${SP}?(${AMPM}))?${DIR}(\\]|${SP}[-–]|:)?${SP}`,
  "y"
)

type Terminator = "]" | "-" | ":" | " "
type AmPm = "none" | "prefix" | "suffix"

interface Shape {
  readonly bracket: boolean
  readonly dateSep: string
  readonly yearPos: 0 | 1 | 2
  readonly fourDigitYear: boolean
  readonly timeSep: string
  readonly seconds: boolean
  readonly ampm: AmPm
  readonly terminator: Terminator
}

const shapeKey = (s: Shape): string =>
  `${s.bracket ? 1 : 0}|${s.dateSep}|${s.yearPos}|${s.timeSep}|${s.seconds ? 1 : 0}|${s.ampm}|${s.terminator}`

const escape = (c: string): string => (c === "." || c === "-" || c === "/" ? `\\${c}` : c)

const yearPosition = (a: string, b: string): 0 | 1 | 2 =>
  a.length >= 3 ? 0 : b.length >= 3 ? 1 : 2

const shapeOf = (m: RegExpExecArray): Shape => {
  const term = m[12]
  return {
    bracket: m[1] !== undefined,
    dateSep: m[3] ?? "/",
    yearPos: yearPosition(m[2] ?? "", m[4] ?? ""),
    fourDigitYear: [m[2], m[4], m[5]].some((f) => f !== undefined && f.length >= 3),
    timeSep: m[8] ?? ":",
    seconds: m[10] !== undefined,
    ampm: m[6] !== undefined ? "prefix" : m[11] !== undefined ? "suffix" : "none",
    terminator: term === undefined ? " " : term === "]" ? "]" : term === ":" ? ":" : "-"
  }
}

interface CompiledShape {
  readonly shape: Shape
  readonly re: RegExp
}

/**
 * The one regex used for the whole file: only this shape's headers start a message. It has no capture
 * groups: it is only tested, and the fields are then read from the matched span by char codes, which
 * spares an array and a handful of strings per line.
 */
const compile = (shape: Shape): CompiledShape => {
  const sep = escape(shape.dateSep)
  const tsep = escape(shape.timeSep)
  let src = MARKS + (shape.bracket ? `\\[${MARKS}` : "")
  src += `${D}{1,4}${DIR}${sep}${SP}?${DIR}${D}{1,4}${DIR}${sep}${SP}?${DIR}${D}{1,4}${AFTER_DATE}`
  src += shape.ampm === "prefix" ? `${AMPM}${SP}?` : `(?:${FILLER})?`
  src += `${D}{1,2}${tsep}${D}{2}`
  if (shape.seconds) src += `${tsep}${D}{2}`
  if (shape.ampm === "suffix") src += `${SP}?${AMPM}`
  src += DIR
  src += shape.terminator === "]" ? "\\]" : shape.terminator === "-" ? `${SP}[-–]` : shape.terminator === ":" ? ":" : ""
  src += SP
  return { shape, re: new RegExp(src, "y") }
}

const isDigit = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x660 && c <= 0x669) || (c >= 0x6f0 && c <= 0x6f9)

const digitValue = (c: number): number => (c <= 0x39 ? c - 0x30 : c <= 0x669 ? c - 0x660 : c - 0x6f0)

/**
 * Whether the am/pm token in `text[from, to)` means afternoon; the first letter decides (p, nachm.,
 * 午後, 下午, 오후, م, ب.ظ are afternoon), and spaces, dots and commas before it are skipped.
 */
const pmAt = (text: string, from: number, to: number): boolean | null => {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i)
    switch (c) {
      case 0x70: case 0x50: case 0x6e: case 0x4e0b: case 0x0645: case 0x0628:
        return true
      case 0x61: case 0x41: case 0x76: case 0x4e0a: case 0x0635: case 0x0642:
        return false
      case 0x5348: // 午: 午後 is afternoon, 午前 morning
        return text.charCodeAt(i + 1) === 0x5f8c
      case 0xc624: // 오: 오후 is afternoon, 오전 morning
        return text.charCodeAt(i + 1) === 0xd6c4
    }
  }
  return null
}

/** Whether a line can begin with a header at all: a cheap test before running the regex. */
const mayStartHeader = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || c === 0x5b || c === 0x200e || c === 0x200f || c === 0xfeff ||
  (c >= 0x660 && c <= 0x669) || (c >= 0x6f0 && c <= 0x6f9) || (c >= 0x202a && c <= 0x202e) ||
  (c >= 0x2066 && c <= 0x2069)

const SAMPLE_HEAD = 1000
const SAMPLE_SPREAD = 1000

interface Detection {
  readonly compiled: CompiledShape
  readonly matched: number
  readonly sampled: number
  /** How many sampled headers of the shape have a value over 12 in the first / second day-month field. */
  readonly overA: number
  readonly overB: number
}

const digitsValue = (s: string | undefined): number => {
  let v = 0
  if (s !== undefined) for (let i = 0; i < s.length; i++) v = v * 10 + digitValue(s.charCodeAt(i))
  return v
}

/**
 * Scores candidate shapes on a sample of lines (the first ones, plus lines spread over the whole file)
 * and keeps the most frequent. Null when too few lines look like headers for the text to be a chat.
 */
const detectShape = (text: string): Detection | null => {
  const counts = new Map<string, { shape: Shape; count: number; overA: number; overB: number }>()
  let sampled = 0
  let firstLineKey: string | null = null
  let seenNonEmpty = false
  const tryLine = (pos: number): void => {
    let end = text.indexOf("\n", pos)
    if (end === -1) end = text.length
    if (end === pos) return
    sampled++
    let key: string | null = null
    if (mayStartHeader(text.charCodeAt(pos))) {
      GENERIC.lastIndex = pos
      const m = GENERIC.exec(text)
      if (m !== null && GENERIC.lastIndex <= end + 1) {
        const shape = shapeOf(m)
        key = shapeKey(shape)
        const [a, b] = shape.yearPos === 0 ? [m[4], m[5]] : shape.yearPos === 1 ? [m[2], m[5]] : [m[2], m[4]]
        const overA = digitsValue(a) > 12 ? 1 : 0
        const overB = digitsValue(b) > 12 ? 1 : 0
        const entry = counts.get(key)
        if (entry === undefined) counts.set(key, { shape, count: 1, overA, overB })
        else {
          entry.count++
          entry.overA += overA
          entry.overB += overB
        }
      }
    }
    if (!seenNonEmpty) {
      seenNonEmpty = true
      firstLineKey = key
    }
  }
  let pos = 0
  let lines = 0
  while (pos < text.length && lines < SAMPLE_HEAD) {
    tryLine(pos)
    lines++
    const nl = text.indexOf("\n", pos)
    pos = nl === -1 ? text.length : nl + 1
  }
  if (pos < text.length) {
    const rest = text.length - pos
    const step = Math.max(1, Math.floor(rest / SAMPLE_SPREAD))
    for (let at = pos; at < text.length; at += step) {
      const nl = text.indexOf("\n", at)
      if (nl === -1) break
      if (nl + 1 < text.length) tryLine(nl + 1)
    }
  }
  let best: { shape: Shape; count: number; overA: number; overB: number } | null = null
  for (const entry of counts.values()) if (best === null || entry.count > best.count) best = entry
  if (best === null) return null
  // A chat's first line is a header; failing that, a real chat still has headers on a good share of
  // its lines even when its messages are long.
  const firstIsHeader = firstLineKey === shapeKey(best.shape)
  if (!firstIsHeader && best.count / sampled < 0.1) return null
  return { compiled: compile(best.shape), matched: best.count, sampled, overA: best.overA, overB: best.overB }
}

// ---------------------------------------------------------------------------------------------------
// Message kinds

// As WhatsApp writes them; lower-case and capitalised variants are added below.
const MEDIA_MARKERS = [
  "<Media omitted>",
  "<Multimedia omitido>",
  "<Multimedia omitidos>",
  "<Médias omis>",
  "<Medien ausgeschlossen>",
  "<Media weggelaten>",
  "<Mídia oculta>",
  "<Arquivo de mídia oculto>",
  "<Media omessi>",
  "<Без медиафайлов>",
  "<Media tidak disertakan>",
  "<Medya dahil edilmedi>",
  "<Pominięto multimedia>"
]
// iOS writes one short line per attachment kind: "image omitted", "imagen omitida", "Bild weggelassen"...
const MEDIA_SHORT =
  /^(?:(?:image|photo|video|audio|sticker|gif|document|contact card)\s+omitted|(?:imagen|video|audio|sticker|documento|gif)\s+omitid[oa]|(?:bild|video|audio|sticker|gif|dokument)\s+weggelassen|(?:image|vidéo|audio|autocollant|gif|document)\s+(?:omise?|absente?)|(?:imagem|vídeo|áudio|figurinha)\s+ocult[oa])$/i
const MEDIA_ATTACHED = /^<\s*(?:attached|anexo|adjunto|angehängt|pièce jointe|allegato):\s*[^\n]+>$/i
const MEDIA_FILE = /^[^\n]+\s\((?:file attached|archivo adjunto|Datei angehängt|fichier joint|arquivo anexado|file allegato)\)$/i
const DELETED = [
  "This message was deleted",
  "You deleted this message",
  "Se eliminó este mensaje",
  "Eliminaste este mensaje",
  "Este mensaje fue eliminado",
  "Diese Nachricht wurde gelöscht",
  "Du hast diese Nachricht gelöscht",
  "Ce message a été supprimé",
  "Vous avez supprimé ce message",
  "Essa mensagem foi apagada",
  "Esta mensagem foi apagada",
  "Você apagou esta mensagem",
  "Questo messaggio è stato eliminato",
  "Hai eliminato questo messaggio",
  "Dit bericht is verwijderd",
  "Je hebt dit bericht verwijderd"
]
const EDITED_SUFFIX =
  /[ \t\u00A0\u202F]*\u200E?<(?:This message was edited|Se editó este mensaje\.?|Mensaje editado|Diese Nachricht wurde bearbeitet\.?|Nachricht bearbeitet|Ce message a été modifié|Message modifié|Mensagem editada|Messaggio modificato|Dit bericht is bewerkt)>$/
// System events in English and the common translations; matched on the whole body.
const SYSTEM =
  /end-to-end encrypted|cifrad[oa]s de extremo a extremo|Ende-zu-Ende-verschlüsselt|chiffrés de bout en bout|criptografia de ponta a ponta|crittografia end-to-end|\bcreated (?:the )?group\b|\bcreó el grupo\b|\bhat die Gruppe .* erstellt|\ba créé le groupe\b|\bchanged the subject\b|\bchanged the group name\b|\bchanged (?:this group's|the group) (?:icon|description|settings)|\bdeleted this group's icon\b|\b(?:added|removed)\b|\bleft$|\bjoined using\b|\bjoined from the community\b|\bwas added\b|\bsecurity code\b.*\bchanged\b|\bchanged their phone number\b|\bchanged to \+?\d|\bchanged (?:their|the) number\b|\bdisappearing messages\b|\bmensajes temporales\b|\bnow an admin\b|\bno longer an admin\b|\bMissed (?:voice|video|group) call\b|\bañadió\b|\beliminó a\b|\bsalió\b|\bhinzugefügt\b|\bentfernt\b|\bhat die Gruppe verlassen\b|\ba ajouté\b|\ba retiré\b|\best parti\b|\badicionou\b|\bremoveu\b|\bsaiu\b/i

const capitalise = (marker: string): string => {
  const at = marker.startsWith("<") ? 1 : 0
  return marker.slice(0, at) + marker.charAt(at).toUpperCase() + marker.slice(at + 1)
}

/**
 * Exact media and deletion markers in the casings WhatsApp writes, with and without a final dot, so a
 * body is classified by one lookup that allocates nothing.
 */
const EXACT = new Map<string, MessageKind>()
for (const [markers, kind] of [[MEDIA_MARKERS, "media"], [DELETED, "deleted"]] as const) {
  for (const marker of markers) {
    for (const cased of [marker, marker.toLowerCase(), capitalise(marker.toLowerCase())]) {
      for (const variant of [cased, `${cased}.`]) EXACT.set(variant, kind)
    }
  }
}

/** The kind of a message with an author, from its body (leading U+200E already dropped). */
const kindOf = (body: string): MessageKind => {
  const n = body.length
  if (n === 0) return "text"
  const last = body.charCodeAt(n - 1)
  const exact = EXACT.get(body)
  if (exact !== undefined) return exact
  if (last === 0x3e /* > */) {
    if (EDITED_SUFFIX.test(body)) return "edited"
    if (body.charCodeAt(0) === 0x3c /* < */ && MEDIA_ATTACHED.test(body)) return "media"
  } else if (last === 0x29 /* ) */) {
    if (n <= 300 && MEDIA_FILE.test(body)) return "media"
  } else if (n <= 40 && MEDIA_SHORT.test(body)) return "media"
  else if (n <= 300 && body.endsWith("document omitted") && body.indexOf("\n") === -1) return "media"
  return "text"
}

// ---------------------------------------------------------------------------------------------------
// The parse

/** Authors as written, minus invisible direction marks and the "~ " of unsaved contacts. */
export const normaliseAuthor = (raw: string): string =>
  raw
    .replace(/[\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g, "")
    .replace(/[\u00A0\u202F]/g, " ")
    .replace(/^\s*~\s*/, "")
    .trim()

const RECENT = 8
const MAX_SAMPLE = 5
const SAMPLE_CHARS = 200
const EXPORT_CAPS = [10_000, 40_000]
const ORIGIN = /encrypted|created|cifrad|verschlüssel|chiffr|criptograf|crittograf|creó|erstellt|créé/i

const SYSTEM_KIND = kinds.indexOf("system")
const KIND_CODE = new Map(kinds.map((kind, code) => [kind, code]))

/** The same wall-clock with day and month exchanged; exact when both are at most 12. */
const swapDayMonth = (ms: WallClock): WallClock => {
  const d = new Date(ms)
  return Date.UTC(
    d.getUTCFullYear(),
    d.getUTCDate() - 1,
    d.getUTCMonth() + 1,
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds()
  )
}

interface Pass {
  readonly columns: MessageColumns
  /** The day/month order every message was built with (a pass can switch once, fixing earlier ones). */
  readonly dayFirst: boolean
  readonly overA: number
  readonly overB: number
  readonly changesA: number
  readonly changesB: number
  readonly upperAmPm: boolean
  readonly unreadable: number
  readonly samples: Array<string>
  readonly impossible: number
}

/**
 * The one pass: walks the text line by line with `indexOf`, tests each line that can start a header
 * against the shape's sticky regex (no line strings, no capture arrays), reads the fields by char code,
 * and makes each message when the next header (or the end) closes its body. Times are computed with
 * `dayFirst`; while no value over 12 has been seen the order is provisional, and the first such value
 * that contradicts it switches the order and fixes the messages made so far (exactly, since all of
 * their day and month values were at most 12).
 */
const runPass = (text: string, shape: Shape, re: RegExp, dayFirstIn: boolean, locked: boolean): Pass => {
  let dayFirst = dayFirstIn
  const hasSeconds = shape.seconds
  const wanted = hasSeconds ? 6 : 5
  // The columns grow by doubling; pages of a typed array never written are never resident, so the
  // unused tail costs address space, not memory.
  let capacity = 1024
  let count = 0
  let sentAtColumn = new Float64Array(capacity)
  let kindColumn = new Uint8Array(capacity)
  let authorColumn = new Int32Array(capacity)
  let startColumn = new Uint32Array(capacity)
  let endColumn = new Uint32Array(capacity)
  /** A column twice as long with the same values in front. */
  const doubled = <T extends Float64Array<ArrayBuffer> | Uint8Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>>(
    column: T,
    make: (length: number) => T
  ): T => {
    const next = make(column.length * 2)
    next.set(column)
    return next
  }
  const grow = (): void => {
    capacity *= 2
    sentAtColumn = doubled(sentAtColumn, (n) => new Float64Array(n))
    kindColumn = doubled(kindColumn, (n) => new Uint8Array(n))
    authorColumn = doubled(authorColumn, (n) => new Int32Array(n))
    startColumn = doubled(startColumn, (n) => new Uint32Array(n))
    endColumn = doubled(endColumn, (n) => new Uint32Array(n))
  }
  // Authors as written map to an id; ids name distinct normalised authors (two spellings, one person).
  const authorIndex = new Map<string, number>()
  const nameIndex = new Map<string, number>()
  const authorNames: Array<string> = []
  // The last few authors as written: most headers repeat one, and checking in place avoids a slice.
  const recentRaw: Array<string> = []
  const recentId: Array<number> = []
  const fields = [0, 0, 0, 0, 0, 0]
  let unreadable = 0
  const samples: Array<string> = []
  let overA = 0
  let overB = 0
  let changesA = 0
  let changesB = 0
  let prevA = -1
  let prevB = -1
  let upperAmPm: boolean | null = null
  let impossible = 0
  let lastDateKey = -1
  let dayMs = 0
  // The message whose body is still being read.
  let open = false
  let openBody = 0
  let openHeaderEnd = 0
  let openAuthor = -1
  let openSentAt = 0

  // Each body is kept as offsets into `text`: dropping a leading U+200E, an edited marker or taking the
  // whole line of a system event only moves them. The body is still sliced here to be classified, but
  // that string is short-lived.
  const close = (endAt: number): void => {
    let end = endAt
    while (end > openBody && text.charCodeAt(end - 1) === 0x0a) end--
    let start = openBody
    if (end < start) end = start
    const lrm = text.charCodeAt(start) === 0x200e && end > start
    if (lrm) start++
    let kind: number
    let author = openAuthor
    if (author === -1) {
      kind = SYSTEM_KIND
    } else {
      const body = text.slice(start, end)
      const named = kindOf(body)
      kind = KIND_CODE.get(named)!
      if (named === "text") {
        // Newer iOS exports write system events with an author (the group or the actor) and a U+200E-led
        // body; a quote or great length in the "author" means a colon inside a system line.
        const name = authorNames[author]!
        if (lrm && SYSTEM.test(body)) kind = SYSTEM_KIND
        else if ((name.length > 60 || name.includes("\"") || name.includes("“")) && SYSTEM.test(name)) {
          kind = SYSTEM_KIND
          author = -1
          start = openHeaderEnd
        }
      } else if (named === "edited") {
        const marker = EDITED_SUFFIX.exec(body)
        if (marker !== null) end = start + marker.index
      }
    }
    if (count === capacity) grow()
    sentAtColumn[count] = openSentAt
    kindColumn[count] = kind
    authorColumn[count] = author
    startColumn[count] = start
    endColumn[count] = end
    count++
  }

  const len = text.length
  let pos = 0
  while (pos < len) {
    let nl = text.indexOf("\n", pos)
    if (nl === -1) nl = len
    let header = false
    if (mayStartHeader(text.charCodeAt(pos))) {
      re.lastIndex = pos
      header = re.test(text)
    }
    if (header) {
      const headerEnd = re.lastIndex
      // The digit runs of the header: three date fields, hour, minute and maybe second.
      let k = 0
      let i = pos
      let afterDate = pos
      let hourAt = pos
      while (i < headerEnd && k < wanted) {
        let c = text.charCodeAt(i)
        if (!isDigit(c)) {
          i++
          continue
        }
        if (k === 3) hourAt = i
        let v = 0
        while (i < headerEnd && isDigit(c)) {
          v = v * 10 + digitValue(c)
          c = text.charCodeAt(++i)
        }
        fields[k++] = v
        if (k === 3) afterDate = i
      }
      const afterTime = i
      let year: number
      let a: number
      let b: number
      if (shape.yearPos === 2) {
        year = fields[2]!, a = fields[0]!, b = fields[1]!
      } else if (shape.yearPos === 0) {
        year = fields[0]!, a = fields[1]!, b = fields[2]!
      } else {
        year = fields[1]!, a = fields[0]!, b = fields[2]!
      }
      // Day and month never exceed 31: a larger value means this is not a date after all.
      if (k === wanted && a !== 0 && b !== 0 && a <= 31 && b <= 31) {
        if (open) close(pos)
        if (year < 100) year += 2000
        let hour = fields[3]!
        if (shape.ampm !== "none") {
          const from = shape.ampm === "suffix" ? afterTime : afterDate
          const to = shape.ampm === "suffix" ? headerEnd : hourAt
          const pm = pmAt(text, from, to)
          if (pm !== null) hour = pm ? (hour % 12) + 12 : hour % 12
          if (upperAmPm === null) {
            for (let j = from; j < to; j++) {
              const c = text.charCodeAt(j)
              if (c === 0x41 || c === 0x50) upperAmPm = text.charCodeAt(j + 1) === 0x4d
              if (c === 0x61 || c === 0x70 || c === 0x41 || c === 0x50) break
            }
          }
        }
        if (!locked && overA === 0 && overB === 0 && ((dayFirst && b > 12) || (!dayFirst && a > 12))) {
          // The first value over 12 contradicts the provisional order: switch, and fix what was made.
          dayFirst = !dayFirst
          for (let m = 0; m < count; m++) sentAtColumn[m] = swapDayMonth(sentAtColumn[m]!)
          if (open) openSentAt = swapDayMonth(openSentAt)
          lastDateKey = -1
        }
        if (a > 12) overA++
        if (b > 12) overB++
        if (prevA !== -1) {
          if (a !== prevA) changesA++
          if (b !== prevB) changesB++
        }
        prevA = a
        prevB = b
        const dateKey = (year << 14) | (a << 7) | b
        if (dateKey !== lastDateKey) {
          lastDateKey = dateKey
          const day = dayFirst ? a : b
          const month = dayFirst ? b : a
          if (month > 12) impossible++
          dayMs = Date.UTC(year, month - 1, day)
        }
        openSentAt = dayMs + (hour * 3600 + fields[4]! * 60 + (hasSeconds ? fields[5]! : 0)) * 1000
        openHeaderEnd = headerEnd
        let colon = text.indexOf(": ", headerEnd)
        openBody = colon + 2
        if (colon === -1 || colon >= nl) {
          // "Name:" with an empty body ends its line with the only colon.
          colon = nl > headerEnd && text.charCodeAt(nl - 1) === 0x3a && text.indexOf(":", headerEnd) === nl - 1 ? nl - 1 : -1
          openBody = colon === -1 ? headerEnd : nl
        }
        if (colon === -1) openAuthor = -1
        else {
          const rawLength = colon - headerEnd
          let id = -1
          for (let r = 0; r < recentRaw.length; r++) {
            const raw = recentRaw[r]!
            if (raw.length === rawLength && text.startsWith(raw, headerEnd)) {
              id = recentId[r]!
              break
            }
          }
          if (id === -1) {
            const raw = text.slice(headerEnd, colon)
            let known = authorIndex.get(raw)
            if (known === undefined) {
              const name = normaliseAuthor(raw)
              known = nameIndex.get(name)
              if (known === undefined) {
                known = authorNames.length
                authorNames.push(name)
                nameIndex.set(name, known)
              }
              authorIndex.set(raw, known)
            }
            id = known
            if (recentRaw.length === RECENT) {
              recentRaw.pop()
              recentId.pop()
            }
            recentRaw.unshift(raw)
            recentId.unshift(id)
          }
          openAuthor = id
        }
        open = true
      } else header = false
    }
    if (!header && !open && nl > pos && !isBlank(text.slice(pos, nl))) {
      unreadable++
      if (samples.length < MAX_SAMPLE) samples.push(text.slice(pos, Math.min(nl, pos + SAMPLE_CHARS)))
    }
    pos = nl + 1
  }
  if (open) close(len)
  return {
    columns: {
      count,
      sentAt: sentAtColumn.subarray(0, count),
      kind: kindColumn.subarray(0, count),
      author: authorColumn.subarray(0, count),
      authors: authorNames,
      source: text,
      textStart: startColumn.subarray(0, count),
      textEnd: endColumn.subarray(0, count)
    },
    dayFirst,
    overA,
    overB,
    changesA,
    changesB,
    upperAmPm: upperAmPm === true,
    unreadable,
    samples,
    impossible
  }
}

/**
 * Parses a chat export's text. Pure and synchronous (it will run in a worker thread). The header shape
 * is detected once from a sample of the file; the day/month order from the whole file: a value over 12
 * settles it ("certain"); otherwise the day is the field that changes more often between consecutive
 * messages ("inferred"); otherwise a default by shape ("assumed"); or the caller's `dayFirst`
 * ("override").
 */
export const parseChat = (input: string, options: ParseOptions = {}): ParseOutcome => {
  let text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  if (isBlank(text)) return refusal("empty", "The file is empty.")
  // Exports mix CRLF and LF (and old ones use bare CR); one normalisation keeps the pass simple.
  if (text.indexOf("\r") !== -1) text = text.replace(/\r\n?/g, "\n")
  const detection = detectShape(text)
  if (detection === null) {
    return refusal(
      "not-a-chat",
      "This does not look like a WhatsApp chat export: no line starts with a date and time the way WhatsApp writes them."
    )
  }
  const { re, shape } = detection.compiled
  const defaultOrder = (upperAmPm: boolean): boolean =>
    // Year-first dates are y-m-d; "/" with upper-case AM/PM is the United States' m/d/y; else d/m.
    shape.yearPos === 0 ? false : !(shape.dateSep === "/" && upperAmPm)
  const override = options.dayFirst
  const provisional = override ??
    (detection.overA > 0 || detection.overB > 0 ? detection.overA >= detection.overB : defaultOrder(false))
  let pass = runPass(text, shape, re, provisional, override !== undefined)
  if (pass.columns.count === 0) {
    return refusal("not-a-chat", "This does not look like a WhatsApp chat export: no message headers were found.")
  }

  const warnings: Array<string> = []
  let dayFirst: boolean
  let confidence: ParseReport["dayFirstConfidence"]
  if (override !== undefined) {
    dayFirst = override
    confidence = "override"
  } else if (pass.overA > 0 || pass.overB > 0) {
    dayFirst = pass.overA >= pass.overB
    confidence = "certain"
    if (pass.overA > 0 && pass.overB > 0) {
      warnings.push(
        `Dates disagree on day/month order (${pass.overA} read as day-first, ${pass.overB} as month-first); ${dayFirst ? "day-first" : "month-first"} was used.`
      )
    }
  } else if (pass.changesA !== pass.changesB) {
    dayFirst = pass.changesA > pass.changesB
    confidence = "inferred"
  } else {
    dayFirst = defaultOrder(pass.upperAmPm)
    confidence = "assumed"
    warnings.push(
      `The dates do not show whether the day or the month comes first; ${dayFirst ? "day-first" : "month-first"} was assumed.`
    )
  }
  if (dayFirst !== pass.dayFirst) {
    // With every value at most 12 exchanging day and month is exact; otherwise (dates that disagree)
    // read the file again with the order fixed.
    if (pass.overA === 0 && pass.overB === 0) {
      const sentAt = pass.columns.sentAt
      for (let i = 0; i < sentAt.length; i++) sentAt[i] = swapDayMonth(sentAt[i]!)
    } else {
      pass = runPass(text, shape, re, dayFirst, true)
    }
  }

  const columns = pass.columns
  const participants: Array<string> = []
  const seen = new Uint8Array(columns.authors.length)
  let count = 0
  let systemEvents = 0
  let media = 0
  let deleted = 0
  let edited = 0
  let firstAt: WallClock | null = null
  let lastAt: WallClock | null = null
  for (let i = 0; i < columns.count; i++) {
    switch (kinds[columns.kind[i]!]) {
      case "system":
        systemEvents++
        continue
      case "media":
        media++
        break
      case "deleted":
        deleted++
        break
      case "edited":
        edited++
        break
      default:
        break
    }
    count++
    const author = columns.author[i]!
    if (author !== -1 && seen[author] === 0) {
      seen[author] = 1
      participants.push(columns.authors[author]!)
    }
    const sentAt = columns.sentAt[i]!
    if (firstAt === null) firstAt = sentAt
    lastAt = sentAt
  }

  if (pass.unreadable > 0) {
    warnings.push(`${pass.unreadable} line(s) before the first message could not be read and were skipped.`)
  }
  if (pass.impossible > 0) {
    warnings.push(`${pass.impossible} date(s) are not valid calendar dates with the detected day/month order.`)
  }
  // Export cap: WhatsApp exports only the latest 40,000 messages without media, 10,000 with media.
  // Heuristic: the entry count equals a cap, or is within 2% below one while the file does not begin
  // at the chat's origin (the encryption notice or the group's creation).
  const startsAtOrigin = columns.kind[0] === SYSTEM_KIND &&
    ORIGIN.test(text.slice(columns.textStart[0]!, columns.textEnd[0]!))
  const entries = columns.count
  for (const cap of EXPORT_CAPS) {
    if (entries === cap || count === cap || (entries <= cap && entries >= cap * 0.98 && !startsAtOrigin)) {
      warnings.push(
        `The export holds about ${cap.toLocaleString("en-US")} entries, WhatsApp's export limit ${cap === 10_000 ? "with" : "without"} media; older messages are probably missing.`
      )
      break
    }
  }

  const report: ParseReport = {
    format: describeFormat(shape, dayFirst),
    shape: shapeName(shape),
    dayFirst,
    dayFirstConfidence: confidence,
    messages: count,
    systemEvents,
    media,
    deleted,
    edited,
    participants,
    unreadableLines: pass.unreadable,
    unreadableSamples: pass.samples,
    firstMessageAt: firstAt,
    lastMessageAt: lastAt,
    warnings
  }
  return { _tag: "Parsed", chat: { columns, report } }
}

const shapeName = (shape: Shape): HeaderShape =>
  shape.bracket ? "ios-bracketed" : shape.terminator === "-" ? "android-dash" : "other"

/** E.g. "[d/m/yy, H:MM:SS] (ios-bracketed)" or "m/d/yyyy, H:MM AM/PM - (android-dash)". */
const describeFormat = (shape: Shape, dayFirst: boolean): string => {
  const year = shape.fourDigitYear ? "yyyy" : "yy"
  const [first, second] = dayFirst ? ["d", "m"] : ["m", "d"]
  const fields = shape.yearPos === 0 ? [year, first, second] : shape.yearPos === 1 ? [first, year, second] : [first, second, year]
  let time = `H${shape.timeSep}MM${shape.seconds ? `${shape.timeSep}SS` : ""}`
  if (shape.ampm === "prefix") time = `AM/PM ${time}`
  if (shape.ampm === "suffix") time = `${time} AM/PM`
  const stamp = `${fields.join(shape.dateSep)}, ${time}`
  const written = shape.bracket
    ? `[${stamp}]`
    : shape.terminator === "-"
    ? `${stamp} -`
    : shape.terminator === ":"
    ? `${stamp}:`
    : stamp
  return `${written} (${shapeName(shape)})`
}
