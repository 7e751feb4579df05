// The chat statistics on small fictional chats whose every figure is worked out by hand in the comments.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import type { MessageKind } from "../src/Domain/MessageKind.js"
import { ChatStatisticsSchema, type ParticipantStatistics } from "../src/Domain/Statistics.js"
import type { ParsedMessage } from "../src/Ingest/Messages.js"
import { computeStatistics } from "../src/Ingest/Statistics.js"

/** The wall-clock time "YYYY-MM-DD HH:MM:SS" as the parser stores it (UTC fields = written fields). */
const at = (written: string): number => Date.parse(`${written.replace(" ", "T")}Z`)

/** Builds a chat in file order: [written time, author, body, kind]. */
const chat = (
  ...rows: ReadonlyArray<readonly [string, string | null, string, MessageKind?]>
): ReadonlyArray<ParsedMessage> =>
  rows.map(([written, author, text, kind], seq) => ({ seq, sentAt: at(written), author, text, kind: kind ?? "text" }))

const person = (stats: { readonly participants: ReadonlyArray<ParticipantStatistics> }, name: string) => {
  const found = stats.participants.find((p) => p.name === name)
  if (found === undefined) throw new Error(`no participant ${name}`)
  return found
}

const zeros = (n: number) => new Array<number>(n).fill(0)
const buckets = (n: number, counts: Record<number, number>) => zeros(n).map((_, i) => counts[i] ?? 0)

