import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { toolCallOf, toolDeclarations } from "../src/Rag/ChatTools.js"
import { nicknameCandidates, participantNamed } from "../src/Rag/ChatToolsNames.js"
import { routeQuestion, type RouterContext } from "../src/Rag/Router.js"

const people = ["Sam Rivera", "Noa Lindqvist", "+44 7700 900123", "Priya Nair"]
/** The chat's last message is in October 2024; today is well after it. */
const context: RouterContext = {
  participants: people,
  nicknames: new Map([["pri", "Priya Nair"]]),
  latest: "2024-10-20",
  today: "2026-03-15"
}
const route = (question: string) => routeQuestion(question, context)
const call = (question: string) => route(question)?.call
const day = (date: string) => ({ from: date, to: date })

describe("counts", () => {
  it("counts a participant's messages in a named month of a named year, with the period as the answer names it", () => {
    expect(route("How many messages did Sam send in March 2024?")).toEqual({
      call: { tool: "count_messages", input: { author: "Sam Rivera", from: "2024-03-01", to: "2024-03-31" } },
      period: "in March 2024"
    })
  })

  it("reads a month without a year as its latest occurrence up to the chat's last message", () => {
    expect(call("how many messages did noa lindqvist send in february?")).toEqual({
      tool: "count_messages",
      input: { author: "Noa Lindqvist", from: "2024-02-01", to: "2024-02-29" }
    })
    // December 2024 is after the chat's last message: December 2023 is meant.
    expect(call("How many messages in December?")?.input).toEqual({ from: "2023-12-01", to: "2023-12-31" })
  })

  it("counts everyone's messages in a year, or in the whole chat", () => {
    expect(call("How many messages were sent in 2023?")).toEqual({ tool: "count_messages", input: { from: "2023-01-01", to: "2023-12-31" } })
    expect(call("How many messages are there?")).toEqual({ tool: "count_messages", input: {} })
    expect(call("Can you tell me how many messages we sent in total?")).toEqual({ tool: "count_messages", input: {} })
  })

  it("counts one day, however it is written, and never answers a day's question with a month's count", () => {
    expect(route("How many messages were sent on New Year's Day?")).toEqual({
      call: { tool: "count_messages", input: day("2024-01-01") },
      period: "on New Year's Day 2024 (2024-01-01)"
    })
    expect(call("How many messages did Sam send on 5 March 2023?")?.input).toEqual({ author: "Sam Rivera", ...day("2023-03-05") })
    expect(call("how many messages on march 5th, 2023")?.input).toEqual(day("2023-03-05"))
    expect(call("How many messages on 2023-12-24?")?.input).toEqual(day("2023-12-24"))
    // Christmas 2024 is after the last message: the latest Christmas in the chat is 2023's.
    expect(call("How many messages on Christmas Day?")?.input).toEqual(day("2023-12-25"))
    expect(call("How many messages on Easter Sunday 2024?")?.input).toEqual(day("2024-03-31"))
    expect(route("How many messages on 31 February 2024?")).toBeNull()
  })

  it("counts seasons, ranges and relative years, stating the days in the period's name", () => {
    expect(route("How many messages did Sam send over the summer?")).toEqual({
      call: { tool: "count_messages", input: { author: "Sam Rivera", from: "2024-06-01", to: "2024-08-31" } },
      period: "in summer 2024 (2024-06-01 to 2024-08-31)"
    })
    expect(call("How many messages in the winter?")?.input).toEqual({ from: "2023-12-01", to: "2024-02-29" })
    expect(call("How many messages from March to May?")?.input).toEqual({ from: "2024-03-01", to: "2024-05-31" })
    expect(call("How many messages between 1 March and 15 April 2024?")?.input).toEqual({ from: "2024-03-01", to: "2024-04-15" })
    expect(call("How many messages since March?")?.input).toEqual({ from: "2024-03-01" })
    expect(call("How many messages before 2024?")?.input).toEqual({ to: "2023-12-31" })
    expect(route("How many messages did we send last year?")).toEqual({
      call: { tool: "count_messages", input: { from: "2025-01-01", to: "2025-12-31" } },
      period: "last year (2025)"
    })
  })

  it("counts edited, deleted, media and link messages by their stored kind, and media by what it carries", () => {
    expect(call("How many messages were edited?")?.input).toEqual({ kind: "edited" })
    expect(call("How many messages did Noa delete in May 2024?")?.input).toEqual({
      kind: "deleted",
      author: "Noa Lindqvist",
      from: "2024-05-01",
      to: "2024-05-31"
    })
    expect(call("How many media messages did Sam send?")?.input).toEqual({ kind: "media", author: "Sam Rivera" })
    expect(call("How many links did Priya share?")?.input).toEqual({ kind: "links", author: "Priya Nair" })
    expect(call("How many voice notes did we send?")?.input).toEqual({ kind: "voice" })
    expect(call("How many messages with photos did Noa send?")?.input).toEqual({ kind: "image", author: "Noa Lindqvist" })
    expect(call("How many stickers in 2024?")?.input).toEqual({ kind: "sticker", from: "2024-01-01", to: "2024-12-31" })
  })

  it("counts messages that mention a word or phrase, however the question asks it", () => {
    expect(call("How many messages talk about the wedding?")?.input).toEqual({ mentions: "wedding" })
    expect(call("How many messages mention Porto?")?.input).toEqual({ mentions: "porto" })
    expect(call("How often did we mention the dog?")?.input).toEqual({ mentions: "dog" })
    expect(call("How many times was the new job mentioned?")?.input).toEqual({ mentions: "new job" })
    expect(call("How many messages contain \"see you soon\"?")?.input).toEqual({ mentions: "see you soon" })
    expect(call("How many messages did Sam send about the flat in May 2024?")?.input).toEqual({
      author: "Sam Rivera",
      mentions: "flat",
      from: "2024-05-01",
      to: "2024-05-31"
    })
  })

  it("reads \"may\" as the month only after a preposition or before a year", () => {
    expect(call("How many messages did Sam send, may I ask?")?.input).toEqual({ author: "Sam Rivera" })
    expect(call("How many messages did Sam send in May?")?.input).toEqual({ author: "Sam Rivera", from: "2024-05-01", to: "2024-05-31" })
  })
})

