/**
 * The chat tools on a real database: every tool's SQL under its filters (author, nickname, period, day,
 * word or phrase, kind and media kind), the answers the router's questions get, and the tools as a
 * model calls them. The fixture is a small chat written straight into `messages`, so every expected
 * figure below can be checked by reading it.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { ChatTools, type ToolChat } from "../src/Rag/ChatToolsRun.js"
import { type FakeGemini, fakeGemini, fakeGeminiEnv } from "./support/fakeGemini.js"
import { client, TestApp, TestDatabase, tokenFor, uploadForm } from "./support/TestApp.js"

const MAYA = "Maya Lindqvist"
const JONAS = "Jonas Berg"
const PRIYA = "Priya Nair"

type Row = readonly [at: string, author: string | null, kind: string, text: string, mediaKind?: string]

/** seq is the position; comments say what each row is there to test. */
const rows: ReadonlyArray<Row> = [
  ["2024-12-31 23:50", null, "system", "Messages and calls are end-to-end encrypted."],
  ["2025-01-01 00:01", MAYA, "text", "Happy new year! Jo, are you still up?"], // "Jo" makes a nickname of Jonas
  ["2025-01-01 00:03", JONAS, "text", "Still up. Happy new year Maya"],
  ["2025-01-01 00:04", PRIYA, "media", "", "voice"],
  ["2025-01-01 10:00", MAYA, "media", "the fireworks", "image"],
  ["2025-01-05 09:00", JONAS, "text", "I got the new job!!"],
  ["2025-01-05 09:02", PRIYA, "text", "Congrats on the NEW JOB, Jonas"],
  ["2025-01-05 09:30", MAYA, "deleted", "This message was deleted"],
  ["2025-01-20 18:00", PRIYA, "text", "Wedding planning starts now: the café by the river"],
  ["2025-01-20 18:05", MAYA, "edited", "Cafe sounds perfect for the wedding"],
  ["2025-01-20 18:06", JONAS, "text", "weddings are expensive, see https://example.com/budget"], // "weddings" is not "wedding"
  ["2025-03-10 12:00", MAYA, "media", "", "voice"],
  ["2025-03-10 12:01", JONAS, "media", "<Media omitted>", "unknown"], // media the export does not name
  ["2025-03-10 12:40", MAYA, "text", "Pri, how was the trip? new-job update please"], // "Pri" for Priya; a hyphenated phrase
  ["2025-07-15 20:00", JONAS, "text", "Summer wedding update: the venue is booked"],
  ["2025-07-15 20:10", PRIYA, "media", "", "voice"],
  ["2025-07-16 08:00", MAYA, "text", "Morning all"]
]

/** Stores a chat of these rows for a new user; the chat as the tools see it, and message ids by seq. */
const store = (rows: ReadonlyArray<Row>) => Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const userId = `tools-${randomUUID()}`
  yield* sql`INSERT INTO users (id) VALUES (${userId})`
  const [chat] = yield* sql<{ id: string }>`
    INSERT INTO chats (user_id, display_name, content_hash, participants, status, last_message_at)
    VALUES (${userId}, 'tools', ${randomUUID()}, ${JSON.stringify([MAYA, JONAS, PRIYA])}::jsonb, 'ready', ${rows.at(-1)![0]}::timestamp)
    RETURNING id::text AS id`
  const chatId = chat!.id
  const ids: Array<string> = []
  for (const [seq, [at, author, kind, text, mediaKind]] of rows.entries()) {
    const [row] = yield* sql<{ id: string }>`
      INSERT INTO messages (chat_id, seq, sent_at_local, sent_at, author, text, kind, media_kind)
      VALUES (${chatId}::uuid, ${seq}, ${at}::timestamp, ${at}::timestamp AT TIME ZONE 'UTC', ${author}, ${text}, ${kind}, ${mediaKind ?? null})
      RETURNING id::text AS id`
    ids.push(row!.id)
  }
  const toolChat: ToolChat = { id: chatId, participants: [MAYA, JONAS, PRIYA], last_message_at: rows.at(-1)![0].replace(" ", "T") }
  return { chat: toolChat, ids }
}).pipe(Effect.orDie)

const fixture = store(rows)

