/**
 * Questions that have an exact answer in the database (how many messages, first and last message) are
 * recognised here and answered by SQL rather than guessed by a model; everything else goes to retrieval.
 * A question is answered exactly only when every part of it is understood: one with a qualifier the
 * router cannot map (a weekday, "since March", "voice notes", "per day") goes to retrieval rather than
 * being answered as a different question with that part dropped.
 */

/** The message kinds a count can be limited to, as stored. */
export type CountedKind = "media" | "deleted" | "edited"

export type ExactQuestion =
  | {
    readonly kind: "count"
    readonly author: string | null
    /** Inclusive wall-clock range `YYYY-MM-DD HH:MM:SS`, or null for the whole chat. */
    readonly range: { readonly from: string; readonly to: string; readonly label: string } | null
    /** Only messages of this kind, or of every kind but system events. */
    readonly messageKind: CountedKind | null
  }
  | { readonly kind: "first" | "last"; readonly author: string | null }
  | {
    /** Who sent the most (or fewest) messages, with the same filters a count takes. */
    readonly kind: "rank"
    readonly fewest: boolean
    readonly range: { readonly from: string; readonly to: string; readonly label: string } | null
    readonly messageKind: CountedKind | null
  }

const months = [
  "january", "february", "march", "april", "may", "june",
  "july", "august", "september", "october", "november", "december"
]

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** The participant a question names: the full name, else a unique first name, as a whole word. */
const participantIn = (question: string, participants: ReadonlyArray<string>): string | null => {
  const lower = question.toLowerCase()
  const named = (name: string) => new RegExp(`(^|[^\\p{L}\\p{N}])${escape(name.toLowerCase())}($|[^\\p{L}\\p{N}])`, "u").test(lower)
  const full = participants.find(named)
  if (full !== undefined) return full
  const byFirst = participants.filter((p) => {
    const first = p.split(/\s+/)[0] ?? ""
    return first.length > 1 && named(first)
  })
  return byFirst.length === 1 ? byFirst[0]! : null
}

const pad = (n: number) => String(n).padStart(2, "0")

/** A month (with or without a year) or a year the question names, as an inclusive range. */
const rangeIn = (question: string, latestYear: number | null): { from: string; to: string; label: string } | null => {
  const lower = question.toLowerCase()
  const monthMatch = new RegExp(`(\\b(?:in|during|since|until|of)\\s+)?\\b(${months.join("|")})\\b(?:\\s+(\\d{4}))?`).exec(lower)
  // "May" is also a verb ("may I ask"): it names the month only after "in"-like words or before a year.
  if (monthMatch !== null && (monthMatch[2] !== "may" || monthMatch[1] !== undefined || monthMatch[3] !== undefined)) {
    const month = months.indexOf(monthMatch[2]!) + 1
    const year = monthMatch[3] !== undefined ? Number(monthMatch[3]) : latestYear
    if (year === null) return null
    const last = new Date(Date.UTC(year, month, 0)).getUTCDate()
    const name = monthMatch[2]!.charAt(0).toUpperCase() + monthMatch[2]!.slice(1)
    return { from: `${year}-${pad(month)}-01 00:00:00`, to: `${year}-${pad(month)}-${pad(last)} 23:59:59`, label: `in ${name} ${year}` }
  }
  const yearMatch = /\b(?:in|during)\s+(\d{4})\b/.exec(lower)
  if (yearMatch !== null) {
    const year = Number(yearMatch[1])
    return { from: `${year}-01-01 00:00:00`, to: `${year}-12-31 23:59:59`, label: `in ${year}` }
  }
  return null
}

const monthPattern = months.join("|")

/**
 * A single day the question names (`on 5 March 2024`, `March 5th`, `2024-03-05`, New Year's Day), as a
 * range; none when it names no day, "unknown" when it names one that does not exist or has no year.
 */
