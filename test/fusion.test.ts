import { describe, expect, it } from "@effect/vitest"
import {
  anyWordQuery,
  defaultFusionWeights,
  fuseHybrid,
  reciprocalRankFusion,
  searchTerms,
  weightedRankFusion
} from "../src/Rag/Fusion.js"
import { searchConfigOf } from "../src/Rag/SearchLanguage.js"

describe("reciprocal rank fusion", () => {
  it("ranks first what both lists rank high, then what one list ranks first", () => {
    const vector = ["a", "b", "c"]
    const fullText = ["b", "d", "a"]
    const fused = reciprocalRankFusion([vector, fullText], (id) => id, 60).map(({ item }) => item)
    // b: 1/62 + 1/61; a: 1/61 + 1/63; d: 1/62; c: 1/63
    expect(fused).toEqual(["b", "a", "d", "c"])
  })

  it("keeps one entry per key with the summed score", () => {
    const fused = reciprocalRankFusion([["x"], ["x"]], (id) => id, 0)
    expect(fused).toEqual([{ item: "x", score: 2 }])
  })

  it("gives nothing for nothing", () => {
    expect(reciprocalRankFusion<string>([[], []], (id) => id)).toEqual([])
  })
})

describe("the full-text query of a question", () => {
  it("matches any of the question's words, once each, lowercased", () => {
    expect(anyWordQuery("When did we first talk about MOVING? moving!")).toBe("when | did | we | first | talk | about | moving")
  })

  it("drops stop words and one-letter words, and keeps accents and digits", () => {
    const stop = new Set(["fue", "la", "en"])
    expect(anyWordQuery("¿Cuándo fue la mudanza a Lisboa en 2023?", (word) => stop.has(word))).toBe("cuándo | mudanza | lisboa | 2023")
    // Nothing but stop words: search with them rather than with nothing.
    expect(anyWordQuery("la en fue", (word) => stop.has(word))).toBe("la | en | fue")
  })

  it("cannot be broken by query syntax in the question", () => {
    expect(anyWordQuery("a & b | !c ( ) ':* <->")).toBeNull()
    expect(anyWordQuery("rock & roll")).toBe("rock | roll")
  })
})

describe("weighted rank fusion", () => {
  it("scores an item weight / (k + rank) in each list it appears in", () => {
    const fused = weightedRankFusion(
      [{ items: ["a", "b"], weight: () => 1 }, { items: ["b", "c"], weight: (id) => (id === "b" ? 2 : 0.5) }],
      (id) => id,
      0
    )
    // a: 1/1; b: 1/2 + 2/1; c: 0.5/2
    expect(fused).toEqual([{ item: "b", score: 2.5 }, { item: "a", score: 1 }, { item: "c", score: 0.25 }])
  })

  it("is plain RRF when every weight is 1", () => {
    const lists = [["a", "b", "c"], ["c", "d"]]
    expect(weightedRankFusion(lists.map((items) => ({ items, weight: () => 1 })), (id) => id)).toEqual(
      reciprocalRankFusion(lists, (id) => id)
    )
  })
})

describe("the hybrid ranking", () => {
  const hit = (id: string, coverage = 1) => ({ id, coverage })

  it("does not let a full-text hit that shares one incidental word outrank the vector list's best", () => {
    // The vector list finds the answer ("answer") first; full text ranks first a chunk that only shares a
    // common word of the question (a tenth of its weight).
    const fused = fuseHybrid([hit("answer"), hit("v2"), hit("v3")], [hit("incidental", 0.1), hit("answer", 0.1)])
    expect(fused.map((h) => h.id)).toEqual(["answer", "v2", "v3", "incidental"])
    // Plain RRF, for contrast: the incidental chunk comes second, above the vector list's second.
    expect(reciprocalRankFusion([["answer", "v2", "v3"], ["incidental", "answer"]], (id) => id).map(({ item }) => item))
      .toEqual(["answer", "incidental", "v2", "v3"])
  })

  it("keeps a full-text hit that covers the question's rare words at the top", () => {
    const fused = fuseHybrid([hit("v1"), hit("v2"), hit("named")], [hit("named", 1), hit("other", 0.2)])
    expect(fused[0]?.id).toBe("named")
  })

  it("with no vectors (a chat still being indexed) keeps the full-text order (most covered first)", () => {
    expect(fuseHybrid<{ readonly id: string }>([], [hit("b", 0.9), hit("c", 0.5), hit("a", 0.5), hit("d", 0.2)]).map((h) => h.id))
      .toEqual(["b", "c", "a", "d"])
  })

  it("with coverage ignored and equal weights is plain RRF", () => {
    const weights = { ...defaultFusionWeights, fullText: 1, coverageExponent: 0 }
    const fused = fuseHybrid([hit("a"), hit("b")], [hit("c", 0.1), hit("a", 0.1)], weights).map((h) => h.id)
    expect(fused).toEqual(reciprocalRankFusion([["a", "b"], ["c", "a"]], (id) => id).map(({ item }) => item))
  })
})

describe("the full-text terms of a question", () => {
  it("matches longer words as prefixes, short words and numbers exactly", () => {
    expect(searchTerms("Who is the baker at the van 2025 bakery?", (word) => ["who", "is", "the", "at"].includes(word)))
      .toEqual(["baker:*", "van", "2025", "bakery:*"])
  })

  it("cannot be broken by query syntax in the question", () => {
    expect(searchTerms("a & b | !c ( ) ':* <->")).toEqual([])
    expect(searchTerms("rock&roll:* !!")).toEqual(["rock", "roll"])
  })
})

describe("the search language of a chat", () => {
  const chat = (line: string) => Array.from({ length: 30 }, () => line)

  it("is the chat's language when its own function words clearly lead", () => {
    expect(searchConfigOf(chat("Are you coming to the party tomorrow? I don't know if I can, I have to work late"))).toBe("english")
    expect(searchConfigOf(chat("Vocês vão na festa amanhã? Eu não sei se consigo ir, tenho que trabalhar até tarde"))).toBe("portuguese")
    expect(searchConfigOf(chat("¿Vais a la fiesta mañana? Yo no sé si puedo ir, tengo que trabajar hasta tarde"))).toBe("spanish")
    expect(searchConfigOf(chat("Kommt ihr morgen zur Party? Ich weiß nicht, ob ich es schaffe, ich muss bis spät arbeiten"))).toBe("german")
  })

  it("is simple when there is too little to tell, or no language leads", () => {
    expect(searchConfigOf(["Hej", "God morgon", "Fika?"])).toBe("simple")
    expect(searchConfigOf([])).toBe("simple")
    expect(searchConfigOf(chat("Tokyo 2025 ramen sushi Kyoto"))).toBe("simple")
  })
})
