/**
 * The offline question router: a question with an exact answer in the database becomes one chat tool
 * call (see ChatTools.ts); everything else goes to retrieval. A question is routed only when every part
 * of it is understood: each filter it names (a person, a period, a kind, a word) is taken out of the
 * question as it is mapped, and whatever is left must be words that change nothing ("how many", "did we",
 * "in the chat"). A question with any other word left ("on Mondays", "per day", "calls", "I") goes to
 * retrieval rather than being answered as a different question with that part dropped.
 */
import type { KindFilter, ToolCall } from "./ChatTools.js"
import { namesOf } from "./ChatToolsNames.js"
import { between, type Period, pointForms, since, until } from "./ChatToolsPeriods.js"

export interface RouterContext {
  readonly participants: ReadonlyArray<string>
  /** Nicknames the chat uses (lower case to participant), see ChatToolsNames.ts. */
  readonly nicknames: ReadonlyMap<string, string>
  /** `YYYY-MM-DD` of the chat's last message: a month or holiday without a year is its latest one by then. */
  readonly latest: string
  /** `YYYY-MM-DD` today, for "last year" and "this month". */
  readonly today: string
}

/** A routed question: the call, and how its answer names the period (null: from the call's days). */
export interface Routed {
  readonly call: ToolCall
  readonly period: string | null
}

/** Words a kind is written with, longest forms first. Media kinds are those `messages.media_kind` stores. */
const kindWords: ReadonlyArray<readonly [string, KindFilter]> = [
  ["voice notes?|voice messages?|voice memos?|voice clips?|voicenotes?|audio messages?|audio notes?", "voice"],
  ["photos?|pictures?|pics|images?|selfies?", "image"],
  ["videos?|video clips?", "video"],
  ["stickers?", "sticker"],
  ["gifs?", "gif"],
  ["documents?|docs|pdfs?", "document"],
  ["contact cards?|contacts? shared|shared contacts?", "contact"],
  ["locations?", "location"],
  ["polls?", "poll"],
  ["audio files?|audios?", "audio"],
  ["links?|urls?", "links"],
  ["media(?: messages?| files?)?|attachments?", "media"],
  ["deleted|delete|deletes|deleting", "deleted"],
  ["edited|edit|edits|editing", "edited"]
]

/** Words that mean nothing for the answer, in any question the router takes. */
const fillers = new Set(
  ("a an the all any in on at of for by from with to and or over during throughout across within " +
    "did do does done doing were was are is be been being have has had there this that these those " +
    "we us our ours everyone everybody anyone anybody someone somebody people together group chat whole entire " +
    "conversation ever so far overall altogether exactly total messages message texts text sent send sending sends " +
    "wrote write written writes writing posted post posts posting texted shared share shares sharing got get gets " +
    "very s ' whats what's what which").split(" ")
)

const talkVerbs = ("talk talks talked talking speak speaks spoke speaking chat chats chatted chatting discuss discussed " +
  "discussing bring brought up come came times").split(" ")

/** Fillers that only make sense in one kind of question. */
const intentFillers: Readonly<Record<string, string>> = {
  count: "how many much often times number count",
  rank: "who whom whose most least fewest often active person participant member talks talked talk chats chatted " +
    "chatting talking chat messages",
  find: "first last earliest latest recent most when who time thing said say says came come up one her his their",
  busiest: "busiest most active day date hour month time when had have with biggest chatted chat talked talk " +
    "talking chatting messages",
  silence: "longest long silence gap pause break quiet time period stretch without went go gone nobody no one " +
    "talking talked messaging messages any between when how spell",
  reply: "who replies reply replied replying responds respond responded responding response answers answer " +
    "answered answering back get gets fastest quickest slowest fast quick quickly slow slowly median typical " +
    "typically usual usually time times takes take long longest shortest to how most least"
}

