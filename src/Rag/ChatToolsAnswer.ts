/**
 * Tool results in words: the answer first, then the filters it applied, as the offline router's answers
 * say them ("Maya Lindqvist sent 42 voice notes in July 2025 (counted exactly from the chat)"), and the
 * same filters described for the model's function responses.
 */
import type { CitedMessage } from "../Domain/Rag.js"
import { plural } from "../Words.js"
import type { KindFilter, MessageFilters } from "./ChatTools.js"
import { months, periodLabel } from "./ChatToolsPeriods.js"

export interface Silence {
  readonly before: CitedMessage
  readonly after: CitedMessage
  readonly seconds: number
}

export interface ReplyTime {
  readonly author: string
  readonly replies: number
  readonly median_seconds: number
}

/** What a tool found; `samples` are the first matching messages, which the answer cites. */
export type ToolResult =
  | { readonly tool: "count_messages"; readonly count: number; readonly unknownMedia: number; readonly samples: ReadonlyArray<CitedMessage> }
  | {
    readonly tool: "rank_authors"
    readonly order: "most" | "fewest"
    readonly ranking: ReadonlyArray<{ readonly author: string; readonly n: number }>
    readonly samples: ReadonlyArray<CitedMessage>
  }
  | { readonly tool: "find_message"; readonly which: "first" | "last"; readonly message: CitedMessage | null }
  | {
    readonly tool: "busiest"
    readonly unit: "day" | "hour" | "month"
    readonly top: ReadonlyArray<{ readonly key: string; readonly n: number }>
    readonly samples: ReadonlyArray<CitedMessage>
  }
  | { readonly tool: "longest_silence"; readonly silence: Silence | null }
  | {
    readonly tool: "reply_times"
    readonly order: "fastest" | "slowest"
    readonly author: string | null
    readonly thresholdMinutes: number
    readonly times: ReadonlyArray<ReplyTime>
  }

const kindNouns: Readonly<Record<KindFilter, readonly [string, string]>> = {
  media: ["media message", "media messages"],
  deleted: ["deleted message", "deleted messages"],
  edited: ["edited message", "edited messages"],
  links: ["message with a link", "messages with a link"],
  voice: ["voice note", "voice notes"],
  image: ["photo", "photos"],
  video: ["video", "videos"],
  audio: ["audio file", "audio files"],
  sticker: ["sticker", "stickers"],
  gif: ["GIF", "GIFs"],
  document: ["document", "documents"],
  contact: ["contact card", "contact cards"],
  location: ["location", "locations"],
  poll: ["poll", "polls"]
}

/** The filters as the answer names them, resolved (the author as stored, the period as labelled). */
export interface Described {
  readonly author: string | null
  readonly kind: KindFilter | null
  readonly mentions: string | null
  /** "in July 2025", "on New Year's Day 2025 (2025-01-01)", "in this chat". */
  readonly when: string
}

export const describe = (filters: MessageFilters, author: string | null, label: string | null): Described => ({
  author,
  kind: filters.kind ?? null,
  mentions: filters.mentions ?? null,
  when: label ?? periodLabel(filters.from ?? null, filters.to ?? null)
})

/** "3 voice notes mentioning "wedding"", or the noun alone for n = null. */
const counted = (d: Described, n: number | null): string => {
  const [one, many] = d.kind === null ? ["message", "messages"] : kindNouns[d.kind]
  const noun = n === null ? many : plural(n, one, many)
  return d.mentions === null ? noun : `${noun} mentioning "${d.mentions}"`
}

/** All filters in one phrase, for answers that put them after the subject. */
export const filterPhrase = (d: Described): string =>
  [counted(d, null), d.author === null ? null : `by ${d.author}`, d.when].filter((part) => part !== null).join(" ")

const exactly = (d: Described) =>
  d.mentions === null
    ? "(counted exactly from the chat)"
    : "(counted exactly from the chat; whole words, ignoring case and accents)"

const at = (sentAt: string) => sentAt.replace("T", " at ").slice(0, 19)
const shortAt = (sentAt: string) => sentAt.replace("T", " ").slice(0, 16)
const quote = (message: CitedMessage) => `"${message.text.replace(/\s+/g, " ").trim()}"`

/** A duration in the two largest units: "3 days 4 hours", "12 minutes", "40 seconds". */
export const duration = (seconds: number): string => {
  const units: ReadonlyArray<readonly [number, string]> = [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]]
  const parts: Array<string> = []
  let left = Math.round(seconds)
  for (const [size, name] of units) {
    const n = Math.floor(left / size)
    if (n > 0 && parts.length < 2) parts.push(plural(n, name))
    if (parts.length > 0 && n === 0) break
    left -= n * size
  }
  return parts.length === 0 ? "0 seconds" : parts.join(" ")
}

