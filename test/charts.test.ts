/**
 * The charts on a chat made by a generator: every number a chart carries (its marks' data attributes
 * and its text summary) equals the statistics it is drawn from; the chart statistics computed at
 * upload agree with the counts beside them; every chart is well-formed, titled and described; and
 * the palette's contrast against the background is what WCAG asks of text and of graphics.
 */
import { describe, expect, it } from "@effect/vitest"
import { Resvg } from "@resvg/resvg-js"
import { contrast, drawChart, heatRamp, palette } from "../src/Charts.js"
import { anonymise } from "../src/Chats.js"
import { chartKinds } from "../src/Domain/Charts.js"
import type { ChatStatistics } from "../src/Domain/Statistics.js"
import { responseTimeBounds, withChartStatistics } from "../src/Ingest/ChartStatistics.js"
import { columnSource } from "../src/Ingest/Columns.js"
import type { ParsedMessage } from "../src/Ingest/Messages.js"
import { parseChat } from "../src/Ingest/Parser.js"
import { computeStatistics } from "../src/Ingest/Statistics.js"
import { rhythmChatExport, rhythmParticipants, rhythmWords } from "./support/rhythmChat.js"

const statsOf = (text: string): ChatStatistics => {
  const parsed = parseChat(text)
  if (parsed._tag !== "Parsed") throw new Error(`the generated chat did not parse: ${parsed._tag}`)
  return computeStatistics(columnSource(parsed.chat.columns))
}

const stats = statsOf(rhythmChatExport(6_000))

