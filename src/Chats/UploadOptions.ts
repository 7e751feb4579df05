/**
 * What an upload asks for beside its file: the chat's name (from the file name when none is given,
 * cleaned of paths and control characters) and the options that an identical re-upload cannot apply.
 */
import type { ChatRow } from "../Domain/Chat.js"

export interface UploadOptions {
  readonly displayName?: string | undefined
  readonly dayFirst?: boolean | undefined
  readonly timeZone?: string | undefined
}

/** A name a person can read: no path, no control or bidirectional-override characters, single spaces, at most `max` characters. */
export const cleanText = (text: string, max: number): string =>
  Array.from(
    text
      .replace(/[\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu, " ")
      .replace(/\s+/g, " ")
      .trim()
  ).slice(0, max).join("").trim()

/** The file's own name, without the folders a client may have sent with it. */
export const fileName = (filename: string): string => cleanText(filename.split(/[\\/]/).pop() ?? "", 255)

/** Display name for an upload that names none: the export's file name without its extension and WhatsApp's prefix. */
export const defaultName = (filename: string, participants: ReadonlyArray<string>): string => {
  const base = cleanText(
    fileName(filename).replace(/\.(txt|zip)$/i, "").replace(/^WhatsApp Chat (with|mit|con|avec|com|-) ?/i, ""),
    100
  )
  const name = base.length > 0 && base !== "_chat" ? base : cleanText(participants.slice(0, 3).join(", "), 100)
  return name.length > 0 ? name : "WhatsApp chat"
}

export const ignorableOptions = ["display_name", "day_first", "timezone"] as const
export type IgnoredOption = (typeof ignorableOptions)[number]

/** The options of a re-upload of a stored chat's file that differ from what the chat was stored with. */
export const ignoredOptions = (chat: ChatRow, options: UploadOptions, defaultTimeZone: string): Array<IgnoredOption> => {
  const differs: Record<IgnoredOption, boolean> = {
    display_name: options.displayName !== undefined && options.displayName !== chat.display_name,
    day_first: options.dayFirst !== undefined && options.dayFirst !== chat.parse_report?.day_first,
    timezone: options.timeZone !== undefined && options.timeZone !== (chat.time_zone ?? defaultTimeZone)
  }
  return ignorableOptions.filter((option) => differs[option])
}

/** What a client is told when options of a re-upload were not applied, and how to apply them. */
export const ignoredNotice = (chatId: string, ignored: ReadonlyArray<IgnoredOption>): string | null =>
  ignored.length === 0
    ? null
    : `This file is already stored as chat ${chatId}, so ${ignored.join(", ")} ${ignored.length === 1 ? "was" : "were"} not applied. ` +
      (ignored.some((option) => option !== "display_name")
        ? `To parse it again with other options, delete the chat (DELETE /api/chats/${chatId}) and upload the file again.`
        : `To rename it, use PUT /api/chats/${chatId}/display-name.`)