const bucket = (unit: "day" | "hour" | "month", key: string): string =>
  unit === "hour"
    ? `${key}:00-${key}:59`
    : unit === "month"
    ? `${months[Number(key.slice(5, 7)) - 1]!.replace(/^./, (c) => c.toUpperCase())} ${key.slice(0, 4)}`
    : key

const names = (authors: ReadonlyArray<string>) =>
  authors.length <= 1 ? authors.join("") : `${authors.slice(0, -1).join(", ")} and ${authors.at(-1)}`

/** The answer to a tool call in words, leading with the answer and stating the filters it applied. */
export const answerText = (result: ToolResult, d: Described): string => {
  switch (result.tool) {
    case "count_messages": {
      const one = result.unknownMedia === 1
      const unknown = result.unknownMedia === 0
        ? ""
        : ` The export does not say what ${plural(result.unknownMedia, "other media message")} under the same filters ` +
          `${one ? "was" : "were"}, so ${one ? "it is" : "they are"} not counted.`
      return `${d.author ?? "Everyone together"} sent ${counted(d, result.count)} ${d.when} ${exactly(d)}.${unknown}`
    }
    case "rank_authors": {
      const [top, ...others] = result.ranking
      if (top === undefined || (top.n === 0 && result.order === "most")) return `Nobody sent any ${filterPhrase(d)}.`
      const tied = result.ranking.filter((row) => row.n === top.n).map((row) => row.author)
      const rest = result.ranking.filter((row) => row.n !== top.n).slice(0, 4).map((row) => `${row.author} ${row.n}`).join(", ")
      const then = rest === "" ? "" : ` (then ${rest})`
      const most = result.order === "most" ? "most" : "fewest"
      return tied.length > 1
        ? `${names(tied)} tied for the ${most} ${counted(d, null)} ${d.when}: ${top.n} each${then} ${exactly(d)}.`
        : `${top.author} sent the ${most} ${counted(d, null)} ${d.when}: ${top.n}${others.length === 0 ? "" : then} ${exactly(d)}.`
    }
    case "find_message": {
      const message = result.message
      const single = counted(d, 1).replace(/^1 /, "")
      const from = d.author === null ? null : `from ${d.author}`
      if (message === null) return `There is no ${[single, from, d.when].filter((part) => part !== null).join(" ")}.`
      const what = [`The ${result.which} ${single}`, from, d.when === "in this chat" ? null : d.when]
        .filter((part) => part !== null).join(" ")
      // A media message without a caption has no text to quote.
      const said = message.text.trim() === "" ? "." : `: ${quote(message)}`
      return `${what} was sent on ${at(message.sent_at)}${message.author === null ? "" : ` by ${message.author}`}${said}`
    }
    case "busiest": {
      const [top, ...others] = result.top
      if (top === undefined) return `There are no ${filterPhrase(d)}.`
      const unit = result.unit === "hour" ? "hour of the day" : result.unit
      const rest = others.map((row) => `${bucket(result.unit, row.key)} with ${row.n}`).join(", ")
      return `The busiest ${unit} for ${filterPhrase(d)} was ${bucket(result.unit, top.key)}, with ${counted(d, top.n)}` +
        `${rest === "" ? "" : ` (then ${rest})`} ${exactly(d)}.`
    }
    case "longest_silence": {
      const s = result.silence
      if (s === null) return `There are fewer than two messages ${d.when}, so there is no silence to measure.`
      return `The longest silence ${d.when} lasted ${duration(s.seconds)}: from ${shortAt(s.before.sent_at)} ` +
        `(${s.before.author ?? "Unknown"}: ${quote(s.before)}) to ${shortAt(s.after.sent_at)} (${s.after.author ?? "Unknown"}: ` +
        `${quote(s.after)}) (measured exactly from the chat).`
    }
    case "reply_times": {
      const rule = `A reply is a message answering someone else's within ${duration(result.thresholdMinutes * 60)}; ` +
        `times are medians, measured exactly from the chat.`
      if (result.author !== null) {
        const own = result.times.find((row) => row.author === result.author)
        return own === undefined
          ? `${result.author} did not reply to anyone ${d.when}. ${rule}`
          : `${result.author}'s median reply time ${d.when} is ${duration(own.median_seconds)}, ` +
            `over ${plural(own.replies, "reply", "replies")}. ${rule}`
      }
      const ordered = result.order === "fastest" ? result.times : [...result.times].reverse()
      const [top, ...others] = ordered
      if (top === undefined) return `Nobody replied to anyone ${d.when}. ${rule}`
      const rest = others.slice(0, 4).map((row) => `${row.author} ${duration(row.median_seconds)}`).join(", ")
      return `${top.author} replies ${result.order} ${d.when}: a median of ${duration(top.median_seconds)} over ` +
        `${plural(top.replies, "reply", "replies")}${rest === "" ? "" : ` (then ${rest})`}. ${rule}`
    }
  }
}
