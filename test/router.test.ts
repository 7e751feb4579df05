import { describe, expect, it } from "@effect/vitest"
import { routeQuestion } from "../src/Rag/Router.js"

const people = ["Sam Rivera", "Noa Lindqvist", "+44 7700 900123"]

describe("questions with an exact answer", () => {
  it("counts a participant's messages in a named month of a named year", () => {
    expect(routeQuestion("How many messages did Sam send in March 2024?", people, 2025)).toEqual({
      kind: "count",
      author: "Sam Rivera",
      range: { from: "2024-03-01 00:00:00", to: "2024-03-31 23:59:59", label: "in March 2024" },
      messageKind: null
    })
  })

  it("reads a month without a year as the chat's latest year, and February's length from the calendar", () => {
    expect(routeQuestion("how many messages did noa lindqvist send in february?", people, 2024)).toEqual({
      kind: "count",
      author: "Noa Lindqvist",
      range: { from: "2024-02-01 00:00:00", to: "2024-02-29 23:59:59", label: "in February 2024" },
      messageKind: null
    })
  })

  it("counts everyone's messages in a year, or in the whole chat", () => {
    expect(routeQuestion("How many messages were sent in 2023?", people, 2024)).toMatchObject({
      kind: "count",
      author: null,
      range: { from: "2023-01-01 00:00:00", to: "2023-12-31 23:59:59" }
    })
    expect(routeQuestion("How many messages are there?", people, 2024)).toEqual({ kind: "count", author: null, range: null, messageKind: null })
  })

  it("finds first and last messages, of someone or of anyone", () => {
    expect(routeQuestion("What was Noa's first message?", people, 2024)).toEqual({ kind: "first", author: "Noa Lindqvist" })
    expect(routeQuestion("Show me the most recent message", people, 2024)).toEqual({ kind: "last", author: null })
  })

  it("does not mistake a name inside another word, and leaves questions about content to retrieval", () => {
    expect(routeQuestion("How many messages did Samba send?", people, 2024)).toEqual({ kind: "count", author: null, range: null, messageKind: null })
    expect(routeQuestion("How many messages mention Porto?", people, 2024)).toBeNull()
    expect(routeQuestion("When did we first talk about moving?", people, 2024)).toBeNull()
    expect(routeQuestion("What does Sam usually complain about?", people, 2024)).toBeNull()
  })

  it("counts one day, however it is written, and never answers a day's question with a month's count", () => {
    const day = (date: string) => ({ from: `${date} 00:00:00`, to: `${date} 23:59:59`, label: `on ${date}` })
    expect(routeQuestion("How many messages were sent on New Year's Day?", people, 2024)).toMatchObject({ range: day("2024-01-01") })
    expect(routeQuestion("How many messages did Sam send on 5 March 2023?", people, 2024)).toMatchObject({
      author: "Sam Rivera",
      range: day("2023-03-05")
    })
    expect(routeQuestion("how many messages on march 5th, 2023", people, 2024)).toMatchObject({ range: day("2023-03-05") })
    expect(routeQuestion("How many messages on 2023-12-24?", people, 2024)).toMatchObject({ range: day("2023-12-24") })
    expect(routeQuestion("How many messages on 31 February 2024?", people, 2024)).toBeNull()
  })

  it("counts edited, deleted and media messages by their stored kind", () => {
    expect(routeQuestion("How many messages were edited?", people, 2024)).toMatchObject({ messageKind: "edited", range: null })
    expect(routeQuestion("How many messages did Noa delete in May 2024?", people, 2024)).toMatchObject({
      messageKind: "deleted",
      author: "Noa Lindqvist",
      range: { label: "in May 2024" }
    })
    expect(routeQuestion("How many media messages did Sam send?", people, 2024)).toMatchObject({ messageKind: "media", author: "Sam Rivera" })
  })

  it("leaves to retrieval what it cannot map, rather than dropping that part of the question", () => {
    for (
      const question of [
        "How many messages were voice notes?",
        "How many messages did Sam send over the summer?",
        "How many messages did we send on Mondays?",
        "How many messages since March?",
        "How many messages from March to May?",
        "How many messages last week?",
        "How many messages per day on average?",
        "How many messages in the evening?",
        "How many messages with photos did Noa send?"
      ]
    ) expect(routeQuestion(question, people, 2024), question).toBeNull()
    expect(routeQuestion("How many messages from Sam?", people, 2024)).toMatchObject({ author: "Sam Rivera" })
  })

  it("ranks who sent the most or the fewest, with a count's filters", () => {
    expect(routeQuestion("Who sent the most messages in 2023?", people, 2024)).toMatchObject({
      kind: "rank",
      fewest: false,
      range: { label: "in 2023" },
      messageKind: null
    })
    expect(routeQuestion("Who wrote the fewest messages?", people, 2024)).toMatchObject({ kind: "rank", fewest: true, range: null })
    expect(routeQuestion("Who was the most active on New Year's Day 2024?", people, 2024)).toMatchObject({
      kind: "rank",
      range: { label: "on 2024-01-01" }
    })
    expect(routeQuestion("Who sent the most voice notes?", people, 2024)).toBeNull()
    expect(routeQuestion("Who talked the most about the wedding?", people, 2024)).toBeNull()
    expect(routeQuestion("Who sent the most recent message?", people, 2024)).toMatchObject({ kind: "last" })
  })
})
