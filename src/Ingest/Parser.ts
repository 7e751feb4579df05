/**
 * Reads the text of a WhatsApp chat export into message columns and a report: the header shape is
 * detected once from a sample of the whole file, one pass over the string then accepts only lines of
 * that shape, and the day/month order is settled from what the pass saw.
 */
import { isBlank } from "./ChatText.js"
import type { MessageColumns } from "./Columns.js"
import { detectShape } from "./HeaderFormat.js"
import { runPass, swapDayMonth } from "./Pass.js"
import { refusal, type Refusal } from "./Refusal.js"
import { type DayOrder, type ParserReport, tallyReport } from "./Report.js"

export interface ParseOptions {
  /** Force the day/month order instead of inferring it from the dates. */
  readonly dayFirst?: boolean
}

export interface ParsedChat {
  readonly columns: MessageColumns
  readonly report: ParserReport
}

export interface Parsed {
  readonly _tag: "Parsed"
  readonly chat: ParsedChat
}

export type ParseOutcome = Parsed | Refusal

/**
 * Parses a chat export's text. Pure and synchronous (it will run in a worker thread). The header shape
 * is detected once from a sample of the file; the day/month order from the whole file: a value over 12
 * settles it ("certain"); otherwise the day is the field that changes more often between consecutive
 * messages ("inferred"); otherwise a default by shape ("assumed"); or the caller's `dayFirst`
 * ("override").
 */
export const parseChat = (input: string, options: ParseOptions = {}): ParseOutcome => {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  if (isBlank(text)) return refusal("empty", "The file is empty.")
  // Exports mix CRLF and LF (and old ones use bare CR); one normalisation keeps the pass simple. Whether
  // there is a carriage return at all is found while reading (see `runPass`), not by a scan of its own.
  const outcome = parseText(text, options)
  if (outcome !== null) return outcome
  // Normalised, the text holds no carriage return, so this parse does not give up.
  return parseText(text.replace(/\r\n?/g, "\n"), options) ?? notAChat(NO_HEADER_LINE)
}

const NO_HEADER_LINE =
  "This does not look like a WhatsApp chat export: no line starts with a date and time the way WhatsApp writes them."

const notAChat = (message: string): Refusal => refusal("not-a-chat", message)

/** `parseChat` for a text without a BOM; null when it holds a carriage return. */
const parseText = (text: string, options: ParseOptions): ParseOutcome | null => {
  const detection = detectShape(text)
  if (detection === null) return text.indexOf("\r") === -1 ? notAChat(NO_HEADER_LINE) : null
  const { re, shape } = detection.compiled
  const defaultOrder = (upperAmPm: boolean): boolean =>
    // Year-first dates are y-m-d; "/" with upper-case AM/PM is the United States' m/d/y; else d/m.
    shape.yearPos === 0 ? false : !(shape.dateSep === "/" && upperAmPm)
  const override = options.dayFirst
  const provisional = override ??
    (detection.overA > 0 || detection.overB > 0 ? detection.overA >= detection.overB : defaultOrder(false))
  let pass = runPass(text, shape, re, provisional, override !== undefined)
  if (pass === null) return null
  if (pass.columns.count === 0) return notAChat("This does not look like a WhatsApp chat export: no message headers were found.")

  const warnings: Array<string> = []
  let dayFirst: boolean
  let confidence: DayOrder["confidence"]
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
      const again = runPass(text, shape, re, dayFirst, true)
      if (again === null) return null
      pass = again
    }
  }

  const report = tallyReport(shape, pass, { dayFirst, confidence }, warnings)
  return { _tag: "Parsed", chat: { columns: pass.columns, report } }
}
