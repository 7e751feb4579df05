/**
 * Questions about a chat through HTTP on a fresh database, with a real worker running the embedding and
 * purge jobs, the offline language model (no key is set) and the pgvector store: indexing progress,
 * cited offline answers, exact answers from SQL, conversations and follow-ups, validation and isolation,
 * answers before indexing (full text only), the embedding job's idempotency and resumption, and the
 * removal of a chat's chunks and vectors when the chat is deleted. Tests headed by a BUG comment fail
 * until the defect in src that the comment describes is fixed.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import { ChatAccess } from "../src/Chats/Access.js"
import type { CitedMessage, VectorStatus } from "../src/Domain/Rag.js"
import { LlmLive } from "../src/Llm/Live.js"
import { offlineEmbedder } from "../src/Llm/Offline.js"
import { EmbedChat } from "../src/Rag/Embedding.js"
import { ChunksRepo } from "../src/Rag/ChunksRepo.js"
import { Vector } from "../src/Vector.js"
import { VectorLive } from "../src/Vector/Live.js"
import type { RunningJob } from "../src/Worker/Handler.js"
import { Jobs } from "../src/Worker/Jobs.js"
import {
  call,
  client,
  refused,
  rejected,
  TestApp,
  TestAppWithWorker,
  TestConfig,
  tokenFor,
  upload,
  uploadForm,
  waitFor
} from "./support/TestApp.js"

// ---------------------------------------------------------------------------------------------------
// The fixture: a fictional Android export (day first, 24 h), three people, six conversations on
// different days or separated by silences over an hour, one system line, 40 messages.

const MARTA = "Marta Ribeiro"
const TOMAS = "Tomas Keller"
const LEILA = "Leila Haddad"

const SHED_KEY_MESSAGE = "I have the shed key, it is on my keyring since Sunday"
const FIRST_MESSAGE = "Big news: I got the job, we are moving to Porto in May!"

const chatLines = [
  "14/03/2023, 09:00 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.",
  // Moving to Porto
  `14/03/2023, 09:02 - ${MARTA}: ${FIRST_MESSAGE}`,
  `14/03/2023, 09:04 - ${TOMAS}: No way! Porto is gorgeous, congratulations`,
  `14/03/2023, 09:05 - ${LEILA}: Congrats Marta!! Which part of Porto?`,
  `14/03/2023, 09:07 - ${MARTA}: A flat in Bonfim, close to the river and the metro`,
  `14/03/2023, 09:09 - ${TOMAS}: Are you taking the piano with you?`,
  `14/03/2023, 09:11 - ${MARTA}: The removal van comes on the 28th of April, the piano goes with it`,
  `14/03/2023, 09:12 - ${LEILA}: We need a farewell dinner before that`,
  `14/03/2023, 09:15 - ${MARTA}: Definitely, let us pick a date later`,
  // Biscuit the dog (the same day, after a silence of hours)
  `14/03/2023, 18:40 - ${TOMAS}: Biscuit ate one of my socks again`,
  `14/03/2023, 18:41 - ${LEILA}: Haha that dog has no shame`,
  `14/03/2023, 18:43 - ${TOMAS}: The vet says Biscuit is fine but he must stop chewing laundry`,
  `14/03/2023, 18:44 - ${MARTA}: Poor Biscuit, give him a chew toy instead`,
  `14/03/2023, 18:46 - ${TOMAS}: Bought him a rubber bone, he ignored it completely`,
  `14/03/2023, 18:47 - ${LEILA}: Typical beagle`,
  // The shed key
  `22/03/2023, 20:05 - ${TOMAS}: Does anyone know where the shed key went? I need the lawnmower`,
  `22/03/2023, 20:09 - ${LEILA}: ${SHED_KEY_MESSAGE}`,
  `22/03/2023, 20:10 - ${TOMAS}: Can you drop it off tomorrow morning?`,
  `22/03/2023, 20:12 - ${LEILA}: Sure, I will leave it under the flowerpot by the back door`,
  `22/03/2023, 20:13 - ${MARTA}: Please oil the padlock too, it sticks in the rain`,
  `22/03/2023, 20:15 - ${TOMAS}: Will do, thanks both`,
  // The Porto flat
  `02/04/2023, 10:01 - ${MARTA}: Signed the lease for the Porto flat this morning`,
  `02/04/2023, 10:03 - ${LEILA}: Amazing! Does it have a balcony?`,
  `02/04/2023, 10:04 - ${MARTA}: A tiny one, enough for two chairs and a lemon tree`,
  `02/04/2023, 10:06 - ${TOMAS}: Can Biscuit come and visit?`,
  `02/04/2023, 10:07 - ${MARTA}: Biscuit is always welcome, the landlord allows dogs`,
  `02/04/2023, 10:09 - ${LEILA}: I will miss our Sunday walks`,
  `02/04/2023, 10:10 - ${MARTA}: Me too, you have to come to Porto for the festival of São João`,
  // The farewell dinner
  `18/04/2023, 19:30 - ${LEILA}: Farewell dinner on Friday at the Lebanese place?`,
  `18/04/2023, 19:32 - ${TOMAS}: Friday works for me`,
  `18/04/2023, 19:33 - ${MARTA}: Perfect, I will book a table for three at eight`,
  `18/04/2023, 19:35 - ${LEILA}: I am bringing a present, do not ask`,
  `18/04/2023, 19:36 - ${TOMAS}: Should I bring Biscuit? He loves restaurants`,
  `18/04/2023, 19:38 - ${MARTA}: Only if he promises not to eat the tablecloth`,
  // Moving day, and arrival in the evening
  `29/04/2023, 08:15 - ${MARTA}: The van is loaded, we are leaving for Porto now`,
  `29/04/2023, 08:17 - ${LEILA}: Safe travels! Send photos when you arrive`,
  `29/04/2023, 08:18 - ${TOMAS}: Leila still has the shed key, right? I am locked out again`,
  `29/04/2023, 08:20 - ${LEILA}: Yes, it is still on my keyring, come and get it`,
  `29/04/2023, 08:21 - ${MARTA}: You two and that shed, I will miss this`,
  `29/04/2023, 21:40 - ${MARTA}: Arrived in Porto, the flat smells of fresh paint`,
  `29/04/2023, 21:42 - ${LEILA}: Welcome home, Porto girl`
]

const chatBytes = new Uint8Array(Buffer.from(chatLines.join("\n") + "\n", "utf8"))
const chatFile = { name: "WhatsApp Chat with Porto friends.txt", bytes: chatBytes }

/** A second, smaller chat of the same user, for conversations that belong to another chat. */
const otherChatFile = {
  name: "WhatsApp Chat with Allotment.txt",
  bytes: new Uint8Array(Buffer.from(
    [
      `05/05/2023, 17:00 - ${TOMAS}: The tomatoes are finally red`,
      `05/05/2023, 17:02 - ${LEILA}: Save me a bag of them please`,
      `05/05/2023, 17:05 - ${TOMAS}: Only if you bring the shed key back`
    ].join("\n") + "\n",
    "utf8"
  ))
}