/** The `data-*` attributes of every element of `svg` that has `name`, as records. */
const marks = (svg: string, name: string): ReadonlyArray<Readonly<Record<string, string>>> =>
  [...svg.matchAll(/<(?:rect|text)\b([^>]*)>/g)]
    .map((match) => Object.fromEntries([...(match[1] ?? "").matchAll(/(data-[a-z-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])))
    .filter((attributes) => name in attributes)

const sum = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0)
const decode = (text: string) => text.replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&#39;/g, "'")

describe("chart statistics computed at upload", () => {
  it("the heatmap's rows are the weekday counts and its columns the hourly counts", () => {
    const grid = stats.totals.activity.by_weekday_hour
    if (grid === undefined) throw new Error("no heatmap in the statistics")
    expect(grid).toHaveLength(7)
    expect(grid.map((row) => row.length)).toEqual(new Array(7).fill(24))
    expect(grid.map(sum)).toEqual(stats.totals.activity.by_weekday)
    expect(Array.from({ length: 24 }, (_, h) => sum(grid.map((row) => row[h]!)))).toEqual(stats.totals.activity.by_hour)
    expect(sum(grid.map(sum))).toBe(stats.totals.messages)
  })

  it("each participant's answer-time buckets hold exactly their replies and restarts", () => {
    for (const p of stats.participants) {
      const buckets = p.response_time_buckets
      if (buckets === undefined) throw new Error(`no buckets for ${p.name}`)
      expect(buckets.map((b) => [b.from_seconds, b.to_seconds])).toEqual(
        [0, ...responseTimeBounds].map((from, i) => [from, responseTimeBounds[i] ?? null])
      )
      expect(sum(buckets.map((b) => b.count))).toBe(p.response_times.replies.count + p.response_times.restarts.count)
    }
  })

  it("a bucket's upper bound belongs to the next bucket; system events and clocks going back are read as the counts read them", () => {
    const at = (written: string) => Date.parse(`${written}Z`)
    const chat: ReadonlyArray<ParsedMessage> = [
      { seq: 0, sentAt: at("2024-03-04T09:00:00"), author: "Ana", text: "hi", kind: "text" },
      // 59 s later: under a minute
      { seq: 1, sentAt: at("2024-03-04T09:00:59"), author: "Ben", text: "hi", kind: "text" },
      { seq: 2, sentAt: at("2024-03-04T09:01:30"), author: null, text: "Ben changed the subject", kind: "system" },
      // 60 s after Ben's: one to five minutes (the system event is not a message)
      { seq: 3, sentAt: at("2024-03-04T09:01:59"), author: "Ana", text: "so", kind: "text" },
      // the clock went back: a gap of 0
      { seq: 4, sentAt: at("2024-03-04T09:00:00"), author: "Ben", text: "yes", kind: "text" },
      // exactly a day after: more than a day
      { seq: 5, sentAt: at("2024-03-05T09:00:00"), author: "Ana", text: "again", kind: "text" },
      // Sunday 23:00, same author: not an answer
      { seq: 6, sentAt: at("2024-03-10T23:00:00"), author: "Ana", text: "late", kind: "text" }
    ]
    const result = withChartStatistics(chat, computeStatistics(chat))
    const bucketsOf = (name: string) => result.participants.find((p) => p.name === name)?.response_time_buckets?.map((b) => b.count)
    expect(bucketsOf("Ana")).toEqual([0, 1, 0, 0, 0, 0, 1])
    expect(bucketsOf("Ben")).toEqual([2, 0, 0, 0, 0, 0, 0])
    const grid = result.totals.activity.by_weekday_hour!
    expect(grid[0]![9]).toBe(4) // Monday 09:00: four messages (the system event is none)
    expect(grid[1]![9]).toBe(1) // Tuesday
    expect(grid[6]![23]).toBe(1) // Sunday 23:00
    expect(sum(grid.map(sum))).toBe(6)
  })
})

describe("the charts carry the statistics' numbers", () => {
  it("heatmap: each cell is its weekday and hour's count; the summary names the busiest hour", () => {
    const chart = drawChart("heatmap", stats, "owner")
    const cells = marks(chart.svg, "data-count")
    expect(cells).toHaveLength(168)
    for (const cell of cells) {
      expect(Number(cell["data-count"])).toBe(stats.totals.activity.by_weekday_hour![Number(cell["data-weekday"])]![Number(cell["data-hour"])])
    }
    const top = Math.max(...cells.map((cell) => Number(cell["data-count"])))
    expect(chart.summary).toContain(`with ${top.toLocaleString("en-US")} messages`)
    expect(chart.summary).toContain(`${stats.totals.messages.toLocaleString("en-US")} messages`)
  })

  it("timeline: each month is the sum of its days, silent months are zero, the silence is the longest", () => {
    const chart = drawChart("timeline", stats, "owner")
    const months = marks(chart.svg, "data-month")
    const expected = new Map<string, number>()
    for (const day of stats.timeline) expected.set(day.date.slice(0, 7), (expected.get(day.date.slice(0, 7)) ?? 0) + day.messages)
    for (const month of months) expect(Number(month["data-count"])).toBe(expected.get(month["data-month"]!) ?? 0)
    expect(sum(months.map((m) => Number(m["data-count"])))).toBe(stats.totals.messages)
    // The generated chat is silent for 40 days: at least one month without a message, drawn as one.
    expect(months.filter((m) => m["data-count"] === "0").length).toBeGreaterThan(0)
    const [silence] = marks(chart.svg, "data-silence-seconds")
    expect(Number(silence?.["data-silence-seconds"])).toBe(stats.longest_silence?.seconds)
    const days = Math.round((stats.longest_silence?.seconds ?? 0) / 86_400)
    expect(days).toBeGreaterThanOrEqual(40)
    expect(chart.summary).toContain(`Longest silence: ${days} days`)
  })

  it("participants and starters: each participant's messages, share and conversations started", () => {
    const shares = marks(drawChart("participants", stats, "owner").svg, "data-participant")
    expect(shares.map((s) => [decode(s["data-participant"]!), Number(s["data-messages"])])).toEqual(
      stats.participants.map((p) => [p.name, p.messages])
    )
    for (const s of shares) {
      expect(Number(s["data-share"])).toBeCloseTo(Number(s["data-messages"]) / stats.totals.messages, 2)
    }
    const starts = marks(drawChart("starters", stats, "owner").svg, "data-started")
    expect(Object.fromEntries(starts.map((s) => [decode(s["data-participant"]!), Number(s["data-started"])]))).toEqual(
      Object.fromEntries(stats.participants.map((p) => [p.name, p.conversations_started]))
    )
    expect(sum(starts.map((s) => Number(s["data-started"])))).toBe(stats.totals.conversations)
  })

  it("reply times: each participant's buckets, as computed; the summary gives their answers", () => {
    const chart = drawChart("reply-times", stats, "owner")
    const bars = marks(chart.svg, "data-bucket")
    for (const p of stats.participants) {
      const theirs = bars.filter((bar) => decode(bar["data-participant"]!) === p.name).map((bar) => Number(bar["data-count"]))
      expect(theirs).toEqual(p.response_time_buckets?.map((b) => b.count))
      expect(chart.summary).toContain(`${p.name}: ${sum(theirs).toLocaleString("en-US")} answers`)
    }
  })

  it("streaks: the longest streak's days and dates, the longest silence's length", () => {
    const svg = drawChart("streaks", stats, "owner").svg
    expect(Number(marks(svg, "data-streak-days")[0]?.["data-streak-days"])).toBe(stats.longest_streak?.days)
    expect(marks(svg, "data-streak-from")[0]).toMatchObject({ "data-streak-from": stats.longest_streak?.from, "data-streak-to": stats.longest_streak?.to })
    expect(Number(marks(svg, "data-silence-seconds")[0]?.["data-silence-seconds"])).toBe(stats.longest_silence?.seconds)
  })

  it("emoji: the chat's top emoji with their counts, the same for the owner and on a shared page", () => {
    const expected = stats.totals.top_emoji.slice(0, 10).map((e) => [e.emoji, e.count])
    expect(expected.length).toBeGreaterThan(0)
    for (const [audience, drawn] of [["owner", stats], ["public", anonymise(stats)]] as const) {
      const chart = drawChart("emoji", drawn, audience)
      expect(marks(chart.svg, "data-emoji").map((e) => [e["data-emoji"], Number(e["data-count"])])).toEqual(expected)
      expect(chart.summary).toContain(`${expected[0]![0]} `)
    }
  })
})

describe("every chart", () => {
  it("is SVG resvg reads, with role img, a title and a description, at the size asked", () => {
    for (const kind of chartKinds) {
      const chart = drawChart(kind, stats, "owner", { width: 720, height: 330 })
      expect(chart.svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 720 330" width="720" height="330" role="img"/)
      expect(chart.svg).toContain(`<title id="chart-${kind}-title">${chart.title}</title>`)
      expect(chart.svg).toContain(`<desc id="chart-${kind}-desc">`)
      expect(chart.summary.length).toBeGreaterThan(20)
      const image = new Resvg(chart.svg, { font: { loadSystemFonts: false } }).render()
      expect([image.width, image.height]).toEqual([720, 330])
    }
  })

  it("drawn from anonymised statistics, holds no name and no word of the chat", () => {
    const shared = anonymise(stats)
    for (const kind of chartKinds) {
      const { svg, summary } = drawChart(kind, shared, "public")
      const all = `${svg} ${summary}`.toLowerCase()
      for (const name of rhythmParticipants) {
        for (const part of name.toLowerCase().split(" ")) expect(all, `${kind}: ${part}`).not.toContain(part)
      }
      for (const word of rhythmWords) expect(all, `${kind}: ${word}`).not.toContain(word)
      if (["participants", "reply-times", "starters"].includes(kind)) expect(all).toContain("participant 1")
    }
  })

  it("of a chat stored before chart statistics existed says what it lacks instead of drawing", () => {
    const old: ChatStatistics = {
      ...stats,
      totals: { ...stats.totals, activity: { by_weekday: stats.totals.activity.by_weekday, by_hour: stats.totals.activity.by_hour } },
      participants: stats.participants.map(({ response_time_buckets: _buckets, ...p }) => p)
    }
    expect(drawChart("heatmap", old, "owner").summary).toContain("not computed")
    expect(drawChart("reply-times", old, "owner").summary).toContain("not computed")
    expect(marks(drawChart("heatmap", old, "owner").svg, "data-count")).toEqual([])
  })
})

describe("charts of unusual chats", () => {
  const at = (day: number, minute: number) => Date.UTC(2010, 0, 1) + day * 86_400_000 + minute * 60_000
  const message = (seq: number, sentAt: number, author: string): ParsedMessage => ({ seq, sentAt, author, text: "x", kind: "text" })

  it("an empty chat and a single message draw every kind, saying what there is", () => {
    const empty = computeStatistics([])
    const single = computeStatistics([message(0, at(0, 0), "Ana")])
    for (const kind of chartKinds) {
      for (const [label, stats] of [["empty", empty], ["single", single]] as const) {
        const chart = drawChart(kind, stats, "owner", { width: 200, height: 200 })
        expect(chart.svg, `${label} ${kind}`).toContain("</svg>")
        expect(chart.summary.length, `${label} ${kind}`).toBeGreaterThan(5)
        expect(chart.svg, `${label} ${kind}`).not.toMatch(/NaN|Infinity|undefined/)
      }
    }
  })

  it("forty participants: the longest lists fold into one row that keeps the rest's total", () => {
    const chat = Array.from({ length: 400 }, (_, i) => message(i, at(i, 0), `Person ${String(i % 40).padStart(2, "0")}`))
    const stats = computeStatistics(chat)
    const svg = drawChart("participants", stats, "owner").svg
    const named = marks(svg, "data-participant").map((m) => Number(m["data-messages"]))
    const folded = marks(svg, "data-others")
    expect(named.length).toBeLessThan(40)
    expect(folded).toHaveLength(1)
    expect(Number(folded[0]!["data-others"]) + named.length).toBe(40)
    expect(sum(named) + Number(folded[0]!["data-messages"])).toBe(400)
    expect(svg).not.toMatch(/NaN|Infinity|undefined/)
  })

  it("fifteen years: one bar per month, from the first month to the last", () => {
    const chat = [message(0, at(0, 0), "Ana"), message(1, at(5_480, 0), "Ben")]
    const svg = drawChart("timeline", computeStatistics(chat), "owner").svg
    const months = marks(svg, "data-month")
    expect(months).toHaveLength(15 * 12 + 1)
    expect([months[0]?.["data-month"], months[months.length - 1]?.["data-month"]]).toEqual(["2010-01", "2025-01"])
    expect(svg).not.toMatch(/NaN|Infinity|undefined/)
  })
})

describe("the palette", () => {
  it("text is at least 4.5:1 against the chart and page backgrounds; marks at least 3:1 (WCAG 1.4.3, 1.4.11)", () => {
    for (const background of [palette.background, "#f6f8fa"]) {
      expect(contrast(palette.text, background)).toBeGreaterThanOrEqual(4.5)
      expect(contrast(palette.muted, background)).toBeGreaterThanOrEqual(4.5)
      expect(contrast(palette.accent, background)).toBeGreaterThanOrEqual(4.5) // it also colours text
      expect(contrast(palette.primary, background)).toBeGreaterThanOrEqual(4.5)
    }
    expect(contrast("#ffffff", "#000000")).toBeCloseTo(21, 5)
    expect(contrast("#777777", "#ffffff")).toBeCloseTo(4.48, 2)
  })

  it("the heatmap's steps darken steadily, so they read by lightness alone, and the busier half stands out at 3:1", () => {
    const steps = heatRamp.map((colour) => contrast(colour, palette.background))
    for (let i = 1; i < steps.length; i++) expect(steps[i]!, heatRamp[i]).toBeGreaterThan(steps[i - 1]! * 1.15)
    for (const ratio of steps.slice(Math.floor(steps.length / 2))) expect(ratio).toBeGreaterThanOrEqual(3)
    // An empty cell differs from the lightest step.
    expect(contrast(palette.empty, heatRamp[0]!)).toBeGreaterThan(1.1)
  })
})