describe("names", () => {
  it("match a full name, a unique first name, a phone number or a nickname the chat uses, as whole words", () => {
    expect(call("How many messages from Pri?")?.input).toEqual({ author: "Priya Nair" })
    expect(call("How many messages did +44 7700 900123 send?")?.input).toEqual({ author: "+44 7700 900123" })
    expect(call("What was Noa's first message?")).toEqual({ tool: "find_message", input: { author: "Noa Lindqvist", which: "first" } })
    // "Samba" is not Sam: the word is not understood, so the question is not answered as a count of everyone.
    expect(route("How many messages did Samba send?")).toBeNull()
  })

  it("are told apart from nicknames: a start of exactly one first name, not a common word", () => {
    expect(participantNamed("noa", people)).toBe("Noa Lindqvist")
    expect(participantNamed("~ Noa Lindqvist", people)).toBe("Noa Lindqvist")
    expect(participantNamed("Jo", ["Jonas Berg", "Joanna Wu"])).toBeNull()
    expect(nicknameCandidates("did Pri or Sa or Jo say it", ["Priya Nair", "Sam Rivera", "Jonas Berg", "Joanna Wu"])).toEqual([
      { nickname: "pri", participant: "Priya Nair" },
      { nickname: "sa", participant: "Sam Rivera" }
    ])
    expect(nicknameCandidates("how many messages are there", ["Thea Holm", "Arena Vik"])).toEqual([])
    expect(nicknameCandidates("Jonny in March at Christmas", ["Jonas Berg", "Marta Ribeiro", "Chris Wu"])).toEqual([
      { nickname: "jonny", participant: "Jonas Berg" }
    ])
  })
})