// ---------------------------------------------------------------------------------------------------
// Requests. Through the typed client (src/Client.ts), which decodes with the contract's own schemas;
// raw `call` only where a test reads a 400 on the wire.

/** POST /api/chats/upload, expecting a new chat (201). */
const uploadNew = (token: string, file: { readonly name: string; readonly bytes: Uint8Array }) =>
  Effect.gen(function*() {
    const api = yield* client(token)
    const [chat, response] = yield* api.chats.upload({ payload: uploadForm(file), withResponse: true })
    expect(response.status).toBe(201)
    expect(chat.created).toBe(true)
    return chat
  })

/** A token for a user who has called POST /api/users/store. */
const user = (sub: string) =>
  Effect.gen(function*() {
    const token = yield* tokenFor(sub, { email: `${sub}@example.com`, name: sub })
    yield* (yield* client(token)).users.store()
    return token
  })

/** A question sent raw, for the refusals of malformed questions (some of which the typed client would not even encode). */
const askRaw = (token: string, chatId: string, question: string, conversationId?: string) =>
  call("POST", "/api/rag/query", {
    token,
    json: { chat_id: chatId, question, ...(conversationId === undefined ? {} : { conversation_id: conversationId }) }
  })

const ask = (token: string, chatId: string, question: string, conversationId?: string) =>
  Effect.flatMap(client(token), (api) =>
    api.rag.query({
      payload: { chat_id: chatId, question, ...(conversationId === undefined ? {} : { conversation_id: conversationId }) }
    }))

const vectorStatus = (token: string, chatId: string) =>
  Effect.flatMap(client(token), (api) => api.rag.vectorStatus({ path: { chat_id: chatId } }))

/** Polls the vector status until it is ready; returns every status seen. */
const untilReady = (token: string, chatId: string) =>
  Effect.gen(function*() {
    const seen: Array<VectorStatus> = []
    yield* waitFor("the chat to be indexed", Effect.tap(vectorStatus(token, chatId), (s) => seen.push(s)), (s) =>
      s.status === "ready" || s.status === "failed")
    return seen
  })

// ---------------------------------------------------------------------------------------------------
// SQL probes

/** Every citation is a stored message of the chat, with its stored author and text. */
const expectRealCitations = (chatId: string, citations: ReadonlyArray<CitedMessage>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    for (const citation of citations) {
      const rows = yield* sql<{ author: string | null; text: string; kind: string }>`
        SELECT author, text, kind FROM messages WHERE id = ${citation.message_id}::bigint AND chat_id = ${chatId}::uuid`
      expect(rows, `message ${citation.message_id} of chat ${chatId}`).toHaveLength(1)
      expect(rows[0]).toMatchObject({ author: citation.author, text: citation.text })
      expect(rows[0]?.kind).not.toBe("system")
    }
  }).pipe(Effect.orDie)

interface ChunkRow {
  readonly id: string
  readonly seq: number
  readonly embedder: string
  readonly embedded: boolean
  readonly embedding: string | null
}

const chunksOf = (chatId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<ChunkRow>`
      SELECT id::text AS id, seq, embedder, embedded_at IS NOT NULL AS embedded, embedding::text AS embedding
      FROM chunks WHERE chat_id = ${chatId}::uuid ORDER BY seq`).pipe(Effect.orDie)

const duplicateChunks = (chatId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ seq: number; n: number }>`
      SELECT seq, count(*)::int AS n FROM chunks WHERE chat_id = ${chatId}::uuid
      GROUP BY chat_id, embedder, seq HAVING count(*) > 1`).pipe(Effect.orDie)

