/** A few messages of a fictional chat, as the language model is given them, for the Llm tests. */
import type { ContextMessage } from "../../src/Llm.js"

export const message = (messageId: string, author: string, sentAt: string, text: string): ContextMessage => ({
  messageId,
  author,
  sentAt,
  text
})

export const lisbonChat: ReadonlyArray<ContextMessage> = [
  message("m1", "Ana", "2024-02-28T19:02:11", "pizza tonight?"),
  message("m2", "Bruno", "2024-03-01T14:05:00", "We're moving to Lisbon in March!"),
  message("m3", "Ana", "2024-03-01T14:06:30", "Great, Lisbon is lovely in spring"),
  message("m4", "Bruno", "2024-03-01T14:07:00", "ok see you")
]