describe("rankings, firsts and lasts, busiest times, silences and reply times", () => {
  it("ranks who sent the most or the fewest, with a count's filters", () => {
    expect(call("Who sent the most messages in 2023?")).toEqual({
      tool: "rank_authors",
      input: { from: "2023-01-01", to: "2023-12-31", order: "most" }
    })
    expect(call("Who wrote the fewest messages?")).toEqual({ tool: "rank_authors", input: { order: "fewest" } })
    expect(call("Who was the most active on New Year's Day 2024?")?.input).toEqual({ ...day("2024-01-01"), order: "most" })
    expect(call("Who sent the most voice notes?")?.input).toEqual({ kind: "voice", order: "most" })
    expect(call("Who talked the most about the wedding?")?.input).toEqual({ mentions: "wedding", order: "most" })
    expect(call("Who wrote the most over the summer?")?.input).toEqual({ from: "2024-06-01", to: "2024-08-31", order: "most" })
  })

  it("finds first and last messages, of someone, about something, or in a period", () => {
    expect(call("Show me the most recent message")).toEqual({ tool: "find_message", input: { which: "last" } })
    expect(call("Who sent the most recent message?")).toEqual({ tool: "find_message", input: { which: "last" } })
    expect(call("When did the new job first come up?")).toEqual({ tool: "find_message", input: { mentions: "new job", which: "first" } })
    expect(call("When did we first talk about moving?")?.input).toEqual({ mentions: "moving", which: "first" })
    expect(call("When did Sam last mention the Fabia?")?.input).toEqual({ author: "Sam Rivera", mentions: "fabia", which: "last" })
    expect(call("What was the first message about the shed key?")?.input).toEqual({ mentions: "shed key", which: "first" })
    expect(call("What was the last message in July 2024?")?.input).toEqual({ from: "2024-07-01", to: "2024-07-31", which: "last" })
  })

  it("finds the busiest day, hour of the day and month", () => {
    expect(call("What was the busiest day?")).toEqual({ tool: "busiest", input: { unit: "day" } })
    expect(call("Which month had the most messages?")).toEqual({ tool: "busiest", input: { unit: "month" } })
    expect(call("What time of day is the chat most active?")).toEqual({ tool: "busiest", input: { unit: "hour" } })
    expect(call("What was Sam's busiest day in 2024?")?.input).toEqual({ author: "Sam Rivera", from: "2024-01-01", to: "2024-12-31", unit: "day" })
  })

  it("measures the longest silence and reply times", () => {
    expect(call("What was the longest silence?")).toEqual({ tool: "longest_silence", input: {} })
    expect(call("What's the longest we went without talking in 2024?")?.input).toEqual({ from: "2024-01-01", to: "2024-12-31" })
    expect(call("Who replies the fastest?")).toEqual({ tool: "reply_times", input: { order: "fastest" } })
    expect(call("Who takes the longest to reply?")).toEqual({ tool: "reply_times", input: { order: "slowest" } })
    expect(call("How fast does Noa usually reply?")).toEqual({ tool: "reply_times", input: { author: "Noa Lindqvist", order: "fastest" } })
  })
})

describe("refusals", () => {
  it("leaves to retrieval what it cannot map, rather than dropping that part of the question", () => {
    for (
      const question of [
        "How many messages did we send on Mondays?",
        "How many messages last week?",
        "How many messages per day on average?",
        "How many messages in the evening?",
        "How many messages did I send?",
        "How many calls did we make?",
        "How many messages did not mention the wedding?",
        "How many photos and videos did we send?",
        "How many messages did Sam and Noa send?",
        "How many messages mention the venue in Stroud?",
        "How many messages in winter 2024?",
        "What was the busiest day of the week?",
        "What is the average reply time?",
        "Who sent the most messages to Noa?",
        "What does Sam usually complain about?",
        "How many messages mention it?",
        "What is the longest message?"
      ]
    ) expect(route(question), question).toBeNull()
  })

  it("does not take a ranking, a silence or reply times with a filter it does not apply", () => {
    expect(route("Who sent the most messages, Sam?")).toBeNull()
    expect(route("What was Sam's longest silence?")).toBeNull()
    expect(route("Who replies fastest about the wedding?")).toBeNull()
  })
})

describe("tool declarations", () => {
  it("are generated from the tools' Schemas, and a model's call decodes against the same Schemas", () => {
    expect(toolDeclarations.map((d) => d.name)).toEqual([
      "count_messages", "rank_authors", "find_message", "busiest", "longest_silence", "reply_times"
    ])
    const count = toolDeclarations[0]!.parameters
    expect(count).toMatchObject({ type: "object", properties: { mentions: { type: "string" }, kind: { enum: expect.arrayContaining(["voice", "links"]) } } })
    expect(JSON.stringify(toolDeclarations)).not.toContain("$schema")
    expect(toolCallOf("count_messages", { author: "Sam", kind: "voice" })).toEqual(
      Either.right({ tool: "count_messages", input: { author: "Sam", kind: "voice" } })
    )
    expect(Either.isLeft(toolCallOf("count_messages", { from: "2024-02-30" }))).toBe(true)
    expect(Either.isLeft(toolCallOf("rank_authors", { order: "most", author: "Sam" }))).toBe(true)
    expect(toolCallOf("delete_chat", {})).toEqual(Either.left("no tool named delete_chat"))
  })
})
