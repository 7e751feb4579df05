/**
 * Finds and inflates the chat text of a zipped WhatsApp export, in memory, refusing archives that are
 * corrupt, hold no chat, or would unpack to far more than they weigh (zip bombs).
 */
import { Effect } from "effect"
import yauzl from "yauzl"
import { refusal, type Refusal } from "./Refusal.js"
import { formatBytes } from "../Domain/Size.js"

export interface ZipLimits {
  /** Largest chat text accepted, in bytes once inflated. */
  readonly maxChatBytes: number
  /** Largest sum of the declared uncompressed sizes of all entries. */
  readonly maxTotalUncompressed: number
  /** Most entries an archive may have (a media export has one per photo, video, voice note...). */
  readonly maxEntries: number
  /** Highest uncompressed/compressed ratio for the chat entry; text rarely passes 20. */
  readonly maxRatio: number
}

export const defaultZipLimits: ZipLimits = {
  maxChatBytes: 100 * 1024 * 1024,
  maxTotalUncompressed: 2 * 1024 * 1024 * 1024,
  maxEntries: 50_000,
  maxRatio: 100
}

export interface ZipChat {
  /** The entry's path in the archive. */
  readonly name: string
  readonly bytes: Uint8Array
  /** The names (without folders) of the archive's other files: the attachments. Not read, only named. */
  readonly files: ReadonlyArray<string>
}

/** Whether an entry is a file of the export: not a folder, nor macOS metadata (`__MACOSX/`, `._*`). */
const isExportFile = (name: string): boolean =>
  !name.endsWith("/") && !name.startsWith("__MACOSX/") && !baseName(name).startsWith("._")

export interface ZipEntryInfo {
  readonly name: string
  readonly compressedSize: number
  readonly uncompressedSize: number
}

/** Zip archives start with a local file header, or with the end record when empty. */
export const looksLikeZip = (bytes: Uint8Array): boolean =>
  bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b &&
  ((bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06))

const baseName = (path: string): string => path.slice(path.lastIndexOf("/") + 1)

// "WhatsApp Chat with X.txt", "WhatsApp Chat mit X.txt", "Chat de WhatsApp con X.txt",
// "Discussion WhatsApp avec X.txt", "Conversa do WhatsApp com X.txt"...: all name WhatsApp.
const NAMED_CHAT = /whatsapp/i

/**
 * Picks the chat among the entries: `_chat.txt` or a file named after WhatsApp (top level first,
 * then the largest), failing those the single or largest `.txt` at the top level. Media, folders and
 * macOS metadata (`__MACOSX/`, `._*`) are ignored. Null when there is no chat.
 */
export const pickChatEntry = <E extends ZipEntryInfo>(entries: ReadonlyArray<E>): E | null => {
  const texts = entries.filter((e) => isExportFile(e.name) && baseName(e.name).toLowerCase().endsWith(".txt"))
  const depth = (e: E): number => e.name.split("/").length
  const byPreference = (a: E, b: E): number => depth(a) - depth(b) || b.uncompressedSize - a.uncompressedSize
  const named = texts.filter((e) => baseName(e.name) === "_chat.txt" || NAMED_CHAT.test(baseName(e.name)))
  if (named.length > 0) return [...named].sort(byPreference)[0] ?? null
  const topLevel = texts.filter((e) => !e.name.includes("/"))
  return [...topLevel].sort(byPreference)[0] ?? null
}

const mb = formatBytes

/**
 * Reads the chat text out of a zip export held in memory. Declared sizes from the central directory
 * are checked before anything is inflated, and the inflated bytes are counted while streaming, so a
 * lying header cannot push past the limits either.
 */
export const readChatFromZip = (
  bytes: Uint8Array,
  limits: Partial<ZipLimits> = {}
): Effect.Effect<ZipChat, Refusal> => {
  const { maxChatBytes, maxEntries, maxRatio, maxTotalUncompressed } = { ...defaultZipLimits, ...limits }
  return Effect.async<ZipChat, Refusal>((resume) => {
    let open: yauzl.ZipFile | null = null
    let done = false
    const finish = (outcome: Effect.Effect<ZipChat, Refusal>): void => {
      if (done) return
      done = true
      if (open !== null && open.isOpen) open.close()
      resume(outcome)
    }
    const refuse = (reason: Refusal["reason"], message: string): void => finish(Effect.fail(refusal(reason, message)))
    const corrupt = (): void =>
      refuse("corrupt-zip", "The zip file is damaged or incomplete (perhaps the upload was cut short); export the chat again.")
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    yauzl.fromBuffer(
      buffer,
      { lazyEntries: true, validateEntrySizes: true, decodeStrings: true, strictFileNames: false, autoClose: false },
      (error, zipfile) => {
        if (error !== null || zipfile === undefined) return corrupt()
        open = zipfile
        if (zipfile.entryCount > maxEntries) {
          return refuse("zip-bomb", `The zip file has ${zipfile.entryCount} entries; at most ${maxEntries} are accepted.`)
        }
        const entries: Array<ZipEntryInfo & { readonly entry: yauzl.Entry }> = []
        let total = 0
        zipfile.on("error", () => corrupt())
        zipfile.on("entry", (entry: yauzl.Entry) => {
          if (done) return
          total += entry.uncompressedSize
          if (total > maxTotalUncompressed) {
            return refuse(
              "zip-bomb",
              `The zip file would unpack to more than ${mb(maxTotalUncompressed)}; it is not a chat export we accept.`
            )
          }
          entries.push({
            name: entry.fileName,
            compressedSize: entry.compressedSize,
            uncompressedSize: entry.uncompressedSize,
            entry
          })
          zipfile.readEntry()
        })
        zipfile.on("end", () => {
          if (done) return
          const chosen = pickChatEntry(entries)
          if (chosen === null) {
            return refuse(
              "no-chat-file",
              "The zip file holds no chat text (no _chat.txt or \"WhatsApp Chat with ...\" .txt file); it may contain only media."
            )
          }
          if (chosen.uncompressedSize > maxChatBytes) {
            return refuse("too-large", `The chat in the zip file is ${mb(chosen.uncompressedSize)}; the limit is ${mb(maxChatBytes)}.`)
          }
          const ratio = chosen.uncompressedSize / Math.max(chosen.compressedSize, 1)
          if (chosen.uncompressedSize > 1024 * 1024 && ratio > maxRatio) {
            return refuse(
              "zip-bomb",
              `The chat in the zip file is compressed ${Math.round(ratio)} to 1, far more than any real chat; it was not unpacked.`
            )
          }
          zipfile.openReadStream(chosen.entry, (streamError, stream) => {
            if (streamError !== null) return corrupt()
            const chunks: Array<Buffer> = []
            let inflated = 0
            stream.on("data", (chunk: Buffer) => {
              if (done) return
              inflated += chunk.length
              // yauzl checks the declared size too; this also holds when a header lies about it.
              if (inflated > maxChatBytes || inflated > chosen.uncompressedSize) {
                stream.destroy()
                return refuse("zip-bomb", "The chat in the zip file unpacks to more than its header declares; it was not read.")
              }
              chunks.push(chunk)
            })
            stream.on("error", () => corrupt())
            stream.on("end", () => {
              const data = Buffer.concat(chunks, inflated)
              finish(Effect.succeed({
                name: chosen.name,
                bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
                files: entries.filter((e) => e !== chosen && isExportFile(e.name)).map((e) => baseName(e.name))
              }))
            })
          })
        })
        zipfile.readEntry()
      }
    )
    return Effect.sync(() => {
      done = true
      if (open !== null && open.isOpen) open.close()
    })
  })
}
