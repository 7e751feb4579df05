/**
 * The periods a question can name, as inclusive ranges of days with a label that says exactly which
 * days were counted: a day (`2025-03-05`, `5 March`, `March 5th 2025`, New Year's Day, Christmas...), a
 * month, a season, a year, "last year", and ranges between two of them ("between March and May",
 * "since June", "before 2025"). A month, season or holiday without a year is its latest occurrence that
 * starts on or before the chat's last message.
 */

export interface Period {
  /** Inclusive days, `YYYY-MM-DD`; null for an open end. */
  readonly from: string | null
  readonly to: string | null
  readonly label: string
}

export const months = [
  "january", "february", "march", "april", "may", "june",
  "july", "august", "september", "october", "november", "december"
] as const

/** 1 for "january" ... 12 for "december" (0 for anything else). */
const monthNumber = (name: string | undefined): number => months.findIndex((month) => month === name) + 1

const pad = (n: number) => String(n).padStart(2, "0")
const dayText = (y: number, m: number, d: number) => `${y}-${pad(m)}-${pad(d)}`
const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate()
const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1)

/** The day before or after `day`. */
export const shiftDay = (day: string, by: number): string => {
  const [y, m, d] = day.split("-").map(Number)
  const date = new Date(Date.UTC(y!, m! - 1, d! + by))
  return dayText(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate())
}

/** Easter Sunday of a year (the Gregorian computus). */
const easter = (y: number): readonly [number, number] => {
  const a = y % 19, b = Math.floor(y / 100), c = y % 100, d = Math.floor(b / 4), e = b % 4
  const f = Math.floor((b + 8) / 25), g = Math.floor((b - f + 1) / 3), h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4), k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7, m = Math.floor((a + 11 * h + 22 * l) / 451)
  return [Math.floor((h + l - 7 * m + 114) / 31), ((h + l - 7 * m + 114) % 31) + 1]
}

