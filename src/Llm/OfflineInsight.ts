/**
 * Insight reports without a language model: findings written from the chat's exact statistics (whichever
 * the type is about: who starts conversations, reply times, activity, message style, streaks and
 * silences, balance) and from the evidence messages that best match the type's queries, each finding
 * citing evidence messages. Deterministic, and marked offline.
 */
import type { ContextMessage, InsightReport, InsightRequest, ReportFinding } from "../Llm.js"
import type { ChatStatistics, ParticipantStatistics } from "../Domain/Statistics.js"
import type { Confidence } from "../Domain/Insights.js"
import { rankMessages } from "./Ranking.js"
import { shortTime } from "./Prompts.js"
import { plural } from "../Words.js"

type Aspect = "initiative" | "balance" | "rhythm" | "activity" | "style" | "silences"

/** What each type's offline report is built from; a type not listed gets balance and activity. */
const aspectsOf: Readonly<Record<string, ReadonlyArray<Aspect>>> = {
  "who-reaches-out": ["initiative", "balance", "silences"],
  "power-balance": ["balance", "initiative"],
  "reciprocity": ["balance", "rhythm", "style"],
  "closeness-over-time": ["activity", "silences"],
  "response-rhythm": ["rhythm", "activity"],
  "message-style": ["style", "balance"],
  "questions-and-curiosity": ["balance", "rhythm"],
  "what-goes-unsaid": ["rhythm", "silences"],
  "personality-snapshot": ["style", "activity"],
  "chat-roles": ["initiative", "balance", "style"],
  "check-ins": ["initiative", "silences"],
  "teasing-balance": ["balance", "style"],
  "everyday-logistics": ["activity", "rhythm"],
  "shared-memories": ["activity", "silences"]
}

const weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


/** Seconds as people read them, with the exact figure kept beside it. */
const duration = (seconds: number): string => {
  const rounded = Math.round(seconds)
  const human = rounded < 90
    ? plural(rounded, "second")
    : rounded < 5400
    ? plural(Math.round(rounded / 60), "minute")
    : rounded < 172_800
    ? plural(Math.round(rounded / 3600), "hour")
    : plural(Math.round(rounded / 86_400), "day")
  return `${human} (${seconds} s)`
}

const busiest = (counts: ReadonlyArray<number>): number =>
  counts.reduce((best, count, index) => count > (counts[best] ?? 0) ? index : best, 0)

/** The evidence messages of `author`, or all of them when that author has none. */
const byAuthor = (evidence: ReadonlyArray<ContextMessage>, author: string | undefined, n = 2): ReadonlyArray<string> => {
  const own = evidence.filter((message) => message.author === author)
  return (own.length > 0 ? own : evidence).slice(0, n).map((message) => message.messageId)
}

/** The evidence message written nearest to a wall-clock time (`YYYY-MM-DDTHH:MM:SS` sorts as it reads). */
const nearest = (evidence: ReadonlyArray<ContextMessage>, at: string): ReadonlyArray<string> => {
  const distance = (sentAt: string) => Math.abs(Date.parse(`${sentAt}Z`) - Date.parse(`${at}Z`))
  const best = [...evidence].sort((a, b) => distance(a.sentAt) - distance(b.sentAt))[0]
  return best === undefined ? [] : [best.messageId]
}

const finding = (title: string, detail: string, cited: ReadonlyArray<string>): ReadonlyArray<ReportFinding> =>
  cited.length === 0 ? [] : [{ title, detail, citedMessageIds: [...new Set(cited)] }]

const people = (stats: ChatStatistics): ReadonlyArray<ParticipantStatistics> => stats.participants

