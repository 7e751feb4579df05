/**
 * Full-text search over a chat's chunks on the real database: chunks are indexed with the text search
 * configuration of the chat's language (stemming finds other forms of a word), and each hit says how much
 * of the question it covers, so a hit on the question's rare word ranks above one on a word every
 * conversation shares.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { ChatAccess } from "../src/Chats/Access.js"
import { LlmLive } from "../src/Llm/Live.js"
import { offlineEmbedder } from "../src/Llm/Offline.js"
import { ChunksRepo } from "../src/Rag/ChunksRepo.js"
import { EmbedChat } from "../src/Rag/Embedding.js"
import { searchTerms } from "../src/Rag/Fusion.js"
import { VectorLive } from "../src/Vector/Live.js"
import { isFunctionWord } from "../src/Words.js"
import { client, TestApp, TestConfig, tokenFor, uploadForm } from "./support/TestApp.js"

/** An Android export, day first: one line per message, conversations a day apart. */
const exportOf = (name: string, days: ReadonlyArray<ReadonlyArray<readonly [author: string, text: string]>>) => ({
  name,
  bytes: new Uint8Array(Buffer.from(
    days.flatMap((messages, day) =>
      messages.map(([author, text], i) => `${String(day + 1).padStart(2, "0")}/05/2024, 20:${String(10 + i).padStart(2, "0")} - ${author}: ${text}`)
    ).join("\n") + "\n",
    "utf8"
  ))
})

const portuguese = exportOf("WhatsApp Chat with Primos.txt", [
  [
    ["Rita Sousa", "Vocês vão ao casamento da Inês no sábado?"],
    ["Pedro Alves", "Eu vou, mas não sei se consigo chegar a tempo para a cerimónia"],
    ["Rita Sousa", "A cerimónia é às quatro, depois há jantar na quinta"],
    ["Pedro Alves", "Então vou de comboio, é mais fácil para mim"]
  ],
  [
    ["Pedro Alves", "Alguém tem o carregador do meu telemóvel? Deixei-o em casa da avó"],
    ["Rita Sousa", "Está comigo, levo-te amanhã quando for ao trabalho"],
    ["Pedro Alves", "Obrigado, és a melhor prima do mundo"],
    ["Rita Sousa", "Eu sei, mas não te esqueças de que me deves um café"]
  ],
  [
    ["Rita Sousa", "A avó pergunta se vocês vêm almoçar no domingo"],
    ["Pedro Alves", "Diz-lhe que sim, eu levo a sobremesa e o vinho"],
    ["Rita Sousa", "Ela vai ficar tão contente, já não nos vê há um mês"]
  ]
])

const english = exportOf("WhatsApp Chat with Dog people.txt", [
  [
    ["Tomas Keller", "Biscuit chewed one of my socks again and he is not even sorry"],
    ["Leila Haddad", "That dog has no shame at all, I love him"],
    ["Tomas Keller", "He is sleeping on the sofa now as if nothing happened"]
  ],
  [
    ["Tomas Keller", "The vet says Biscuit is fine but he must stop eating laundry"],
    ["Leila Haddad", "Did you tell her about the socks? She must have laughed"],
    ["Tomas Keller", "She did, and then she charged me forty pounds for it"]
  ],
  [
    ["Leila Haddad", "Can I take Biscuit to the park on Sunday? I will bring him back by six"],
    ["Tomas Keller", "Yes of course, he would love that, he has been so bored this week"],
    ["Leila Haddad", "Great, I will be there at ten with the ball and the lead"]
  ]
])

/** The embedding job's own services, as the worker gives them, for running it directly. */
const EmbedServices = Layer.mergeAll(ChunksRepo.Default, ChatAccess.Default, LlmLive, VectorLive).pipe(Layer.provide(TestConfig()))

/** Uploads an export for a new user and runs its embedding job: its chunks are then stored and indexed. */
const indexed = (file: { readonly name: string; readonly bytes: Uint8Array }) =>
  Effect.gen(function*() {
    const sub = `rag-search-${randomUUID()}`
    const token = yield* tokenFor(sub, { email: `${sub}@example.com`, name: sub })
    const api = yield* client(token)
    yield* api.users.store()
    const chat = yield* api.chats.upload({ payload: uploadForm(file) })
    yield* EmbedChat.execute({ chat_id: chat.id, embedder: offlineEmbedder }, {
      id: randomUUID(),
      kind: EmbedChat.kind,
      attempt: 1,
      maxAttempts: 1,
      userId: sub,
      instanceId: "rag-search-test",
      setProgress: () => Effect.void
    }).pipe(Effect.provide(EmbedServices), Effect.orDie)
    return chat.id
  })

/** The question's full-text hits with the text of each chunk, best first. */
const search = (chatId: string, question: string) =>
  Effect.gen(function*() {
    const chunks = yield* ChunksRepo
    const sql = yield* SqlClient.SqlClient
    const { config, total } = yield* chunks.chunkCount(chatId, offlineEmbedder)
    const hits = yield* chunks.searchText({
      chatId,
      embedder: offlineEmbedder,
      config,
      terms: searchTerms(question, isFunctionWord),
      total,
      k: 10
    })
    const texts = yield* sql<{ id: string; text: string }>`SELECT id::text AS id, text FROM chunks WHERE chat_id = ${chatId}::uuid`
    const textOf = new Map(texts.map((row) => [row.id, row.text]))
    return { config, hits: hits.map((hit) => ({ coverage: hit.coverage, text: textOf.get(hit.id) ?? "" })) }
  }).pipe(Effect.provide(ChunksRepo.Default), Effect.orDie)

layer(TestApp(), { excludeTestServices: true })("full-text search in the chat's language", (it) => {
  it.effect("a Portuguese chat is indexed in Portuguese: a plural in the question finds the singular in the chat", () =>
    Effect.gen(function*() {
      const chatId = yield* indexed(portuguese)
      const found = yield* search(chatId, "Quando são os casamentos?")
      expect(found.config).toBe("portuguese")
      expect(found.hits.length).toBe(1)
      expect(found.hits[0]?.text).toContain("casamento da Inês")
    }))

  it.effect("an English chat is stemmed in English, and the hit on the question's rare word covers the most of it", () =>
    Effect.gen(function*() {
      const chatId = yield* indexed(english)
      // "chews" and "chewed" share the stem "chew"; neither is a prefix of the other.
      const chewing = yield* search(chatId, "Who chews socks?")
      expect(chewing.config).toBe("english")
      expect(chewing.hits[0]?.text).toContain("Biscuit chewed one of my socks")

      // Every conversation names Biscuit; only one has the vet.
      const vet = yield* search(chatId, "What did the vet tell us about Biscuit?")
      expect(vet.hits.length).toBe(3)
      expect(vet.hits[0]?.text).toContain("The vet says")
      expect(vet.hits[0]?.coverage).toBeGreaterThan(0.5)
      for (const other of vet.hits.slice(1)) expect(other.coverage).toBeLessThan(vet.hits[0]!.coverage / 2)
    }))
})