/** Named days, by how a question writes them, as [name, month and day of a year]. */
const namedDays: ReadonlyArray<readonly [RegExp, string, (y: number) => readonly [number, number]]> = [
  [/new year'?s eve/, "New Year's Eve", () => [12, 31]],
  [/new year'?s(?: day)?/, "New Year's Day", () => [1, 1]],
  [/christmas eve/, "Christmas Eve", () => [12, 24]],
  [/christmas(?: day)?|xmas(?: day)?/, "Christmas Day", () => [12, 25]],
  [/boxing day/, "Boxing Day", () => [12, 26]],
  [/valentine'?s(?: day)?/, "Valentine's Day", () => [2, 14]],
  [/halloween/, "Halloween", () => [10, 31]],
  [/easter(?: sunday)?/, "Easter Sunday", easter]
]

/** First and last month of each season (meteorological, northern hemisphere); winter is December to February. */
const seasons: Readonly<Record<string, readonly [number, number]>> = {
  winter: [12, 2],
  spring: [3, 5],
  summer: [6, 8],
  autumn: [9, 11],
  fall: [9, 11]
}

const monthPattern = months.join("|")
const monthPrepositions = "in|during|of|since|until|till|before|after|from|between|to|and|through|throughout"
const namedPattern = namedDays.map(([re]) => re.source).join("|")
const year = "(?:,? (?:of )?((?:19|20)\\d{2}))?"

/**
 * The forms of one point in time, tried in this order on the question (lower case, accents removed);
 * each yields its range. `latest` picks the year of a date written without one.
 */
export interface PointContext {
  /** `YYYY-MM-DD` of the chat's last message (or today when the chat is empty). */
  readonly latest: string
  /** `YYYY-MM-DD` today, for "last year" and "this month". */
  readonly today: string
}

/** A range; "unknown" for a date that does not exist or cannot be read one way; null for no date after all. */
type Point = Period | "unknown" | null

/** The latest year whose occurrence of (month, day) is on or before `latest`. */
const latestYearOf = (latest: string, month: number, day: number): number => {
  const y = Number(latest.slice(0, 4))
  return dayText(y, month, day) <= latest ? y : y - 1
}

const onDay = (y: number, m: number, d: number, name?: string): Point => {
  if (m < 1 || m > 12 || d < 1 || d > lastDay(y, m)) return "unknown"
  const day = dayText(y, m, d)
  return { from: day, to: day, label: name === undefined ? `on ${day}` : `on ${name} ${y} (${day})` }
}

const inMonth = (y: number, m: number): Period => ({
  from: dayText(y, m, 1),
  to: dayText(y, m, lastDay(y, m)),
  label: `in ${capital(months[m - 1]!)} ${y}`
})

const inYear = (y: number, label = `in ${y}`): Period => ({ from: `${y}-01-01`, to: `${y}-12-31`, label })

/** Each form: its regex (one capture layout) and how a match becomes a range. */
export const pointForms: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray, c: PointContext) => Point]> = [
  [/\b(\d{4})-(\d{2})-(\d{2})\b/, (m) => onDay(Number(m[1]), Number(m[2]), Number(m[3]))],
  [new RegExp(`\\b(${namedPattern})${year}\\b`), (m, c) => {
    const [, name, toDate] = namedDays.find(([re]) => new RegExp(`^(?:${re.source})$`).test(m[1]!))!
    if (m[2] !== undefined) {
      const y = Number(m[2])
      return onDay(y, ...toDate(y), name)
    }
    const thisYear = Number(c.latest.slice(0, 4))
    const y = dayText(thisYear, ...toDate(thisYear)) <= c.latest ? thisYear : thisYear - 1
    return onDay(y, ...toDate(y), name)
  }],
  [new RegExp(`\\b(?:the )?(\\d{1,2})(?:st|nd|rd|th)?(?: of)? (${monthPattern})\\b${year}`), (m, c) => {
    const month = monthNumber(m[2])
    const day = Number(m[1])
    return onDay(m[3] !== undefined ? Number(m[3]) : latestYearOf(c.latest, month, Math.min(day, 28)), month, day)
  }],
  [new RegExp(`\\b(${monthPattern}) (?:the )?(\\d{1,2})(?:st|nd|rd|th)?\\b${year}`), (m, c) => {
    const month = monthNumber(m[1])
    const day = Number(m[2])
    return onDay(m[3] !== undefined ? Number(m[3]) : latestYearOf(c.latest, month, Math.min(day, 28)), month, day)
  }],
  [/\b(last|this) (year|month)\b/, (m, c) => {
    const [y, mo] = [Number(c.today.slice(0, 4)), Number(c.today.slice(5, 7))]
    if (m[2] === "year") return m[1] === "this" ? inYear(y, `this year (${y})`) : inYear(y - 1, `last year (${y - 1})`)
    const [py, pm] = m[1] === "this" ? [y, mo] : mo === 1 ? [y - 1, 12] : [y, mo - 1]
    const month = inMonth(py, pm)
    return { ...month, label: `${m[1]} month (${month.label.slice(3)})` }
  }],
  [new RegExp(`\\b(?:(last|this) )?(spring|summer|autumn|fall|winter)${year}\\b`), (m, c) => {
    const [season, which, written] = [m[2]!, m[1], m[3]]
    // Winter runs from December into the next year, so "winter 2025" is read both ways: only unnamed winters are answered.
    if (season === "winter" && written !== undefined) return "unknown"
    const [first, last] = seasons[season] ?? [12, 2]
    const start = (y: number) => dayText(y, first, 1)
    const end = (y: number) => (last < first ? dayText(y + 1, last, lastDay(y + 1, last)) : dayText(y, last, lastDay(y, last)))
    const latestStarted = (day: string) => Number(day.slice(0, 4)) - (start(Number(day.slice(0, 4))) <= day ? 0 : 1)
    const y = written !== undefined
      ? Number(written)
      : which === "this"
      ? latestStarted(c.today)
      : which === "last"
      ? latestStarted(c.today) - (end(latestStarted(c.today)) < c.today ? 0 : 1)
      : latestStarted(c.latest)
    const name = season === "fall" ? "autumn" : season
    const years = season === "winter" ? `${y}-${String(y + 1).slice(2)}` : `${y}`
    return { from: start(y), to: end(y), label: `in ${name} ${years} (${start(y)} to ${end(y)})` }
  }],
  // "May" is also a verb ("may I ask"): it is the month only after a preposition or before a year.
  [new RegExp(`\\b((?:${monthPrepositions}) )?(${monthPattern})\\b${year}`), (m, c) => {
    if (m[2] === "may" && m[1] === undefined && m[3] === undefined) return null
    const month = monthNumber(m[2])
    return inMonth(m[3] !== undefined ? Number(m[3]) : latestYearOf(c.latest, month, 1), month)
  }],
  [/\b((?:19|20)\d{2})\b/, (m) => inYear(Number(m[1]))]
]

/** The first and last day of a month written `YYYY-MM`. */
export const monthDays = (month: string): { readonly from: string; readonly to: string } => {
  const [y, m] = month.split("-").map(Number)
  return { from: dayText(y!, m!, 1), to: dayText(y!, m!, lastDay(y!, m!)) }
}

/** A range from the start of one point to the end of another, labelled by both. */
export const between = (a: Period, b: Period): Period | "unknown" =>
  a.from === null || b.to === null || a.from > b.to
    ? "unknown"
    : { from: a.from, to: b.to, label: `from ${a.from} to ${b.to}` }

export const since = (a: Period, inclusive: boolean): Period => {
  const from = inclusive ? a.from : a.to === null ? null : shiftDay(a.to, 1)
  return { from, to: null, label: `from ${from} on` }
}

export const until = (a: Period, inclusive: boolean): Period => {
  const to = inclusive ? a.to : a.from === null ? null : shiftDay(a.from, -1)
  return { from: null, to, label: `up to ${to}` }
}

/** How an answer names a range given as days (for calls that did not come with a label). */
export const periodLabel = (from: string | null, to: string | null): string => {
  if (from === null && to === null) return "in this chat"
  if (from === null) return `up to ${to}`
  if (to === null) return `from ${from} on`
  if (from === to) return `on ${from}`
  const [fy, fm, fd] = from.split("-").map(Number)
  const [ty, tm, td] = to.split("-").map(Number)
  if (fy === ty && fm === 1 && fd === 1 && tm === 12 && td === 31) return `in ${fy}`
  if (fy === ty && fm === tm && fd === 1 && td === lastDay(ty!, tm!)) return inMonth(fy!, fm!).label
  return `from ${from} to ${to}`
}
