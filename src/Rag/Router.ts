/**
 * Questions that have an exact answer in the database (how many messages, first and last message) are
 * recognised here and answered by SQL rather than guessed by a model; everything else goes to retrieval.
 */

export type ExactQuestion =
  | {
    readonly kind: "count"
    readonly author: string | null
    /** Inclusive wall-clock range `YYYY-MM-DD HH:MM:SS`, or null for the whole chat. */
    readonly range: { readonly from: string; readonly to: string; readonly label: string } | null
  }
  | { readonly kind: "first" | "last"; readonly author: string | null }

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
  if (/\bhow many messages\b/.test(lower) && !aboutContent) {
    return { kind: "count", author: participantIn(question, participants), range: rangeIn(question, latestYear) }
  }
  if (aboutContent) return null
  if (/\b(first|earliest) message\b/.test(lower)) return { kind: "first", author: participantIn(question, participants) }
  if (/\b(last|latest|most recent) message\b/.test(lower)) return { kind: "last", author: participantIn(question, participants) }
  return null
}