const aspectFindings = (aspect: Aspect, stats: ChatStatistics, evidence: ReadonlyArray<ContextMessage>) => {
  const participants = people(stats)
  const top = participants[0]
  switch (aspect) {
    case "initiative": {
      const starters = [...participants].sort((a, b) => b.conversations_started - a.conversations_started)
      const lead = starters[0]
      if (lead === undefined) return []
      const parts = starters.map((p) => `${p.name} started ${p.conversations_started}`)
      return finding(
        "Who opens conversations",
        `Of ${plural(stats.totals.conversations, "conversation")}, ${parts.join(", ")}. ` +
          `Messages sent again before an answer (double texts): ${starters.map((p) => `${p.name} ${p.double_texts}`).join(", ")}.`,
        byAuthor(evidence, lead.name)
      )
    }
    case "balance": {
      if (top === undefined) return []
      const parts = participants.map((p) => `${p.name} sent ${plural(p.messages, "message")} (${plural(p.words, "word")})`)
      return finding(
        "How the talking is shared",
        `Of ${plural(stats.totals.messages, "message")} in all, ${parts.join("; ")}.`,
        participants.flatMap((p) => byAuthor(evidence, p.name, 1))
      )
    }
    case "rhythm": {
      const timed = participants.filter((p) => p.response_times.replies.median_seconds !== null)
      if (timed.length === 0) return []
      const parts = timed.map((p) =>
        `${p.name} typically replies in ${duration(p.response_times.replies.median_seconds ?? 0)} ` +
        `over ${plural(p.response_times.replies.count, "reply", "replies")}`
      )
      return finding("How quickly replies come", `${parts.join("; ")}.`, timed.flatMap((p) => byAuthor(evidence, p.name, 1)))
    }
    case "activity": {
      const hour = busiest(stats.totals.activity.by_hour)
      const day = busiest(stats.totals.activity.by_weekday)
      const first = stats.timeline[0]
      const last = stats.timeline[stats.timeline.length - 1]
      if (first === undefined || last === undefined) return []
      return finding(
        "When the chat is alive",
        `Messages were written on ${plural(stats.timeline.length, "day")} between ${first.date} and ${last.date}. ` +
          `The busiest hour is ${String(hour).padStart(2, "0")}:00 (${plural(stats.totals.activity.by_hour[hour] ?? 0, "message")}) ` +
          `and the busiest weekday ${weekdays[day]} (${plural(stats.totals.activity.by_weekday[day] ?? 0, "message")}).`,
        [...nearest(evidence, `${first.date}T00:00:00`), ...nearest(evidence, `${last.date}T23:59:59`)]
      )
    }
    case "style": {
      if (top === undefined) return []
      const parts = participants.map((p) => {
        const emoji = p.top_emoji.slice(0, 3).map((e) => `${e.emoji} ${e.count}`).join(" ")
        return `${p.name}: ${plural(p.words, "word")} in ${plural(p.messages, "message")}, ${p.media} media, ` +
          `${p.links} links${emoji === "" ? "" : `, favourite emoji ${emoji}`}`
      })
      return finding("How each person writes", `${parts.join("; ")}.`, participants.flatMap((p) => byAuthor(evidence, p.name, 1)))
    }
    case "silences": {
      const out: Array<ReportFinding> = []
      if (stats.longest_silence !== null) {
        out.push(...finding(
          "The longest silence",
          `The longest gap lasted ${duration(stats.longest_silence.seconds)}, from ${shortTime(stats.longest_silence.from)} ` +
            `to ${shortTime(stats.longest_silence.to)}.`,
          nearest(evidence, stats.longest_silence.to)
        ))
      }
      if (stats.longest_streak !== null) {
        out.push(...finding(
          "The longest streak",
          `The chat was active ${plural(stats.longest_streak.days, "day")} in a row, from ${stats.longest_streak.from} to ${stats.longest_streak.to}.`,
          nearest(evidence, `${stats.longest_streak.from}T12:00:00`)
        ))
      }
      return out
    }
  }
}

/** The best evidence messages for the type's queries, quoted briefly. */
const evidenceFinding = (input: InsightRequest): ReadonlyArray<ReportFinding> => {
  const ranked = rankMessages(input.queries.join(" "), input.evidence).filter(({ score }) => score > 0).slice(0, 3)
  if (ranked.length === 0) return []
  const quotes = ranked.map(({ message }) => {
    const text = message.text.replace(/\s+/g, " ").trim()
    return `${message.author ?? "Someone"} (${shortTime(message.sentAt)}): "${text.length > 160 ? `${text.slice(0, 159)}…` : text}"`
  })
  return finding(`Moments that speak to ${input.name.toLowerCase()}`, quotes.join(" "), ranked.map(({ message }) => message.messageId))
}

const confidenceOf = (stats: ChatStatistics, evidence: number): Confidence =>
  stats.totals.messages < 50 || evidence < 10 ? "low" : stats.totals.messages < 1000 ? "medium" : "high"

/** The offline report of one insight type. */
export const offlineReport = (input: InsightRequest): InsightReport => {
  const stats = input.statistics
  const aspects = aspectsOf[input.typeId] ?? ["balance", "activity"]
  const findings = [...aspects.flatMap((aspect) => aspectFindings(aspect, stats, input.evidence)), ...evidenceFinding(input)]
  const span = stats.first_message !== null && stats.last_message !== null
    ? ` between ${shortTime(stats.first_message.at)} and ${shortTime(stats.last_message.at)}`
    : ""
  return {
    summary: `${input.name}: read from the exact statistics of ${plural(stats.totals.messages, "message")} by ` +
      `${stats.totals.participants} ${stats.totals.participants === 1 ? "person" : "people"}${span}, and from ` +
      `${plural(input.evidence.length, "message")} chosen for this topic. Offline report: no language model is ` +
      "configured, so the findings are the figures and quotes themselves, without interpretation.",
    findings,
    confidence: confidenceOf(stats, input.evidence.length),
    mode: "offline",
    model: "offline",
    tokens: { prompt: 0, output: 0 }
  }
}