const messageCount = (chatId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE chat_id = ${chatId}::uuid`).pipe(
      Effect.map((rows) => rows[0]?.n ?? -1),
      Effect.orDie
    )

/** The job services (enqueue, status) on the test's database. */
const withJobs = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, Jobs.Default)

/** The embedding job's own services, as the worker gives them, for running the handler directly. */
const EmbedServices = Layer.mergeAll(ChunksRepo.Default, ChatAccess.Default, LlmLive, VectorLive).pipe(Layer.provide(TestConfig()))

// ---------------------------------------------------------------------------------------------------
// The application with a worker that runs the embedding and purge jobs (TestApp starts none).

const AppWithWorker = TestAppWithWorker()

/** Uploads the fixture for a new user and waits until its vectors are stored. */
const indexedChat = (sub: string) =>
  Effect.gen(function*() {
    const token = yield* user(sub)
    const chat = yield* uploadNew(token, chatFile)
    const seen = yield* untilReady(token, chat.id)
    expect(seen[seen.length - 1]?.status).toBe("ready")
    return { token, chatId: chat.id, seen }
  })

// The live clock: the server's retries and the worker's polling sleep for real.
layer(AppWithWorker, { excludeTestServices: true })("rag with a worker", (it) => {
  it.effect("after upload the vector status goes from pending/indexing to ready; chunks are stored and embedded once", () =>
    Effect.gen(function*() {
      const { chatId, seen, token } = yield* indexedChat("rag-index")
      expect(yield* messageCount(chatId)).toBe(chatLines.length)

      // Every status on the way is one of the expected ones, and only ready is final.
      for (const status of seen) {
        expect(["pending", "indexing", "ready"]).toContain(status.status)
        expect(status).toMatchObject({ chat_id: chatId, embedder: offlineEmbedder, error: null })
        expect(status.done).toBeLessThanOrEqual(status.total)
      }
      const ready = seen[seen.length - 1]
      expect(ready?.total).toBeGreaterThan(0)
      expect(ready?.done).toBe(ready?.total)

      const chunks = yield* chunksOf(chatId)
      expect(chunks.length).toBe(ready?.total)
      // A chunk never spans a silence: six conversations make at least six chunks.
      expect(chunks.length).toBeGreaterThanOrEqual(6)
      expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i))
      for (const chunk of chunks) {
        expect(chunk.embedder).toBe(offlineEmbedder)
        expect(chunk.embedded).toBe(true)
        expect(chunk.embedding).not.toBeNull()
        expect(JSON.parse(chunk.embedding ?? "[]")).toHaveLength(512)
      }
      expect(yield* duplicateChunks(chatId)).toEqual([])

      // The one embedding job succeeded and recorded its progress.
      const job = yield* withJobs(Effect.flatMap(Jobs, (jobs) => jobs.statusByKey(`chat.embed:${chatId}:${offlineEmbedder}`)))
      expect(job._tag).toBe("Some")
      if (job._tag === "Some") {
        expect(job.value).toMatchObject({ kind: "chat.embed", status: "succeeded", attempts: 1, user_id: "rag-index" })
        expect(job.value.progress).toEqual({ done: chunks.length, total: chunks.length })
      }
      // Still ready when asked again.
      expect(yield* vectorStatus(token, chatId)).toEqual(ready)
    }))

  it.effect("POST /api/rag/query answers offline-hybrid, citing real messages of the chat about the topic asked", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* indexedChat("rag-query")

      const shed = yield* ask(token, chatId, "Who has the shed key?")
      expect(shed.mode).toBe("offline-hybrid")
      expect(shed.answer.toLowerCase()).toContain("offline")
      expect(shed.conversation_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      expect(shed.citations.length).toBeGreaterThan(0)
      expect(shed.citations.length).toBeLessThanOrEqual(3)
      yield* expectRealCitations(chatId, shed.citations)
      // The best citation is about the shed key, and Leila's answer that she has it is cited and quoted.
      expect(shed.citations[0]?.text.toLowerCase()).toContain("shed key")
      expect(shed.citations.map((c) => c.text)).toContain(SHED_KEY_MESSAGE)
      expect(shed.citations.find((c) => c.text === SHED_KEY_MESSAGE)).toMatchObject({
        author: LEILA,
        sent_at: "2023-03-22T20:09:00"
      })
      expect(shed.answer).toContain(SHED_KEY_MESSAGE)

      const dog = yield* ask(token, chatId, "What did the vet tell Tomas about Biscuit?")
      expect(dog.mode).toBe("offline-hybrid")
      yield* expectRealCitations(chatId, dog.citations)
      expect(dog.citations[0]?.text).toBe("The vet says Biscuit is fine but he must stop chewing laundry")

      const porto = yield* ask(token, chatId, "When did Marta sign the lease for the flat in Porto?")
      expect(porto.mode).toBe("offline-hybrid")
      yield* expectRealCitations(chatId, porto.citations)
      expect(porto.citations[0]?.text).toBe("Signed the lease for the Porto flat this morning")

      // Each question without conversation_id starts a conversation of its own.
      expect(new Set([shed.conversation_id, dog.conversation_id, porto.conversation_id]).size).toBe(3)
    }))

  it.effect("counts of deleted, edited and media messages and of one day are exact; what the router cannot map goes to retrieval", () =>
    Effect.gen(function*() {
      const token = yield* tokenFor("rag-kinds")
      expect((yield* call("POST", "/api/users/store", { token })).status).toBe(200)
      const bytes = new Uint8Array(readFileSync(new URL("./fixtures/whatsapp/android-24h-group.txt", import.meta.url)))
      const uploaded = yield* upload(token, { name: "group.txt", bytes })
      expect(uploaded.status).toBe(201)
      const chatId = Schema.decodeUnknownSync(Schema.Struct({ id: Schema.String }))(uploaded.body).id
      const sql = yield* SqlClient.SqlClient
      for (const kind of ["deleted", "edited", "media"] as const) {
        const [stored] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE chat_id = ${chatId}::uuid AND kind = ${kind}`
        expect(stored?.n ?? 0, kind).toBeGreaterThan(0)
        const reply = yield* ask(token, chatId, `How many ${kind} messages are there?`)
        expect(reply.mode, kind).toBe("exact")
        expect(reply.answer).toContain(`sent ${stored?.n} ${kind} message`)
      }
      const [day] = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM messages
        WHERE chat_id = ${chatId}::uuid AND kind <> 'system' AND sent_at_local::date = '2021-02-04'`
      const onDay = yield* ask(token, chatId, "How many messages were sent on 4 February 2021?")
      expect(onDay.mode).toBe("exact")
      expect(onDay.answer).toContain(`${day?.n} message`)
      expect(onDay.answer).toContain("on 2021-02-04")
      expect((yield* ask(token, chatId, "How many messages were sent on Mondays?")).mode).not.toBe("exact")
      // Android writes every attachment as "<Media omitted>": a count of voice notes says it cannot see them.
      expect((yield* ask(token, chatId, "How many messages were voice notes?")).answer).toContain("The export does not say what")
      const [top] = yield* sql<{ author: string; n: number }>`SELECT author, count(*)::int AS n FROM messages
        WHERE chat_id = ${chatId}::uuid AND kind <> 'system' AND author IS NOT NULL GROUP BY author ORDER BY n DESC, author LIMIT 1`
      const most = yield* ask(token, chatId, "Who sent the most messages?")
      expect(most.mode).toBe("exact")
      expect(most.answer).toContain(`${top?.author} sent the most messages in this chat: ${top?.n}`)
      expect(most.citations.every((citation) => citation.author === top?.author)).toBe(true)
    }))

  it.effect("questions with exact answers are answered by the database (mode exact)", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* indexedChat("rag-exact")
      const sql = yield* SqlClient.SqlClient

      const [march] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM messages WHERE chat_id = ${chatId}::uuid AND author = ${MARTA}
          AND kind <> 'system' AND sent_at_local >= '2023-03-01' AND sent_at_local < '2023-04-01'`
      // The fixture: four Porto messages, one about Biscuit, one about the padlock.
      expect(march?.n).toBe(6)
      const counted = yield* ask(token, chatId, "How many messages did Marta send in March 2023?")
      expect(counted.mode).toBe("exact")
      expect(counted.answer).toContain(`${MARTA} sent ${march?.n} messages in March 2023`)
      expect(counted.citations.length).toBeGreaterThan(0)
      yield* expectRealCitations(chatId, counted.citations)
      for (const c of counted.citations) {
        expect(c.author).toBe(MARTA)
        expect(c.sent_at.slice(0, 7)).toBe("2023-03")
      }

      const [april] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM messages WHERE chat_id = ${chatId}::uuid AND author = ${LEILA}
          AND kind <> 'system' AND sent_at_local >= '2023-04-01' AND sent_at_local < '2023-05-01'`
      expect(april?.n).toBe(7)
      const leila = yield* ask(token, chatId, "How many messages did Leila Haddad send in April?")
      expect(leila.mode).toBe("exact")
      expect(leila.answer).toContain(`${LEILA} sent ${april?.n} messages in April 2023`)

      const [all] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM messages WHERE chat_id = ${chatId}::uuid AND kind <> 'system'`
      expect(all?.n).toBe(chatLines.length - 1)
      const everyone = yield* ask(token, chatId, "How many messages are there?")
      expect(everyone.mode).toBe("exact")
      expect(everyone.answer).toContain(`sent ${all?.n} messages in this chat`)

      const [first] = yield* sql<{ id: string; text: string; author: string }>`
        SELECT id::text AS id, text, author FROM messages WHERE chat_id = ${chatId}::uuid AND kind <> 'system'
        ORDER BY seq LIMIT 1`
      expect(first?.text).toBe(FIRST_MESSAGE)
      const firstAnswer = yield* ask(token, chatId, "What was the first message?")
      expect(firstAnswer.mode).toBe("exact")
      expect(firstAnswer.citations).toEqual([
        { message_id: first?.id, author: MARTA, sent_at: "2023-03-14T09:02:00", text: FIRST_MESSAGE }
      ])
      expect(firstAnswer.answer).toContain(FIRST_MESSAGE)
      expect(firstAnswer.answer).toContain("2023-03-14 at 09:02")

      const [last] = yield* sql<{ id: string; text: string }>`
        SELECT id::text AS id, text FROM messages WHERE chat_id = ${chatId}::uuid AND kind <> 'system'
          AND author = ${TOMAS} ORDER BY seq DESC LIMIT 1`
      const lastAnswer = yield* ask(token, chatId, "What was the last message from Tomas?")
      expect(lastAnswer.mode).toBe("exact")
      expect(lastAnswer.citations).toEqual([
        { message_id: last?.id, author: TOMAS, sent_at: "2023-04-29T08:18:00", text: last?.text }
      ])
      expect(lastAnswer.answer).toContain(`from ${TOMAS}`)

      const [leilaFirst] = yield* sql<{ id: string; text: string }>`
        SELECT id::text AS id, text FROM messages WHERE chat_id = ${chatId}::uuid AND kind <> 'system'
          AND author = ${LEILA} ORDER BY seq LIMIT 1`
      expect(leilaFirst?.text).toBe("Congrats Marta!! Which part of Porto?")
      const leilaFirstAnswer = yield* ask(token, chatId, "What was Leila's first message?")
      expect(leilaFirstAnswer).toMatchObject({ mode: "exact", citations: [{ message_id: leilaFirst?.id, author: LEILA }] })

      const lastOfAll = yield* ask(token, chatId, "Which was the most recent message?")
      expect(lastOfAll.mode).toBe("exact")
      expect(lastOfAll.citations.map((c) => c.text)).toEqual(["Welcome home, Porto girl"])
    }))

  // A first or last message "about" something names content, which only retrieval can weigh: it must not
  // be answered, as if exactly, with the chat's very first message ("Big news: ... Porto").
  it.effect("\"the first message about X\" is not answered with the chat's first message", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* indexedChat("rag-first-about")
      const reply = yield* ask(token, chatId, "What was the first message about the shed key?")
      yield* expectRealCitations(chatId, reply.citations)
      expect(reply.citations.map((c) => c.text), reply.answer).not.toContain(FIRST_MESSAGE)
      expect(reply.citations[0]?.text.toLowerCase(), reply.answer).toContain("shed key")
    }))

  // BUG (src/Rag/Router.ts, `rangeIn`, line 40): month names are matched as bare words, so the modal verb
  // "may" is read as the month May: "How many messages did Leila send, may I ask?" is answered "Leila Haddad
  // sent 0 messages in May 2023" instead of her total. Fix: accept "may" as a month only when a year
  // follows or a preposition precedes it ("in/during/since/until May"), as `yearMatch` already requires.
  it.effect("the word \"may\" in a count question is not read as the month of May", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* indexedChat("rag-may")
      const sql = yield* SqlClient.SqlClient
      const [all] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM messages WHERE chat_id = ${chatId}::uuid AND author = ${LEILA} AND kind <> 'system'`
      expect(all?.n).toBe(13)
      const reply = yield* ask(token, chatId, "How many messages did Leila send, may I ask?")
      expect(reply.mode).toBe("exact")
      expect(reply.answer).toContain(`${LEILA} sent ${all?.n} messages in this chat`)
    }))

  it.effect("follow-ups, listing, reading and soft-deleting conversations", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* indexedChat("rag-conversations")
      const api = yield* client(token)

      const first = yield* ask(token, chatId, "Who has the shed key?")
      const followUp = yield* ask(token, chatId, "And where did Leila leave it under?", first.conversation_id)
      expect(followUp.conversation_id).toBe(first.conversation_id)
      const separate = yield* ask(token, chatId, "Is Biscuit a beagle?")
      expect(separate.conversation_id).not.toBe(first.conversation_id)
      const conversations = api.rag.conversations({ urlParams: { chat_id: chatId } })
      const listOrder = Effect.map(conversations, (list) => list.data.map((c) => c.id))
      // Most recently updated first: a follow-up brings its conversation back to the top.
      expect(yield* listOrder).toEqual([separate.conversation_id, first.conversation_id])
      yield* Effect.sleep("10 millis")
      const third = yield* ask(token, chatId, "How many messages did Tomas send?", first.conversation_id)
      expect(third.conversation_id).toBe(first.conversation_id)
      expect(third.mode).toBe("exact")
      expect(yield* listOrder).toEqual([first.conversation_id, separate.conversation_id])

      const listed = yield* conversations
      expect(listed.data.map((c) => c.id)).toEqual([first.conversation_id, separate.conversation_id])
      expect(listed.data.every((c) => c.chat_id === chatId)).toBe(true)
      expect(listed.data.find((c) => c.id === separate.conversation_id)?.title).toBe("Is Biscuit a beagle?")
      expect(listed.data.find((c) => c.id === first.conversation_id)).toMatchObject({
        chat_id: chatId,
        title: "Who has the shed key?"
      })

      // Paginated like every list: one per page here, in the same order, each once.
      const firstPage = yield* api.rag.conversations({ urlParams: { chat_id: chatId, limit: 1 } })
      expect(firstPage.data.map((c) => c.id)).toEqual([first.conversation_id])
      expect(firstPage.has_more).toBe(true)
      const secondPage = yield* api.rag.conversations({
        urlParams: { chat_id: chatId, limit: 1, starting_after: firstPage.next_cursor ?? undefined }
      })
      expect(secondPage).toMatchObject({ has_more: false, next_cursor: null })
      expect(secondPage.data.map((c) => c.id)).toEqual([separate.conversation_id])

      const conversation = { conversation_id: first.conversation_id }
      const detail = yield* api.rag.conversation({ path: conversation })
      expect(detail).toMatchObject({ id: first.conversation_id, chat_id: chatId, title: "Who has the shed key?" })
      expect(detail.messages.map((m) => [m.role, m.mode])).toEqual([
        ["user", null],
        ["assistant", "offline-hybrid"],
        ["user", null],
        ["assistant", followUp.mode],
        ["user", null],
        ["assistant", "exact"]
      ])
      expect(detail.messages.map((m) => m.content)).toEqual([
        "Who has the shed key?",
        first.answer,
        "And where did Leila leave it under?",
        followUp.answer,
        "How many messages did Tomas send?",
        third.answer
      ])
      expect(detail.messages[0]?.citations).toEqual([])
      expect(detail.messages[1]?.citations).toEqual(first.citations)
      expect(detail.messages[1]?.citations.map((c) => c.text)).toContain(SHED_KEY_MESSAGE)
      expect(detail.messages[3]?.citations).toEqual(followUp.citations)
      expect(detail.messages[5]?.citations).toEqual(third.citations)
      yield* expectRealCitations(chatId, detail.messages.flatMap((m) => m.citations))

      expect(yield* api.rag.deleteConversation({ path: conversation })).toEqual({ id: first.conversation_id, deleted: true })
      yield* rejected(api.rag.conversation({ path: conversation }), "NotFound")
      const after = yield* conversations
      expect(after.data.map((c) => c.id)).toEqual([separate.conversation_id])
      yield* rejected(api.rag.deleteConversation({ path: conversation }), "NotFound")
      // A deleted conversation cannot be followed up either.
      yield* rejected(ask(token, chatId, "Anything else?", first.conversation_id), "NotFound")

      // Soft: the row is still there, marked deleted, with its messages.
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ deleted: boolean; messages: number }>`
        SELECT deleted_at IS NOT NULL AS deleted,
               (SELECT count(*)::int FROM ai_messages WHERE conversation_id = ${first.conversation_id}::uuid) AS messages
        FROM ai_conversations WHERE id = ${first.conversation_id}::uuid`
      expect(rows).toEqual([{ deleted: true, messages: 6 }])
    }))

  // BUG (src/Rag.ts, `query`, line 91): the conversation title is `question.slice(0, 120)`, which counts
  // UTF-16 code units and can cut an emoji (a surrogate pair) in half; the lone surrogate is stored as
  // U+FFFD, so the title ends in a replacement character "\uFFFD" that was never typed. Fix: cut by code
  // points, e.g. `Array.from(question).slice(0, 120).join("")` (or drop a trailing high surrogate).
  it.effect("a conversation title cut at 120 characters does not split an emoji into a replacement character", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* indexedChat("rag-title")
      const question = `${"a".repeat(119)}🐶 is Biscuit a beagle?`
      const reply = yield* ask(token, chatId, question)
      const detail = yield* (yield* client(token)).rag.conversation({ path: { conversation_id: reply.conversation_id } })
      expect(detail.messages[0]?.content).toBe(question)
      expect(detail.title).not.toContain("\uFFFD")
      expect(question.startsWith(detail.title)).toBe(true)
      expect(["a".repeat(119), `${"a".repeat(119)}🐶`]).toContain(detail.title)
    }))

  it.effect("validation: empty and over-long questions are 400s; others' chats and conversations are 404s", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* indexedChat("rag-validation-a")
      const other = yield* uploadNew(token, otherChatFile)
      const b = yield* user("rag-validation-b")
      const theirs = yield* uploadNew(b, otherChatFile)
      const sql = yield* SqlClient.SqlClient
      const conversationCount = sql<{ n: number }>`SELECT count(*)::int AS n FROM ai_conversations`.pipe(
        Effect.map((rows) => rows[0]?.n ?? -1),
        Effect.orDie
      )
      const before = yield* conversationCount

      for (const question of ["", "   ", "\n\t  "]) {
        refused(yield* askRaw(token, chatId, question), 400, "validation_error", "question")
      }
      refused(yield* askRaw(token, chatId, "x".repeat(2001)), 400, "validation_error", "question", "2000")
      refused(yield* askRaw(token, chatId, "shed key ".repeat(500)), 400, "validation_error", "question")
      refused(yield* askRaw(token, chatId, "y".repeat(9000)), 400, "validation_error", "question")
      // Surrounding spaces do not count: 2000 characters after trimming is allowed.
      const longest = yield* ask(token, chatId, `   ${"key ".repeat(499)}keys   `)
      expect(longest.mode).toBe("offline-hybrid")
      // No conversation was made by a refused question.
      expect(yield* conversationCount).toBe(before + 1)
      refused(yield* askRaw(token, "not-a-uuid", "Who has the shed key?"), 400, "validation_error", "chat_id")
      refused(yield* askRaw(token, chatId, "Who has the shed key?", "not-a-uuid"), 400, "validation_error", "conversation_id")

      // Words are all that reach the full-text query: its operators typed in a question are harmless.
      const operators = yield* ask(token, chatId, "shed & key | !(lawnmower):* <-> '; DROP TABLE chunks; --")
      expect(operators.mode).toBe("offline-hybrid")
      yield* expectRealCitations(chatId, operators.citations)
      expect(operators.citations.map((c) => c.text)).toContain(SHED_KEY_MESSAGE)
      // A question without letters or digits is still a question: answered, citing only real messages.
      for (const question of ["?!", "🐶🐶🐶"]) {
        const answered = yield* ask(token, chatId, question)
        expect(answered.mode).toBe("offline-hybrid")
        expect(answered.answer.toLowerCase()).toContain("offline")
        yield* expectRealCitations(chatId, answered.citations)
      }

      // Unknown chat, another user's chat.
      const mineApi = yield* client(token)
      const theirApi = yield* client(b)
      yield* rejected(ask(token, randomUUID(), "Who has the shed key?"), "NotFound")
      yield* rejected(ask(token, theirs.id, "Who has the shed key?"), "NotFound")
      yield* rejected(ask(b, chatId, "Who has the shed key?"), "NotFound")
      yield* rejected(vectorStatus(b, chatId), "NotFound")
      yield* rejected(vectorStatus(token, randomUUID()), "NotFound")
      yield* rejected(theirApi.rag.conversations({ urlParams: { chat_id: chatId } }), "NotFound")
      yield* rejected(mineApi.rag.conversations({ urlParams: { chat_id: randomUUID() } }), "NotFound")

      // Another user's conversation.
      const mine = yield* ask(token, chatId, "Who has the shed key?")
      const theirConversation = yield* ask(b, theirs.id, "Are the tomatoes red?")
      const mineConversation = { conversation_id: mine.conversation_id }
      yield* rejected(theirApi.rag.conversation({ path: mineConversation }), "NotFound")
      yield* rejected(theirApi.rag.deleteConversation({ path: mineConversation }), "NotFound")
      yield* rejected(ask(b, theirs.id, "And then?", mine.conversation_id), "NotFound")
      yield* rejected(ask(token, chatId, "And then?", theirConversation.conversation_id), "NotFound")
      yield* rejected(mineApi.rag.conversation({ path: { conversation_id: randomUUID() } }), "NotFound")
      yield* rejected(mineApi.rag.deleteConversation({ path: { conversation_id: randomUUID() } }), "NotFound")

      // A conversation of another chat of the same user.
      yield* rejected(ask(token, other.id, "And then?", mine.conversation_id), "NotFound")

      // Nothing was appended to the conversations the refused follow-ups named.
      const turns = yield* sql<{ conversation_id: string; n: number }>`
        SELECT conversation_id::text AS conversation_id, count(*)::int AS n FROM ai_messages
        WHERE conversation_id IN (${mine.conversation_id}::uuid, ${theirConversation.conversation_id}::uuid)
        GROUP BY conversation_id ORDER BY conversation_id`
      expect(turns.map((t) => t.n)).toEqual([2, 2])
      // Still the owner's, and not deleted.
      expect((yield* mineApi.rag.conversation({ path: mineConversation })).id).toBe(mine.conversation_id)
    }))

  it.effect("the embedding job is idempotent, and a re-run completes an interrupted one", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* indexedChat("rag-idempotent")
      const before = yield* chunksOf(chatId)
      expect(before.length).toBeGreaterThan(1)
      expect(before.every((c) => c.embedded && c.embedding !== null)).toBe(true)

      const rerun = (key: string) =>
        withJobs(Effect.gen(function*() {
          const jobs = yield* Jobs
          const enqueued = yield* jobs.enqueue({
            kind: "chat.embed",
            payload: { chat_id: chatId, embedder: offlineEmbedder },
            dedupeKey: key,
            userId: "rag-idempotent"
          })
          expect(enqueued.created).toBe(true)
          return yield* waitFor(
            `the embedding job ${key}`,
            Effect.flatten(jobs.statusByKey(key)),
            (job) => ["succeeded", "failed", "cancelled"].includes(job.status)
          )
        })).pipe(Effect.orDie)

      // A second run over a fully embedded chat changes nothing.
      const second = yield* rerun(`rerun-1:${chatId}`)
      expect(second.status).toBe("succeeded")
      expect(second.progress).toEqual({ done: before.length, total: before.length })
      expect(yield* chunksOf(chatId)).toEqual(before)
      expect(yield* duplicateChunks(chatId)).toEqual([])

      // Interrupted after the chunks were stored, before every vector: odd chunks lose theirs.
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE chunks SET embedded_at = NULL, embedding = NULL WHERE chat_id = ${chatId}::uuid AND seq % 2 = 1`
      const interrupted = yield* chunksOf(chatId)
      const missing = interrupted.filter((c) => !c.embedded)
      expect(missing.length).toBe(Math.floor(before.length / 2))
      expect(missing.every((c) => c.embedding === null)).toBe(true)
      const status = yield* vectorStatus(token, chatId)
      expect(status).toMatchObject({ done: before.length - missing.length, total: before.length })

      const third = yield* rerun(`rerun-2:${chatId}`)
      expect(third.status).toBe("succeeded")
      expect(third.progress).toEqual({ done: before.length, total: before.length })
      // The same rows (same ids), every one embedded again, with the same deterministic vectors.
      expect(yield* chunksOf(chatId)).toEqual(before)
      expect(yield* duplicateChunks(chatId)).toEqual([])
      expect(yield* vectorStatus(token, chatId)).toMatchObject({ status: "ready", done: before.length, total: before.length })

      // And questions still find the right message.
      const shed = yield* ask(token, chatId, "Who has the shed key?")
      expect(shed.mode).toBe("offline-hybrid")
      expect(shed.citations.map((c) => c.text)).toContain(SHED_KEY_MESSAGE)
    }))

  it.effect("deleting the chat: the purge job removes its chunks, its vectors and its conversations", () =>
    Effect.gen(function*() {
      const { chatId, token } = yield* indexedChat("rag-purge")
      const kept = yield* uploadNew(token, otherChatFile)
      yield* untilReady(token, kept.id)
      const conversation = yield* ask(token, chatId, "Who has the shed key?")

      const vector = yield* Effect.provide(Vector, VectorLive.pipe(Layer.provide(TestConfig())))
      // Any unit vector of the embedder's size: a search returns the k nearest, however far.
      const axis = Array.from({ length: 512 }, (_, i) => (i === 0 ? 1 : 0))
      const probe = (id: string) =>
        vector.search({
          chatId: id,
          userId: "rag-purge",
          embedder: offlineEmbedder,
          vector: axis,
          k: 10
        }).pipe(Effect.orDie)
      const hitsBefore = yield* probe(chatId)
      const chunksBefore = yield* chunksOf(chatId)
      expect(hitsBefore.length).toBe(Math.min(10, chunksBefore.length))
      for (const hit of hitsBefore) expect(chunksBefore.map((c) => c.id)).toContain(hit.chunkId)
      const keptHits = (yield* probe(kept.id)).length
      expect(keptHits).toBeGreaterThan(0)

      const api = yield* client(token)
      yield* api.chats.delete({ path: { chat_id: chatId } })
      yield* rejected(ask(token, chatId, "Who has the shed key?"), "NotFound")
      yield* rejected(vectorStatus(token, chatId), "NotFound")
      yield* rejected(api.rag.conversation({ path: { conversation_id: conversation.conversation_id } }), "NotFound")

      const sql = yield* SqlClient.SqlClient
      const job = yield* waitFor(
        "the purge job to finish",
        sql<{ status: string }>`SELECT status FROM jobs WHERE dedupe_key = ${`chat.purge:${chatId}`}`.pipe(Effect.orDie),
        (rows) => rows.length === 1 && ["succeeded", "failed", "cancelled"].includes(rows[0]?.status ?? "")
      )
      expect(job).toEqual([{ status: "succeeded" }])

      const left = yield* sql<{ chunks: number; messages: number; conversations: number }>`
        SELECT (SELECT count(*)::int FROM chunks WHERE chat_id = ${chatId}::uuid) AS chunks,
               (SELECT count(*)::int FROM messages WHERE chat_id = ${chatId}::uuid) AS messages,
               (SELECT count(*)::int FROM ai_conversations WHERE chat_id = ${chatId}::uuid) AS conversations`
      expect(left).toEqual([{ chunks: 0, messages: 0, conversations: 0 }])
      expect(yield* probe(chatId)).toEqual([])

      // The user's other chat keeps its chunks and vectors.
      expect((yield* probe(kept.id)).length).toBe(keptHits)
      expect((yield* chunksOf(kept.id)).every((c) => c.embedded)).toBe(true)
    }))
})

