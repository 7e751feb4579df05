import { describe, expect, it } from "@effect/vitest"
import { anyWordQuery, reciprocalRankFusion } from "../src/Rag/Fusion.js"

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