const normalise = (question: string): string =>
  question
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(/[’‘`´]/g, "'")
    .replace(/[“”«»]/g, "\"")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim()

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Where a mentioned term stops: a filter's own word, a verb of the question, or punctuation. */
const termStop = new Set(
  ("in on at during over between since until till before after from by last this with and or but first " +
    "did do does was were is are has have had send sent sends wrote write writes most least fewest more " +
    "than who when how").split(" ")
)
const determiners = new Set("the a an our my your his her their its".split(" "))
/** Terms too vague to count: they stand for something said elsewhere. */
const vagueTerms = new Set("it that this them him her anything something stuff things thing what".split(" "))

/** A mentioned term cut to its words (at most four), or null when it is empty or vague. */
const termOf = (raw: string): string | null => {
  const words: Array<string> = []
  for (const word of raw.split(" ")) {
    if (word === "" || word === "§") break
    const clean = word.replace(/^['"]+|['",.!?;:]+$/g, "")
    if (clean === "" || termStop.has(clean)) break
    words.push(clean)
    if (/[,.!?;:]$/.test(word)) break
  }
  while (words.length > 0 && determiners.has(words[0]!)) words.shift()
  while (words.length > 0 && determiners.has(words[words.length - 1]!)) words.pop()
  if (words.length === 0 || words.length > 4 || words.some((w) => vagueTerms.has(w))) return null
  return words.join(" ")
}

const mentionVerbs = "mention|mentions|mentioned|mentioning|contain|contains|containing|include|includes|including|" +
  "say|says|said|saying|with the words?|the words?|about|regarding"
const passiveVerbs = "come up|came up|comes up|mentioned|brought up|discussed|talked about"

/**
 * Recognises a question with an exact answer. Returns null when the question is not one, or when any
 * part of it cannot be mapped.
 */
export const routeQuestion = (question: string, context: RouterContext): Routed | null => {
  let rest = ` ${normalise(question).replace(/[?!]+$/g, "")} `
  const take = (re: RegExp): RegExpExecArray | null => {
    const match = re.exec(rest)
    if (match !== null) rest = `${rest.slice(0, match.index)} § ${rest.slice(match.index + match[0].length)}`.replace(/ +/g, " ")
    return match
  }

  // Preambles that only ask politely.
  take(/\b(?:can|could|would) you (?:please )?(?:tell|show|give) me\b/)
  take(/\b(?:tell|show|give) me\b|\b(?:do you know|i (?:want|would like|'d like) to know|i wonder)\b/)
  take(/,? (?:if )?(?:i )?may i ask\b/)

  // The word or phrase the messages must contain: quoted, else after a verb of saying, else before "come up".
  let mentions: string | null = null
  const quoted = take(/"([^"]{1,80})"|(?:^| )'([^']{1,80})'(?= |$)/)
  if (quoted !== null) {
    mentions = (quoted[1] ?? quoted[2] ?? "").trim()
    take(new RegExp(`\\b(?:${mentionVerbs})(?= § )`))
  }
  const saying = new RegExp(`\\b(?:${mentionVerbs}) ((?:[^ §]+ ?){1,8})`).exec(rest)
  if (mentions === null && saying !== null) {
    const term = termOf(saying[1]!)
    if (term !== null) {
      mentions = term
      const said = new RegExp(`\\b(?:${mentionVerbs}) (?:(?:${[...determiners].join("|")}) )*${escape(term)}(?='s\\b|\\b)`)
      rest = rest.replace(said, " § ")
    }
  }
  const passive = new RegExp(
    `\\b(?:did|was|were|has|have|had|is|are) ((?:[^ §]+ ){1,5}?)(?:(?:first|last|ever|been|most|least) )*(?:${passiveVerbs})\\b`
  ).exec(rest)
  if (mentions === null && passive !== null) {
    const term = termOf(passive[1]!)
    if (term !== null && term.split(" ").length === passive[1]!.trim().split(" ").filter((w) => !determiners.has(w)).length) {
      mentions = term
      rest = rest.replace(passive[1]!, " § ").replace(new RegExp(`\\b(?:${passiveVerbs})\\b`), " ")
    }
  }
  if (mentions !== null && mentions.trim() === "") return null

  // Periods: each point becomes a placeholder, then ranges between placeholders are read.
  const latest = context.latest
  const points: Array<Period> = []
  for (const [form, read] of pointForms) {
    const all = new RegExp(form.source, "g")
    for (let match = all.exec(rest); match !== null; match = all.exec(rest)) {
      const point = read(match, { latest, today: context.today })
      if (point === "unknown") return null
      if (point === null) continue
      points.push(point)
      const prefix = /^ ?(?:in|during|of|since|until|till|before|after|from|between|to|and|through|throughout) /.exec(match[0])?.[0] ?? ""
      const placeholder = `${prefix} «${points.length - 1}» `
      rest = `${rest.slice(0, match.index)}${placeholder}${rest.slice(match.index + match[0].length)}`
      all.lastIndex = match.index + placeholder.length
    }
  }
  rest = rest.replace(/ +/g, " ")
  let period: Period | null = null
  const ranges: ReadonlyArray<readonly [RegExp, (a: Period, b: Period) => Period | "unknown"]> = [
    [/\bbetween «(\d+)» and «(\d+)»/, between],
    [/\bfrom «(\d+)» (?:to|until|till|through|and) «(\d+)»/, between],
    [/«(\d+)» (?:to|until|till|through) «(\d+)»/, between]
  ]
  for (const [form, combine] of ranges) {
    const match = take(form)
    if (match !== null) {
      const range = combine(points[Number(match[1])]!, points[Number(match[2])]!)
      if (range === "unknown" || period !== null) return null
      period = range
    }
  }
  const open: ReadonlyArray<readonly [RegExp, (a: Period) => Period]> = [
    [/\b(?:since|from) «(\d+)»/, (a) => since(a, true)],
    [/\bafter «(\d+)»/, (a) => since(a, false)],
    [/\b(?:until|till|through|up to) «(\d+)»/, (a) => until(a, true)],
    [/\bbefore «(\d+)»/, (a) => until(a, false)],
    [/(?:\b(?:in|on|during|over|for|of|throughout|across|at) (?:the )?)?«(\d+)»/, (a) => a]
  ]
  for (const [form, read] of open) {
    for (let match = take(form); match !== null; match = take(form)) {
      if (period !== null) return null
      period = read(points[Number(match[1])]!)
    }
  }

  // The kind of message.
  let kind: KindFilter | null = null
  for (const [words, named] of kindWords) {
    for (let match = take(new RegExp(`\\b(?:${words})\\b`)); match !== null; match = take(new RegExp(`\\b(?:${words})\\b`))) {
      if (kind !== null && kind !== named) return null
      kind = named
    }
  }

  // The person: one participant, however written, possibly possessive.
  let author: string | null = null
  for (const [written, participant] of namesOf(context.participants, context.nicknames)) {
    const form = new RegExp(`(^|[^\\p{L}\\p{N}])${escape(written)}(?:'s|s')?(?=$|[^\\p{L}\\p{N}])`, "u")
    for (let match = take(form); match !== null; match = take(form)) {
      if (author !== null && author !== participant) return null
      author = participant
    }
  }

  const intent = /\b(?:repl(?:y|ies|ied|ying)|respon(?:d|ds|ded|ding|se)|answers?|get back)\b/.test(rest) &&
      /\b(?:fastest|quickest|slowest|fast|quick|quickly|slow|slowly|median|typical|typically|usual|usually|longest|shortest)\b/.test(rest)
    ? "reply"
    : /\blongest\b/.test(rest) && /\b(?:silence|gap|pause|break|quiet|without|went)\b/.test(rest)
    ? "silence"
    : /\bbusiest\b|\bmost active (?:day|date|hour|month|time)\b|\b(?:which|what) (?:day|date|hour|month|time)\b.*\bmost\b/.test(rest)
    ? "busiest"
    : /\bwho\b/.test(rest) && /\b(?:most|least|fewest)\b/.test(rest) && !/\bmost recent\b/.test(rest)
    ? "rank"
    : /\b(?:first|earliest|last|latest|most recent)\b/.test(rest)
    ? "find"
    : /\bhow (?:many|often)\b|\bnumber of\b/.test(rest)
    ? "count"
    : null
  if (intent === null) return null

  const unit = intent === "busiest" ? busiestUnit(rest) : null
  const which = /\b(?:last|latest|most recent)\b/.test(rest) ? "last" : "first"
  const order = /\b(?:least|fewest)\b/.test(rest) ? "fewest" : "most"
  const slowest = /\b(?:slowest|slow|slowly|longest)\b/.test(rest)
  if (intent === "busiest") rest = rest.replace(/\btime of (?:the )?day\b/, " time ")

  const allowed = new Set([
    ...fillers,
    ...intentFillers[intent]!.split(" "),
    // "talk about the wedding" is mentions "wedding": with a term, the verbs around it say nothing more.
    ...(mentions === null ? [] : talkVerbs)
  ])
  const left = (rest.match(/[\p{L}\p{N}']+/gu) ?? []).filter((word) => !allowed.has(word))
  if (left.length > 0) return null

  const days = {
    ...(period === null || period.from === null ? {} : { from: period.from }),
    ...(period === null || period.to === null ? {} : { to: period.to })
  }
  const filters = {
    ...(author === null ? {} : { author }),
    ...days,
    ...(mentions === null ? {} : { mentions }),
    ...(kind === null ? {} : { kind })
  }
  const routed = (call: ToolCall): Routed => ({ call, period: period?.label ?? null })
  switch (intent) {
    case "count":
      return routed({ tool: "count_messages", input: filters })
    case "rank": {
      if (author !== null) return null
      const { author: _, ...withoutAuthor } = filters
      return routed({ tool: "rank_authors", input: { ...withoutAuthor, order } })
    }
    case "find":
      return routed({ tool: "find_message", input: { ...filters, which } })
    case "busiest":
      return unit === null ? null : routed({ tool: "busiest", input: { ...filters, unit } })
    case "silence":
      return author !== null || mentions !== null || kind !== null ? null : routed({ tool: "longest_silence", input: days })
    case "reply":
      return mentions !== null || kind !== null
        ? null
        : routed({ tool: "reply_times", input: { ...days, ...(author === null ? {} : { author }), order: slowest ? "slowest" : "fastest" } })
  }
}

/** The unit a "busiest" question asks for; null when it names none or several. */
const busiestUnit = (rest: string): "day" | "hour" | "month" | null => {
  const units = new Set<"day" | "hour" | "month">()
  if (/\btime of (?:the )?day\b|\bhour\b|\bwhat time\b/.test(rest)) units.add("hour")
  else if (/\b(?:day|date)\b/.test(rest)) units.add("day")
  if (/\bmonth\b/.test(rest)) units.add("month")
  return units.size === 1 ? [...units][0]! : null
}
