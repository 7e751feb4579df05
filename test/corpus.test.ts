// The corpus: an export per language (the 20 most used on WhatsApp) and platform, generated from the
// reference table of markers (test/support/corpus.ts), each parsed to the facts it was built with.
import { describe, expect, it } from "@effect/vitest"
import { columnSource, kinds, mediaKindOf, messagesOf, systemEventOf } from "../src/Ingest/Columns.js"
import { parseChat } from "../src/Ingest/Parser.js"
import { computeStatistics } from "../src/Ingest/Statistics.js"
import { wireWallClock } from "../src/Ingest/WallClock.js"
import { chunkMessages } from "../src/Rag/Chunker.js"
import { corpus } from "./support/corpus.js"

const files = corpus()

describe("the corpus", () => {
  it("has every language on Android, and every language with iOS strings on iOS", () => {
    expect(new Set(files.map((f) => f.lang)).size).toBe(21)
    expect(files.filter((f) => f.platform === "ios").length).toBe(20)
  })

  for (const file of files) {
    it(`${file.name}: every fact, and no file name counted as a word or searched`, () => {
      const outcome = parseChat(file.text)
      if (outcome._tag !== "Parsed") throw new Error(outcome.message)
      const { columns, report } = outcome.chat
      const facts = file.facts
      expect(report.unreadableLines).toBe(0)
      expect({
        messages: report.messages,
        systemEvents: report.systemEvents,
        participants: report.participants,
        first: report.firstMessageAt,
        last: report.lastMessageAt
      }).toEqual({
        messages: facts.messages,
        systemEvents: facts.systemEvents,
        participants: facts.participants,
        first: facts.firstAt,
        last: facts.lastAt
      })
      const media: Record<string, number> = {}
      const events: Array<string | null> = []
      for (let i = 0; i < columns.count; i++) {
        const kind = kinds[columns.kind[i]!]
        if (kind === "media") {
          const mediaKind = mediaKindOf(columns.mediaKind[i]!) ?? "none"
          media[mediaKind] = (media[mediaKind] ?? 0) + 1
        }
        if (kind === "system") events.push(systemEventOf(columns.event[i]!))
      }
      expect(media).toEqual(facts.mediaByKind)
      expect(events).toEqual(facts.events)

      const stats = computeStatistics(columnSource(columns), { topN: 1000 })
      expect(stats.totals.words).toBe(facts.words)
      expect(stats.totals.media_by_kind ?? {}).toEqual(facts.mediaByKind)
      const fileWords = new Set(facts.fileNames.flatMap((name) => name.toLowerCase().split(/[^\p{L}]+/u)).filter((w) => w.length >= 2))
      expect(stats.totals.top_words.map((w) => w.word).filter((w) => fileWords.has(w))).toEqual([])

      // What retrieval searches: captions, never a file name.
      const chunks = chunkMessages(messagesOf(columns).map((m) => ({
        id: String(m.seq),
        sent_at: wireWallClock(m.sentAt),
        author: m.author,
        text: m.text,
        kind: m.kind,
        media_kind: m.mediaKind ?? null
      }))).map((c) => c.text).join("\n")
      for (const name of facts.fileNames) expect(chunks).not.toContain(name)
      if (facts.fileNames.length > 0) expect(chunks).toContain("our trip")
    })
  }
})