describe("computeStatistics", () => {
  it("counts messages, words, characters, media, links, deleted and edited; system events count nowhere", () => {
    const stats = computeStatistics(chat(
      ["2024-03-05 09:00:00", null, "Messages and calls are end-to-end encrypted.", "system"],
      ["2024-03-05 09:00:30", "Zoe", "Zoe added Ana", "system"],
      // Ana: 2 words, 8 characters
      ["2024-03-05 09:01:00", "Ana", "Hi there"],
      // Ben: 2 words; h, e, y, space, waving hand with skin tone = 5 characters
      ["2024-03-05 09:02:00", "Ben", "hey 👋🏽"],
      ["2024-03-05 09:03:00", "Ana", "<Media omitted>", "media"],
      ["2024-03-05 09:04:00", "Ben", "This message was deleted", "deleted"],
      // Ana, marker stripped: "See http://a.example and www.b.example" = 4 words, 3+1+16+1+3+1+13 = 38 characters, 2 links
      ["2024-03-05 09:05:00", "Ana", "See http://a.example and www.b.example <This message was edited>", "edited"],
      // Ben: 2 words, 23 + 1 (line break) + 2 = 26 characters, 1 link (case does not matter)
      ["2024-03-05 09:06:00", "Ben", "HTTPS://C.EXAMPLE/x?y=1\nok"],
      ["2024-03-05 09:07:00", "Ben", "Ben left", "system"]
    ))
    expect(stats.participants.map((p) => p.name)).toEqual(["Ana", "Ben"])
    expect(person(stats, "Ana")).toMatchObject({
      messages: 3, words: 6, characters: 46, media: 1, links: 2, deleted: 0, edited: 1
    })
    expect(person(stats, "Ben")).toMatchObject({
      messages: 3, words: 4, characters: 31, media: 0, links: 1, deleted: 1, edited: 0
    })
    expect(stats.totals).toMatchObject({
      messages: 6, words: 10, characters: 77, media: 1, links: 3, deleted: 1, edited: 1, participants: 2
    })
    expect(stats.first_message).toEqual({ at: "2024-03-05T09:01:00", author: "Ana" })
    expect(stats.last_message).toEqual({ at: "2024-03-05T09:06:00", author: "Ben" })
    expect(stats.timeline).toEqual([{ date: "2024-03-05", messages: 6 }])
    expect(stats.totals.activity.by_hour[9]).toBe(6)
  })

  it("orders participants by messages, ties by first appearance", () => {
    const stats = computeStatistics(chat(
      ["2024-03-05 09:00:00", "Cleo", "one"],
      ["2024-03-05 09:01:00", "Ben", "two"],
      ["2024-03-05 09:02:00", "Ana", "three"],
      ["2024-03-05 09:03:00", "Ana", "four"]
    ))
    expect(stats.participants.map((p) => [p.name, p.messages])).toEqual([["Ana", 2], ["Cleo", 1], ["Ben", 1]])
  })

  it("counts an emoji as one grapheme: a ZWJ family, a skin tone, a flag, a keycap; ❤ and ❤️ are one key", () => {
    const family = "👨‍👩‍👧‍👦"
    const stats = computeStatistics(chat(
      // family, 👍🏽, 👍🏽, space, ❤️, space, ❤, space, 🇪🇸, 🇲🇽, space, 1️⃣ = 12 characters, 5 words
      ["2024-03-05 09:00:00", "Ana", `${family}👍🏽👍🏽 ❤️ ❤ 🇪🇸🇲🇽 1️⃣`],
      // a plain © is typography, not an emoji
      ["2024-03-05 09:01:00", "Ben", "© 2024 😂😂😂 👍🏽"]
    ))
    const ana = person(stats, "Ana")
    expect(ana.characters).toBe(12)
    expect(ana.words).toBe(5)
    // equal counts sort by the emoji's code units: ❤️ (U+2764) before 👍🏽 (U+1F44D); "1" before the flags before 👨
    expect(ana.top_emoji).toEqual([
      { emoji: "❤️", count: 2 },
      { emoji: "👍🏽", count: 2 },
      { emoji: "1️⃣", count: 1 },
      { emoji: "🇪🇸", count: 1 },
      { emoji: "🇲🇽", count: 1 },
      { emoji: family, count: 1 }
    ])
    expect(person(stats, "Ben").top_emoji).toEqual([{ emoji: "😂", count: 3 }, { emoji: "👍🏽", count: 1 }])
    expect(stats.totals.top_emoji).toEqual([
      { emoji: "👍🏽", count: 3 },
      { emoji: "😂", count: 3 },
      { emoji: "❤️", count: 2 },
      { emoji: "1️⃣", count: 1 },
      { emoji: "🇪🇸", count: 1 },
      { emoji: "🇲🇽", count: 1 },
      { emoji: family, count: 1 }
    ])
    // the grapheme count agrees with the platform's segmenter
    const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" })
    expect(ana.characters).toBe([...segmenter.segment(`${family}👍🏽👍🏽 ❤️ ❤ 🇪🇸🇲🇽 1️⃣`)].length)

    const top2 = computeStatistics(chat(["2024-03-05 09:00:00", "Ana", `${family}👍🏽👍🏽 ❤️ ❤ 🇪🇸🇲🇽 1️⃣`]), { topN: 2 })
    expect(top2.participants[0]?.top_emoji).toEqual([{ emoji: "❤️", count: 2 }, { emoji: "👍🏽", count: 2 }])
    expect(top2.settings.top_n).toBe(2)
  })

  it("top words drop English and Spanish stop words, short tokens, links and media/deleted/edited markers", () => {
    const messages = chat(
      // the, and, are, in: English stop words; "t" too short; "don" a stop word; cat twice
      ["2024-03-05 09:00:00", "Ana", "The cat and the dog are in the house. Cat! I don't 42"],
      // el, y, están, en, la, qué: Spanish stop words; casa twice
      ["2024-03-05 09:01:00", "Ben", "El gato y el perro están en la casa, ¡qué casa!"],
      ["2024-03-05 09:02:00", "Ana", "<Media omitted>", "media"],
      ["2024-03-05 09:03:00", "Ben", "This message was deleted", "deleted"],
      ["2024-03-05 09:04:00", "Ben", "Se eliminó este mensaje", "deleted"],
      ["2024-03-05 09:05:00", "Ana", "https://dogs.example/house <This message was edited>", "edited"]
    )
    const stats = computeStatistics(messages)
    expect(person(stats, "Ana").top_words).toEqual([
      { word: "cat", count: 2 },
      { word: "dog", count: 1 },
      { word: "house", count: 1 }
    ])
    expect(person(stats, "Ben").top_words).toEqual([
      { word: "casa", count: 2 },
      { word: "gato", count: 1 },
      { word: "perro", count: 1 }
    ])
    expect(stats.totals.top_words).toEqual([
      { word: "casa", count: 2 },
      { word: "cat", count: 2 },
      { word: "dog", count: 1 },
      { word: "gato", count: 1 },
      { word: "house", count: 1 },
      { word: "perro", count: 1 }
    ])
    expect(stats.totals.links).toBe(1)

    // with English stop words only, the Spanish ones stay (y and la are English-list words too)
    const englishOnly = computeStatistics(messages, { stopwordLanguages: ["en"] })
    expect(person(englishOnly, "Ben").top_words).toEqual([
      { word: "casa", count: 2 },
      { word: "el", count: 2 },
      { word: "en", count: 1 },
      { word: "están", count: 1 },
      { word: "gato", count: 1 },
      { word: "perro", count: 1 },
      { word: "qué", count: 1 }
    ])
    expect(englishOnly.settings.stopword_languages).toEqual(["en"])
    expect(() => computeStatistics(messages, { stopwordLanguages: ["xx"] })).toThrow(RangeError)
  })

  it("strips every edited marker of the markers table, in each language, before counting words", () => {
    const stats = computeStatistics(chat(
      ["2024-03-05 09:00:00", "Ana", "Guten Morgen \u200E<Diese Nachricht wurde bearbeitet.>", "edited"],
      ["2024-03-05 09:01:00", "Ana", "Buenos días <Se editó este mensaje.>", "edited"],
      ["2024-03-05 09:02:00", "Ana", "Morning <This message was edited>", "edited"]
    ))
    expect(person(stats, "Ana")).toMatchObject({ words: 5, edited: 3 })
  })

  it("counts media by kind and a caption's words, never a file name nor a placeholder", () => {
    const stats = computeStatistics([
      // parsed with media kinds: the text is the caption (empty when none), counted like any writing
      { seq: 0, sentAt: at("2024-03-05 09:00:00"), author: "Ana", text: "our trip", kind: "media", mediaKind: "video", fileName: "VID-20240305-WA0001.mp4" },
      { seq: 1, sentAt: at("2024-03-05 09:01:00"), author: "Ana", text: "", kind: "media", mediaKind: "image", fileName: "IMG-20240305-WA0002.jpg" },
      { seq: 2, sentAt: at("2024-03-05 09:02:00"), author: "Ben", text: "", kind: "media", mediaKind: "image" },
      // stored before media kinds were kept: the text is a placeholder, not counted
      { seq: 3, sentAt: at("2024-03-05 09:03:00"), author: "Ben", text: "<Media omitted>", kind: "media" }
    ])
    expect(stats.totals).toMatchObject({ media: 4, words: 2, media_by_kind: { video: 1, image: 2 } })
    expect(person(stats, "Ana")).toMatchObject({ media: 2, words: 2, media_by_kind: { video: 1, image: 1 } })
    expect(person(stats, "Ben")).toMatchObject({ media: 2, words: 0, media_by_kind: { image: 1 } })
    expect(stats.totals.top_words.map((w) => w.word)).toEqual(["trip"])
  })

  it("buckets activity by weekday (0 = Monday) and hour, per chat and per participant, and lists active days", () => {
    const stats = computeStatistics(chat(
      ["2024-03-04 00:30:00", "Ana", "Monday, just after midnight"],
      ["2024-03-04 23:59:59", "Ben", "Monday, last minute"],
      ["2024-03-05 14:02:00", "Ana", "Tuesday afternoon"],
      ["2024-03-09 10:00:00", null, "Saturday: only a system event", "system"],
      ["2024-03-10 14:59:00", "Ana", "Sunday afternoon"]
    ))
    expect(stats.totals.activity.by_weekday).toEqual([2, 1, 0, 0, 0, 0, 1])
    expect(stats.totals.activity.by_hour).toEqual(buckets(24, { 0: 1, 14: 2, 23: 1 }))
    expect(person(stats, "Ana").activity).toEqual({
      by_weekday: [1, 1, 0, 0, 0, 0, 1],
      by_hour: buckets(24, { 0: 1, 14: 2 })
    })
    expect(person(stats, "Ben").activity).toEqual({
      by_weekday: [1, 0, 0, 0, 0, 0, 0],
      by_hour: buckets(24, { 23: 1 })
    })
    expect(stats.timeline).toEqual([
      { date: "2024-03-04", messages: 2 },
      { date: "2024-03-05", messages: 1 },
      { date: "2024-03-10", messages: 1 }
    ])
  })

  describe("a two-day chat with known gaps", () => {
    const messages = chat(
      ["2024-03-05 10:00:00", "Ana", "a1"], //         Ana starts the first conversation
      ["2024-03-05 10:01:00", "Ben", "b1"], //         Ben reply 60 s
      ["2024-03-05 10:03:00", "Ana", "a2"], //         Ana reply 120 s
      ["2024-03-05 10:03:30", "Ben", "b2"], //         Ben reply 30 s
      ["2024-03-05 10:13:30", "Ana", "a3"], //         Ana reply 600 s
      ["2024-03-05 10:43:30", "Ana", "a4"], //         Ana again after 30 min: no sample
      ["2024-03-05 10:45:00", null, "Ana changed the group name", "system"],
      ["2024-03-05 10:48:30", "Ben", "b3"], //         Ben reply 300 s (the system event is not a message)
      ["2024-03-05 10:48:50", "Ben", "b4"], //         Ben again after 20 s
      ["2024-03-05 10:49:50", "Ana", "a5"], //         Ana reply 60 s
      ["2024-03-05 16:49:50", "Ben", "b5"], //         Ben restart 21600 s (6 h); starts a conversation
      ["2024-03-05 16:51:20", "Ana", "a6"], //         Ana reply 90 s
      ["2024-03-06 09:00:00", "Ana", "a7"], //         Ana again after 58120 s: double text, starts a conversation
      ["2024-03-06 09:04:00", "Ben", "b6"], //         Ben reply 240 s
      ["2024-03-06 14:00:00", "Ben", "b7"], //         Ben again after 17760 s: double text, starts a conversation
      ["2024-03-06 18:00:00", "Ana", "a8"] //          Ana restart exactly 14400 s (4 h); starts a conversation
    )

    it("splits response times into replies and restarts with interpolated median, p75 and p90", () => {
      const stats = computeStatistics(messages)
      // Ana replies sorted [60, 90, 120, 600]: median at rank 1.5 = 105, p75 at 2.25 = 120 + 0.25 * 480 = 240,
      // p90 at 2.7 = 120 + 0.7 * 480 = 456
      expect(person(stats, "Ana").response_times).toEqual({
        replies: { count: 4, median_seconds: 105, p75_seconds: 240, p90_seconds: 456 },
        restarts: { count: 1, median_seconds: 14400, p75_seconds: 14400, p90_seconds: 14400 }
      })
      // Ben replies sorted [30, 60, 240, 300]: median 150, p75 = 240 + 0.25 * 60 = 255, p90 = 240 + 0.7 * 60 = 282
      expect(person(stats, "Ben").response_times).toEqual({
        replies: { count: 4, median_seconds: 150, p75_seconds: 255, p90_seconds: 282 },
        restarts: { count: 1, median_seconds: 21600, p75_seconds: 21600, p90_seconds: 21600 }
      })
    })

    it("credits conversation starts, under the default and a configured silence threshold", () => {
      const stats = computeStatistics(messages)
      expect(stats.settings.silence_threshold_minutes).toBe(240)
      expect(person(stats, "Ana").conversations_started).toBe(3) // a1, a7, a8
      expect(person(stats, "Ben").conversations_started).toBe(2) // b5, b7
      expect(stats.totals.conversations).toBe(5)

      // 5 h: b7 (17760 s) and a8 (14400 s) no longer open a conversation, and a8 becomes a reply
      const fiveHours = computeStatistics(messages, { silenceThresholdMinutes: 300 })
      expect(person(fiveHours, "Ana").conversations_started).toBe(2)
      expect(person(fiveHours, "Ben").conversations_started).toBe(1)
      expect(fiveHours.totals.conversations).toBe(3)
      // Ana replies [60, 90, 120, 600, 14400]: median 120, p75 at rank 3 = 600, p90 at 3.6 = 600 + 0.6 * 13800 = 8880
      expect(person(fiveHours, "Ana").response_times).toEqual({
        replies: { count: 5, median_seconds: 120, p75_seconds: 600, p90_seconds: 8880 },
        restarts: { count: 0, median_seconds: null, p75_seconds: null, p90_seconds: null }
      })
    })

    it("counts double texts: the same author again after the double-text gap", () => {
      const stats = computeStatistics(messages)
      expect(stats.settings.double_text_minutes).toBe(60)
      expect(person(stats, "Ana").double_texts).toBe(1) // a7
      expect(person(stats, "Ben").double_texts).toBe(1) // b7
      expect(stats.totals.double_texts).toBe(2)

      const halfHour = computeStatistics(messages, { doubleTextMinutes: 30 })
      expect(person(halfHour, "Ana").double_texts).toBe(2) // a4 (exactly 30 min) and a7
      expect(person(halfHour, "Ben").double_texts).toBe(1) // b4 came 20 s after b3
    })

    it("finds the longest silence and the first and last message", () => {
      const stats = computeStatistics(messages)
      expect(stats.longest_silence).toEqual({ from: "2024-03-05T16:51:20", to: "2024-03-06T09:00:00", seconds: 58120 })
      expect(stats.first_message).toEqual({ at: "2024-03-05T10:00:00", author: "Ana" })
      expect(stats.last_message).toEqual({ at: "2024-03-06T18:00:00", author: "Ana" })
      expect(stats.longest_streak).toEqual({ from: "2024-03-05", to: "2024-03-06", days: 2 })
      expect(stats.totals.messages).toBe(15)
      expect(stats.timeline).toEqual([{ date: "2024-03-05", messages: 11 }, { date: "2024-03-06", messages: 4 }])
    })
  })

  it("finds the longest streak of active days across a month end (earliest on a tie)", () => {
    const days = [
      "2024-01-10", "2024-01-11", //                                  2 days
      "2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", //      4 days across January's end
      "2024-02-04", "2024-02-05", "2024-02-06", //                    3 days
      "2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02" //       4 days across a leap day: a tie, later
    ]
    const rows = days.flatMap((day) =>
      [[`${day} 08:00:00`, "Ana", "morning"], [`${day} 21:00:00`, "Ben", "night"]] as const
    )
    const stats = computeStatistics(chat(
      ...rows.slice(0, 12),
      ["2024-02-03 12:00:00", null, "a system event does not make a day active", "system"],
      ...rows.slice(12)
    ))
    expect(stats.longest_streak).toEqual({ from: "2024-01-30", to: "2024-02-02", days: 4 })
    expect(stats.timeline).toHaveLength(13)
    expect(stats.timeline.slice(2, 6)).toEqual([
      { date: "2024-01-30", messages: 2 },
      { date: "2024-01-31", messages: 2 },
      { date: "2024-02-01", messages: 2 },
      { date: "2024-02-02", messages: 2 }
    ])
    // the longest gap: 2024-02-06 21:00 to 2024-02-28 08:00 = 21 days 11 hours
    expect(stats.longest_silence).toEqual({
      from: "2024-02-06T21:00:00",
      to: "2024-02-28T08:00:00",
      seconds: (21 * 24 + 11) * 3600
    })
  })

  it("an empty chat, or one of system events only, is all zeros and nulls", () => {
    for (
      const messages of [
        [],
        chat(["2024-03-05 09:00:00", null, "Messages are end-to-end encrypted.", "system"], [
          "2024-03-05 09:01:00",
          "Zoe",
          "Zoe created the group",
          "system"
        ])
      ]
    ) {
      const stats = computeStatistics(messages)
      expect(stats.totals).toEqual({
        messages: 0,
        words: 0,
        characters: 0,
        media: 0,
        links: 0,
        deleted: 0,
        edited: 0,
        participants: 0,
        conversations: 0,
        double_texts: 0,
        top_emoji: [],
        top_words: [],
        activity: { by_weekday: zeros(7), by_hour: zeros(24), by_weekday_hour: Array.from({ length: 7 }, () => zeros(24)) }
      })
      expect(stats.participants).toEqual([])
      expect(stats.timeline).toEqual([])
      expect(stats.longest_silence).toBeNull()
      expect(stats.longest_streak).toBeNull()
      expect(stats.first_message).toBeNull()
      expect(stats.last_message).toBeNull()
    }
  })

  it("a single message has no silence, a one-day streak and no response times", () => {
    const stats = computeStatistics(chat(["2024-12-31 23:59:00", "Ana", "Happy new year 🎉"]))
    expect(stats.longest_silence).toBeNull()
    expect(stats.longest_streak).toEqual({ from: "2024-12-31", to: "2024-12-31", days: 1 })
    expect(person(stats, "Ana")).toMatchObject({
      conversations_started: 1,
      double_texts: 0,
      response_times: {
        replies: { count: 0, median_seconds: null, p75_seconds: null, p90_seconds: null },
        restarts: { count: 0, median_seconds: null, p75_seconds: null, p90_seconds: null }
      }
    })
    expect(stats.first_message).toEqual(stats.last_message)
  })

  it("rejects options that make no sense", () => {
    expect(() => computeStatistics([], { silenceThresholdMinutes: 0 })).toThrow(RangeError)
    expect(() => computeStatistics([], { doubleTextMinutes: Number.NaN })).toThrow(RangeError)
    expect(() => computeStatistics([], { topN: 1.5 })).toThrow(RangeError)
  })

  it.effect("the result is plain JSON that ChatStatisticsSchema encodes and decodes unchanged", () =>
    Effect.gen(function*() {
      const stats = computeStatistics(chat(
        ["2024-03-05 10:00:00", "Ana", "Hola 😂 https://example.com"],
        ["2024-03-05 10:05:00", "Ben", "<Media omitted>", "media"],
        ["2024-03-06 10:05:00", "Ben", "Mañana playa"]
      ))
      const encoded = yield* Schema.encode(ChatStatisticsSchema)(stats)
      expect(encoded).toEqual(stats)
      const decoded = yield* Schema.decodeUnknown(ChatStatisticsSchema)(JSON.parse(JSON.stringify(stats)))
      expect(decoded).toEqual(stats)
    }))

  it("on a larger generated chat the parts add up to the totals", () => {
    const authors = ["Ana", "Ben", "Cleo"]
    const bodies = ["hola qué tal 😂", "see https://x.example 👍🏽", "<Media omitted>", "ok ok", "👨‍👩‍👧‍👦 family"]
    const start = at("2023-01-01 00:00:00")
    const messages: Array<ParsedMessage> = []
    for (let i = 0; i < 20_000; i++) {
      const body = bodies[i % bodies.length]!
      messages.push({
        seq: i,
        sentAt: start + i * 7 * 60_000,
        author: authors[(i * 7) % 3]!,
        text: body,
        kind: body === "<Media omitted>" ? "media" : "text"
      })
    }
    const stats = computeStatistics(messages)
    const total = (pick: (p: ParticipantStatistics) => number) => stats.participants.reduce((n, p) => n + pick(p), 0)
    expect(stats.totals.messages).toBe(20_000)
    expect(total((p) => p.messages)).toBe(20_000)
    expect(total((p) => p.words)).toBe(stats.totals.words)
    expect(stats.totals.media).toBe(4_000)
    expect(stats.totals.links).toBe(4_000)
    expect(stats.timeline.reduce((n, d) => n + d.messages, 0)).toBe(20_000)
    expect(stats.totals.activity.by_weekday.reduce((a, b) => a + b, 0)).toBe(20_000)
    expect(stats.totals.top_emoji.slice(0, 3).map((e) => e.count)).toEqual([4_000, 4_000, 4_000])
    // every 7 minutes, always another author: no double texts, no silences past the threshold
    expect(stats.totals.double_texts).toBe(0)
    expect(stats.totals.conversations).toBe(1)
    expect(stats.longest_silence?.seconds).toBe(420)
    expect(total((p) => p.response_times.replies.count)).toBe(19_999)
  })
})
