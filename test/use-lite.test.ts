/**
 * The offline embedder's model, USE-lite, loaded in this thread: it comes from the files inside the npm
 * package with every way out to the network cut, and it gives unit vectors of 512 that put a paraphrase
 * nearer than an unrelated text. (Through the Llm service, in its thread: use-lite-thread.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { EmbeddingsModel } from "@energetic-ai/embeddings"
import * as Net from "node:net"

type Model = typeof import("../src/Llm/UseLiteModel.js")

/** Every attempt to reach the network while the guard is up. */
const attempts: Array<string> = []
const realConnect = Net.Socket.prototype.connect
const realFetch = globalThis.fetch

/** Cuts the network: any socket connect (http, https, node-fetch, undici all end there) or fetch is recorded and refused. */
const cutNetwork = () => {
  Net.Socket.prototype.connect = function(...args: Array<unknown>): never {
    attempts.push(`connect ${JSON.stringify(args[0])}`)
    throw new Error("network cut by the test")
  }
  globalThis.fetch = (input) => {
    attempts.push(`fetch ${String(input)}`)
    return Promise.reject(new Error("network cut by the test"))
  }
}

const restoreNetwork = () => {
  Net.Socket.prototype.connect = realConnect
  globalThis.fetch = realFetch
}

let use: Model
let model: EmbeddingsModel

// The modules are imported only once the network is cut, so that nothing they do at import time escapes either.
beforeAll(async () => {
  cutNetwork()
  use = await import("../src/Llm/UseLiteModel.js")
  model = await use.loadUseLite()
}, 60_000)

afterAll(restoreNetwork)

const dot = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0)
const norm = (a: ReadonlyArray<number>) => Math.sqrt(dot(a, a))

describe("USE-lite, loaded with no network", () => {
  it("loads from the package's own files and embeds without a single network attempt", async () => {
    const [vector] = await use.embedWith(model, ["the boiler guy wants £80 for Tuesday"])
    expect(vector).toHaveLength(512)
    expect(attempts).toEqual([])
  })

  it("the guard catches the library's own download (initModel without the bundled source), so the test above can fail", async () => {
    const { initModel } = await import("@energetic-ai/embeddings")
    await expect(initModel()).rejects.toThrow()
    expect(attempts.length).toBeGreaterThan(0)
    expect(attempts.join("\n")).toMatch(/tfhub\.dev|storage\.googleapis\.com/)
    attempts.length = 0
  })

  it("gives unit vectors of 512, the same for a text alone or in a batch", async () => {
    const texts = ["When did we move to Lisbon?", "pizza tonight?", "🎉", "Café in Évora"]
    const batch = await use.embedWith(model, texts)
    expect(batch).toHaveLength(texts.length)
    for (const vector of batch) {
      expect(vector).toHaveLength(512)
      expect(norm(vector)).toBeCloseTo(1, 6)
    }
    const alone = await use.embedWith(model, ["pizza tonight?"])
    expect(dot(alone[0] ?? [], batch[1] ?? [])).toBeCloseTo(1, 5)
  })

  it("puts a paraphrase nearer than an unrelated text, with no word in common", async () => {
    const [question = [], paraphrase = [], unrelated = []] = await use.embedWith(model, [
      "what did the plumber charge us?",
      "the boiler guy wants £80 for Tuesday",
      "pizza tonight?"
    ])
    expect(dot(question, paraphrase)).toBeGreaterThan(dot(question, unrelated))
    const [moving = [], lisbon = [], dinner = []] = await use.embedWith(model, [
      "when are we relocating?",
      "We're moving to Lisbon in March!",
      "dinner at the beach"
    ])
    expect(dot(moving, lisbon)).toBeGreaterThan(dot(moving, dinner))
  })

  it("gives an empty text the zero vector, keeping every other vector in its place", async () => {
    // The model itself drops the row of a text without tokens, which would shift the ones after it.
    const vectors = await use.embedWith(model, ["hello", "", "world", ""])
    expect(vectors).toHaveLength(4)
    expect(vectors[1]?.every((x) => x === 0)).toBe(true)
    expect(vectors[3]?.every((x) => x === 0)).toBe(true)
    const [world = []] = await use.embedWith(model, ["world"])
    expect(dot(vectors[2] ?? [], world)).toBeCloseTo(1, 5)
    expect(await use.embedWith(model, ["", ""])).toEqual([new Array(512).fill(0), new Array(512).fill(0)])
    expect(await use.embedWith(model, [])).toEqual([])
    expect(attempts).toEqual([])
  })
})