const dayIn = (question: string, latestYear: number | null): { from: string; to: string; label: string } | "unknown" | null => {
  const lower = question.toLowerCase()
  const at = (year: number, month: number, day: number) => {
    const last = new Date(Date.UTC(year, month, 0)).getUTCDate()
    if (month < 1 || month > 12 || day < 1 || day > last) return "unknown" as const
    const date = `${year}-${pad(month)}-${pad(day)}`
    return { from: `${date} 00:00:00`, to: `${date} 23:59:59`, label: `on ${date}` }
  }
  const iso = /\b(\d{4})-(\d{2})-(\d{2})\b/.exec(lower)
  if (iso !== null) return at(Number(iso[1]), Number(iso[2]), Number(iso[3]))
  const dayMonth = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?(?:\\s+of)?\\s+(${monthPattern})\\b(?:,?\\s+(\\d{4}))?`).exec(lower)
  const monthDay = new RegExp(`\\b(${monthPattern})\\s+(\\d{1,2})(?:st|nd|rd|th)?\\b(?:,?\\s+(\\d{4}))?`).exec(lower)
  const newYear = /\bnew year'?s day\b(?:\s+(\d{4}))?/.exec(lower)
  const [day, month, year] = dayMonth !== null
    ? [Number(dayMonth[1]), months.indexOf(dayMonth[2]!) + 1, dayMonth[3]]
    : monthDay !== null
    ? [Number(monthDay[2]), months.indexOf(monthDay[1]!) + 1, monthDay[3]]
    : newYear !== null
    ? [1, 1, newYear[1]]
    : [null, null, undefined]
  if (day === null || month === null) return null
  const y = year !== undefined ? Number(year) : latestYear
  return y === null ? "unknown" : at(y, month, day)
}

/** Qualifiers the router cannot map: a question holding one is not answered exactly. */
const unmapped = new RegExp(
  [
    // periods other than a day, a month or a year
    "\\b(?:today|yesterday|tonight|week|weekend|weekends|weekday|weekdays|summer|winter|spring|autumn|christmas|easter|birthday|holiday|holidays)\\b",
    "\\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\\b",
    "\\b(?:morning|afternoon|evening|night|midnight|noon)s?\\b",
    "\\b(?:since|until|till|before|after|between|last|past|recent|recently|ago)\\b",
    `\\bfrom\\s+(?:the\\s+)?(?:${monthPattern}|\\d)`,
    // rates and shares
    "\\b(?:per|average|each|every|percent|percentage)\\b",
    // kinds the chat does not store apart
    "\\b(?:voice|audio|photos?|pictures?|images?|videos?|stickers?|gifs?|documents?|files?|links?|urls?|emojis?|calls?|polls?|locations?)\\b"
  ].join("|")
)

const kindIn = (lower: string): CountedKind | null =>
  /\bedit(?:ed|s)?\b/.test(lower) ? "edited" : /\bdelet(?:e|ed|es)\b/.test(lower) ? "deleted" : /\bmedia\b/.test(lower) ? "media" : null

/**
 * Recognises a question with an exact answer. `latestYear` is the year of the chat's last message,
 * which a month named without a year refers to.
 */
export const routeQuestion = (
  question: string,
  participants: ReadonlyArray<string>,
  latestYear: number | null
): ExactQuestion | null => {
  const lower = question.toLowerCase()
  // "How many messages mention X" asks about content, which only retrieval can weigh.
  const aboutContent = /\b(mention|mentions|mentioned|about|contain|contains|containing|say|said|word|words)\b/.test(lower)
  const counted = /\bhow many (?:(?:edited|deleted|media) )?messages\b/.test(lower)
  const ranked = /\bwho (?:sent|wrote|texted|posted|messaged|talked|writes|sends|talks)\b.*\b(most(?! recent)|least|fewest)\b|\bwho (?:is|was) the (most|least) active\b/
    .exec(lower)
  if ((counted || ranked !== null) && !aboutContent) {
    if (unmapped.test(lower)) return null
    const day = dayIn(question, latestYear)
    if (day === "unknown") return null
    const range = day ?? rangeIn(question, latestYear)
    if (ranked !== null) {
      const fewest = (ranked[1] ?? ranked[2]) !== "most"
      return { kind: "rank", fewest, range, messageKind: kindIn(lower) }
    }
    return { kind: "count", author: participantIn(question, participants), range, messageKind: kindIn(lower) }
  }
  if (aboutContent) return null
  if (/\b(first|earliest) message\b/.test(lower)) return { kind: "first", author: participantIn(question, participants) }
  if (/\b(last|latest|most recent) message\b/.test(lower)) return { kind: "last", author: participantIn(question, participants) }
  return null
}
