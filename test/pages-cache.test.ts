/** The shared pages' render cache and ETag matching, on their own. */
import { describe, expect, it } from "@effect/vitest"
import { RenderCache } from "../src/Pages/Cache.js"
import { matches } from "../src/Pages/SharedPages.js"

describe("the render cache", () => {
  it("keeps the most recently used renders up to its capacity", () => {
    const cache = new RenderCache<string>(2)
    cache.set("chat-a", "\"a1\"", "page a1")
    cache.set("chat-b", "\"b1\"", "page b1")
    expect(cache.get("\"a1\"")).toBe("page a1") // a1 is now the most recent
    cache.set("chat-c", "\"c1\"", "page c1") // so b1 goes
    expect([cache.get("\"a1\""), cache.get("\"b1\""), cache.get("\"c1\"")]).toEqual(["page a1", undefined, "page c1"])
  })

  it("forgets every render of a chat at once, and only that chat's", () => {
    const cache = new RenderCache<string>(10)
    cache.set("chat-a", "\"page-v1\"", "page")
    cache.set("chat-a", "\"preview-v1\"", "png")
    cache.set("chat-b", "\"other\"", "other page")
    expect(cache.has("chat-a")).toBe(true)
    cache.forget("chat-a")
    expect([cache.has("chat-a"), cache.get("\"page-v1\""), cache.get("\"preview-v1\"")]).toEqual([false, undefined, undefined])
    expect(cache.get("\"other\"")).toBe("other page")
  })
})

describe("If-None-Match", () => {
  it("matches the ETag itself, its weak form, one of a list, or *; nothing else", () => {
    expect(matches("\"abc\"", "\"abc\"")).toBe(true)
    expect(matches("W/\"abc\"", "\"abc\"")).toBe(true)
    expect(matches("\"x\", \"abc\"", "\"abc\"")).toBe(true)
    expect(matches("*", "\"abc\"")).toBe(true)
    expect(matches("\"abcd\"", "\"abc\"")).toBe(false)
    expect(matches("abc", "\"abc\"")).toBe(false)
    expect(matches(undefined, "\"abc\"")).toBe(false)
    expect(matches("", "\"abc\"")).toBe(false)
  })
})
