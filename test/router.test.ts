import { describe, expect, it } from "@effect/vitest"
import { routeQuestion } from "../src/Rag/Router.js"

const people = ["Sam Rivera", "Noa Lindqvist", "+44 7700 900123"]

describe("questions with an exact answer", () => {
  it("counts a participant's messages in a named month of a named year", () => {
    expect(routeQuestion("How many messages did Sam send in March 2024?", people, 2025)).toEqual({
      kind: "count",
      author: "Sam Rivera",
      range: { from: "2024-03-01 00:00:00", to: "2024-03-31 23:59:59", label: "in March 2024" }
    })
  })

  it("reads a month without a year as the chat's latest year, and February's length from the calendar", () => {
    expect(routeQuestion("how many messages did noa lindqvist send in february?", people, 2024)).toEqual({
      kind: "count",
      author: "Noa Lindqvist",
      range: { from: "2024-02-01 00:00:00", to: "2024-02-29 23:59:59", label: "in February 2024" }
    })
  })

  it("counts everyone's messages in a year, or in the whole chat", () => {
    expect(routeQuestion("How many messages were sent in 2023?", people, 2024)).toMatchObject({
      kind: "count",
      author: null,
      range: { from: "2023-01-01 00:00:00", to: "2023-12-31 23:59:59" }
    })
    expect(routeQuestion("How many messages are there?", people, 2024)).toEqual({ kind: "count", author: null, range: null })
  })

  it("finds first and last messages, of someone or of anyone", () => {
    expect(routeQuestion("What was Noa's first message?", people, 2024)).toEqual({ kind: "first", author: "Noa Lindqvist" })
    expect(routeQuestion("Show me the most recent message", people, 2024)).toEqual({ kind: "last", author: null })
  })

  it("does not mistake a name inside another word, and leaves questions about content to retrieval", () => {
    expect(routeQuestion("How many messages did Samba send?", people, 2024)).toEqual({ kind: "count", author: null, range: null })
    expect(routeQuestion("How many messages mention Porto?", people, 2024)).toBeNull()
    expect(routeQuestion("When did we first talk about moving?", people, 2024)).toBeNull()
    expect(routeQuestion("What does Sam usually complain about?", people, 2024)).toBeNull()
  })
})