/** The router's answer to a question, which must be routed. */
const ask = (chat: ToolChat, question: string) =>
  Effect.gen(function*() {
    const tools = yield* ChatTools
    const routed = yield* tools.route(chat, question)
    expect(routed, question).not.toBeNull()
    return yield* tools.answer(chat, routed!)
  }).pipe(Effect.orDie)

const Live = ChatTools.Default.pipe(Layer.provideMerge(TestDatabase()))

layer(Live, { excludeTestServices: true })("chat tools on PostgreSQL", (it) => {
  it.effect("counts by author, nickname, day and kind; media of one kind says how much media the export did not name", () =>
    Effect.gen(function*() {
      const { chat, ids } = yield* fixture
      const all = yield* ask(chat, "How many messages are there?")
      expect(all.text).toBe("Everyone together sent 16 messages in this chat (counted exactly from the chat).")
      expect(all.citations.map((c) => c.message_id)).toEqual(ids.slice(1, 4))

      expect((yield* ask(chat, "How many messages did Jo send?")).text).toBe(
        `${JONAS} sent 5 messages in this chat (counted exactly from the chat).`
      )
      expect((yield* ask(chat, "How many messages on New Year's Day?")).text).toBe(
        "Everyone together sent 4 messages on New Year's Day 2025 (2025-01-01) (counted exactly from the chat)."
      )
      for (const [kind, n] of [["deleted", 1], ["edited", 1], ["media", 5]] as const) {
        expect((yield* ask(chat, `How many ${kind} messages are there?`)).text).toContain(`sent ${n} ${kind} message`)
      }
      expect((yield* ask(chat, "How many links did we share?")).text).toContain("sent 1 message with a link")

      const voice = yield* ask(chat, "How many voice notes did we send?")
      expect(voice.text).toBe(
        "Everyone together sent 3 voice notes in this chat (counted exactly from the chat). The export does not say what " +
          "1 other media message under the same filters was, so it is not counted."
      )
      expect(voice.citations.map((c) => c.message_id)).toEqual([ids[3], ids[11], ids[15]])
      expect((yield* ask(chat, "How many voice notes did Pri send over the summer?")).text).toBe(
        `${PRIYA} sent 1 voice note in summer 2025 (2025-06-01 to 2025-08-31) (counted exactly from the chat).`
      )
    }))

  it.effect("a nickname is a short form of one first name that the others write as a name, capitalised", () =>
    Effect.gen(function*() {
      const { chat } = yield* store([
        ["2025-02-01 10:00", MAYA, "text", "Jonny, are you coming? maybe later"],
        ["2025-02-01 10:01", PRIYA, "text", "Maybe. Jonny never answers"],
        ["2025-02-01 10:02", JONAS, "text", "maybe not"],
        ["2025-02-01 10:03", JONAS, "text", "ok I'm coming"]
      ])
      const tools = yield* ChatTools
      expect((yield* ask(chat, "How many messages did Jonny send?")).text).toBe(`${JONAS} sent 2 messages in this chat (counted exactly from the chat).`)
      // "maybe" shares Maya's first letters but is written in lower case more often than not: not a name.
      expect(yield* tools.route(chat, "How many messages did maybe send?")).toBeNull()
    }).pipe(Effect.orDie))

  it.effect("counts whole words and phrases, ignoring case and accents, in text, edited text and captions", () =>
    Effect.gen(function*() {
      const { chat, ids } = yield* fixture
      const wedding = yield* ask(chat, "How many messages talk about the wedding?")
      expect(wedding.text).toBe(
        "Everyone together sent 3 messages mentioning \"wedding\" in this chat " +
          "(counted exactly from the chat; whole words, ignoring case and accents)."
      )
      expect(wedding.citations.map((c) => c.message_id)).toEqual([ids[8], ids[9], ids[14]])
      expect((yield* ask(chat, "How many messages mention cafe?")).text).toContain("sent 2 messages mentioning \"cafe\"")
      expect((yield* ask(chat, "How many messages mention the café?")).text).toContain("sent 2 messages mentioning \"cafe\"")
      expect((yield* ask(chat, "How many messages mention the new job?")).text).toContain("sent 3 messages mentioning \"new job\"")
      expect((yield* ask(chat, "How many messages mention fireworks?")).text).toContain("sent 1 message mentioning")
      // Not a substring of another word, nor a word of a URL's neighbour.
      expect((yield* ask(chat, "How many messages mention wed?")).text).toContain("sent 0 messages mentioning")
    }))

  it.effect("ranks everyone who took part, those with none too, and says when the top is tied", () =>
    Effect.gen(function*() {
      const { chat, ids } = yield* fixture
      const most = yield* ask(chat, "Who sent the most messages?")
      expect(most.text).toBe(`${MAYA} sent the most messages in this chat: 7 (then ${JONAS} 5, ${PRIYA} 4) (counted exactly from the chat).`)
      expect(most.citations.every((c) => c.author === MAYA)).toBe(true)
      expect(most.citations[0]?.message_id).toBe(ids[1])
      expect((yield* ask(chat, "Who sent the fewest voice notes?")).text).toBe(
        `${JONAS} sent the fewest voice notes in this chat: 0 (then ${MAYA} 1, ${PRIYA} 2) (counted exactly from the chat).`
      )
      expect((yield* ask(chat, "Who talked the most about the wedding?")).text).toContain(
        `${JONAS}, ${MAYA} and ${PRIYA} tied for the most messages mentioning "wedding" in this chat: 1 each`
      )
    }))

  it.effect("finds the first and last message matching the filters", () =>
    Effect.gen(function*() {
      const { chat, ids } = yield* fixture
      const first = yield* ask(chat, "When did the new job first come up?")
      expect(first.text).toBe(`The first message mentioning "new job" was sent on 2025-01-05 at 09:00 by ${JONAS}: "I got the new job!!"`)
      expect(first.citations.map((c) => c.message_id)).toEqual([ids[5]])
      const last = yield* ask(chat, "When did Maya last mention the new job?")
      expect(last.citations.map((c) => c.message_id)).toEqual([ids[13]])
      const none = yield* ask(chat, "What was the first message about the plumber?")
      expect(none).toEqual({ text: "There is no message mentioning \"plumber\" in this chat.", citations: [] })
    }))

  it.effect("finds the busiest day, hour and month, earliest first on a tie", () =>
    Effect.gen(function*() {
      const { chat, ids } = yield* fixture
      const day = yield* ask(chat, "What was the busiest day?")
      expect(day.text).toBe(
        "The busiest day for messages in this chat was 2025-01-01, with 4 messages (then 2025-01-05 with 3, 2025-01-20 with 3) " +
          "(counted exactly from the chat)."
      )
      expect(day.citations.map((c) => c.message_id)).toEqual(ids.slice(1, 4))
      expect((yield* ask(chat, "Which month had the most messages?")).text).toContain("was January 2025, with 10 messages")
      expect((yield* ask(chat, "What time of day is the chat most active?")).text).toContain("was 00:00-00:59, with 3 messages")
    }))

  it.effect("measures the longest silence, in the whole chat or a period, as the statistics do", () =>
    Effect.gen(function*() {
      const { chat, ids } = yield* fixture
      const whole = yield* ask(chat, "What was the longest silence?")
      expect(whole.text).toMatch(/^The longest silence in this chat lasted 127 days 7 hours: from 2025-03-10 12:40 \(Maya Lindqvist: /)
      expect(whole.citations.map((c) => c.message_id)).toEqual([ids[13], ids[14]])
      const winter = yield* ask(chat, "What was the longest silence between January and February 2025?")
      expect(winter.text).toContain("lasted 15 days 8 hours")
      expect(winter.citations.map((c) => c.message_id)).toEqual([ids[7], ids[8]])
    }))

  it.effect("measures median reply times per person, with the statistics' definition of a reply", () =>
    Effect.gen(function*() {
      const { chat } = yield* fixture
      expect((yield* ask(chat, "Who replies fastest?")).text).toBe(
        `${JONAS} replies fastest in this chat: a median of 1 minute over 3 replies (then ${PRIYA} 2 minutes, ${MAYA} 28 minutes). ` +
          "A reply is a message answering someone else's within 4 hours; times are medians, measured exactly from the chat."
      )
      expect((yield* ask(chat, "How fast does Maya usually reply?")).text).toContain(
        `${MAYA}'s median reply time in this chat is 28 minutes, over 3 replies.`
      )
      expect((yield* ask(chat, "Who takes the longest to reply?")).text).toMatch(new RegExp(`^${MAYA} replies slowest`))
    }))

  it.effect("a model's calls are decoded, run and answered as JSON with the messages they rest on; bad calls get the reason", () =>
    Effect.gen(function*() {
      const { chat, ids } = yield* fixture
      const { cited, tools } = (yield* ChatTools).forModel(chat)
      const reply = yield* tools.call("count_messages", { author: "Jo", mentions: "new job" })
      expect(reply.response).toMatchObject({
        filters: `messages mentioning "new job" by ${JONAS} in this chat`,
        result: { tool: "count_messages", count: 1 },
        messages: [{ id: ids[5], author: JONAS, text: "I got the new job!!" }]
      })
      expect(reply.evidence.map((m) => m.messageId)).toEqual([ids[5]])
      expect([...cited.keys()]).toEqual([ids[5]])
      expect((yield* tools.call("count_messages", { author: "Zed" })).response).toEqual({
        error: `no participant is called "Zed"; the participants are ${MAYA}, ${JONAS}, ${PRIYA}`
      })
      expect((yield* tools.call("busiest", { unit: "week" })).response).toMatchObject({ error: expect.stringContaining("unit") })
    }).pipe(Effect.orDie))
})

class Fake extends Context.Tag("test/ChatToolsFakeGemini")<Fake, FakeGemini>() {}

const WithGemini = Layer.unwrapScoped(
  Effect.map(fakeGemini, (fake) => TestApp(fakeGeminiEnv(fake)).pipe(Layer.merge(Layer.succeed(Fake, fake))))
)

const shedChat = {
  name: "WhatsApp Chat with Shed.txt",
  bytes: new Uint8Array(Buffer.from(
    [
      `22/03/2023, 20:05 - Tomas Keller: Does anyone know where the shed key went?`,
      `22/03/2023, 20:09 - Leila Haddad: I have the shed key, it is on my keyring`,
      `22/03/2023, 20:10 - Tomas Keller: Can you drop it off tomorrow?`,
      `29/04/2023, 08:20 - Leila Haddad: Yes, the shed key is still on my keyring, come and get it`
    ].join("\n") + "\n",
    "utf8"
  ))
}

layer(WithGemini, { excludeTestServices: true })("chat tools offered to Gemini", (it) => {
  it.effect("a question the router leaves to retrieval is answered by Gemini through a tool call, citing what the tool returned", () =>
    Effect.gen(function*() {
      const fake = yield* Fake
      const token = yield* tokenFor("tools-gemini")
      const api = yield* client(token)
      yield* api.users.store()
      const chat = yield* api.chats.upload({ payload: uploadForm(shedChat) })
      const sql = yield* SqlClient.SqlClient
      const [first] = yield* sql<{ id: string }>`SELECT id::text AS id FROM messages
        WHERE chat_id = ${chat.id}::uuid AND author = 'Leila Haddad' ORDER BY seq LIMIT 1`
      fake.reset()
      fake.callFunction("count_messages", { author: "Leila", mentions: "shed key" })
      fake.answerWhen("functionResponse", JSON.stringify({ answer: "Leila mentioned the shed key twice.", message_ids: [first!.id] }))

      // "Roughly" is not a filter the router knows: the question goes to retrieval and the model.
      const reply = yield* api.rag.query({ payload: { chat_id: chat.id, question: "Roughly how often did Leila bring up the shed key?" } })
      expect(reply).toMatchObject({ answer: "Leila mentioned the shed key twice.", mode: "full-text" })
      expect(reply.citations.map((c) => c.message_id)).toEqual([first!.id])

      const generate = fake.requests.filter((request) => request.action === "generateContent")
      expect(generate).toHaveLength(2)
      expect(JSON.stringify(generate[0]!.body)).toContain("\"name\":\"count_messages\"")
      // The follow-up answers the call with the database's exact count, the first name resolved to the participant.
      const followUp = generate[1]!.body
      const contents = typeof followUp === "object" && followUp !== null && "contents" in followUp && Array.isArray(followUp.contents)
        ? followUp.contents
        : []
      expect(contents.at(-1)).toMatchObject({
        role: "user",
        parts: [{
          functionResponse: {
            id: "call-1",
            name: "count_messages",
            response: {
              filters: "messages mentioning \"shed key\" by Leila Haddad in this chat",
              result: { count: 2 },
              messages: [{ id: first!.id }, { text: "Yes, the shed key is still on my keyring, come and get it" }]
            }
          }
        }]
      })
    }).pipe(Effect.orDie))
})