// ---------------------------------------------------------------------------------------------------
// Before indexing: the application without a worker, so the embedding job stays queued.

layer(TestApp(), { excludeTestServices: true })("rag before indexing", (it) => {
  it.effect("a chat whose embedding job has not run is pending and answered by full text, citing the right message", () =>
    Effect.gen(function*() {
      const token = yield* user("rag-unindexed")
      const chat = yield* uploadNew(token, chatFile)

      const status = yield* vectorStatus(token, chat.id)
      expect(status).toEqual({ chat_id: chat.id, status: "pending", embedder: offlineEmbedder, done: 0, total: 0, error: null })
      expect(yield* chunksOf(chat.id)).toEqual([])

      const shed = yield* ask(token, chat.id, "Who has the shed key?")
      expect(shed.mode).toBe("offline-full-text")
      expect(shed.answer.toLowerCase()).toContain("offline")
      yield* expectRealCitations(chat.id, shed.citations)
      expect(shed.citations.map((c) => c.text)).toContain(SHED_KEY_MESSAGE)

      const dog = yield* ask(token, chat.id, "What did the vet say about Biscuit?")
      expect(dog.mode).toBe("offline-full-text")
      yield* expectRealCitations(chat.id, dog.citations)
      expect(dog.citations[0]?.text).toBe("The vet says Biscuit is fine but he must stop chewing laundry")

      // Exact questions need no index.
      const counted = yield* ask(token, chat.id, "How many messages did Marta send in March 2023?")
      expect(counted).toMatchObject({ mode: "exact" })
      expect(counted.answer).toContain(`${MARTA} sent 6 messages in March 2023`)
    }))

  // BUG (src/Rag/Retrieval.ts, `questionStopwords`, line 15): the full-text query drops every word that is
  // a stopword in ANY of seven stopwords-iso lists, and those lists hold content words: "shed", "move",
  // "home", "work", "back", "date" (English), "van" (Spanish, Dutch), "door" (Dutch). "Where is the shed?"
  // and "What about the van?" are then all stopwords, `anyWordQuery` returns null, and before indexing
  // (full-text only) nothing is retrieved: the answer says no message was found although four messages
  // mention the shed and two the van. src/Words.ts (FUNCTION_WORDS) warns against exactly this list.
  // Fix: filter the question with the short function-word list of src/Words.ts (`isFunctionWord`),
  // and when filtering leaves no word, query with all the words (as `termsOf` in Offline.ts does).
  it.effect("before indexing, a question whose content word is in a stopword list still finds the messages about it", () =>
    Effect.gen(function*() {
      const token = yield* user("rag-stopwords")
      const chat = yield* uploadNew(token, chatFile)

      const shed = yield* ask(token, chat.id, "Where is the shed?")
      expect(shed.mode).toBe("offline-full-text")
      yield* expectRealCitations(chat.id, shed.citations)
      expect(shed.citations.length, shed.answer).toBeGreaterThan(0)
      expect(shed.citations.every((c) => c.text.toLowerCase().includes("shed")), shed.answer).toBe(true)

      const van = yield* ask(token, chat.id, "What about the van?")
      expect(van.mode).toBe("offline-full-text")
      yield* expectRealCitations(chat.id, van.citations)
      expect(van.citations.map((c) => c.text), van.answer).toContain("The van is loaded, we are leaving for Porto now")
    }))

  it.effect("the embedding handler run directly twice stores the same chunks and vectors; a partial run is completed", () =>
    Effect.gen(function*() {
      const token = yield* user("rag-direct")
      const chat = yield* uploadNew(token, chatFile)
      const progress: Array<unknown> = []
      const job: RunningJob = {
        id: randomUUID(),
        kind: "chat.embed",
        attempt: 1,
        maxAttempts: 5,
        userId: "rag-direct",
        instanceId: "rag-test",
        setProgress: (report) => Effect.sync(() => void progress.push(report))
      }
      const run = EmbedChat.execute({ chat_id: chat.id, embedder: offlineEmbedder }, job).pipe(
        Effect.provide(EmbedServices),
        Effect.orDie
      )

      yield* run
      const first = yield* chunksOf(chat.id)
      expect(first.length).toBeGreaterThanOrEqual(6)
      expect(first.every((c) => c.embedded && c.embedding !== null && c.embedder === offlineEmbedder)).toBe(true)
      expect(progress[0]).toEqual({ done: 0, total: first.length })
      expect(progress[progress.length - 1]).toEqual({ done: first.length, total: first.length })
      // The queued job has not run, but every chunk has its vector: indexing, done == total.
      expect(yield* vectorStatus(token, chat.id)).toMatchObject({ status: "indexing", done: first.length, total: first.length })
      // With vectors stored, questions use them.
      expect((yield* ask(token, chat.id, "Who has the shed key?")).mode).toBe("offline-hybrid")

      progress.length = 0
      yield* run
      expect(yield* chunksOf(chat.id)).toEqual(first)
      expect(yield* duplicateChunks(chat.id)).toEqual([])
      expect(progress).toEqual([{ done: first.length, total: first.length }])

      // Interrupted after the chunks were stored: the last three lost their vectors.
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE chunks SET embedded_at = NULL, embedding = NULL
                 WHERE chat_id = ${chat.id}::uuid AND seq >= ${first.length - 3}`
      progress.length = 0
      yield* run
      expect(progress).toEqual([
        { done: first.length - 3, total: first.length },
        { done: first.length, total: first.length }
      ])
      expect(yield* chunksOf(chat.id)).toEqual(first)
      expect(yield* duplicateChunks(chat.id)).toEqual([])

      // A payload for another embedder does nothing; a malformed payload fails permanently.
      yield* EmbedChat.execute({ chat_id: chat.id, embedder: "other-embedder@768" }, job).pipe(
        Effect.provide(EmbedServices),
        Effect.orDie
      )
      expect(yield* chunksOf(chat.id)).toEqual(first)
      const malformed = yield* EmbedChat.execute({ chat_id: "not-a-uuid", embedder: offlineEmbedder }, job).pipe(
        Effect.provide(EmbedServices),
        Effect.flip
      )
      expect(malformed).toMatchObject({ _tag: "PermanentJobError" })
    }))
})
