/**
 * What an export's archive holds, entry by entry, as the API writes it (snake_case JSON): a README, the
 * account, each chat (metadata with parse report and statistics, every message, insights with their
 * citations, conversations), the ledger and the orders. Messages and ledger entries are read a page at
 * a time as the archive is written, and the progress moves on with them.
 */
import { Effect, Option, Schema, Stream } from "effect"
import { ChatDetail } from "../Chats/Api.js"
import { orDatabaseError } from "../Database.js"
import type { ChatRow } from "../Domain/Chat.js"
import { CreditTransaction } from "../Domain/Credits.js"
import type { DatabaseError } from "../Domain/Errors.js"
import { ExportedAccount, type ExportProgress, ExportedOrder } from "../Domain/Exports.js"
import { Insight } from "../Domain/Insights.js"
import { ConversationWithMessages } from "../Domain/Rag.js"
import { ChatStatisticsSchema } from "../Domain/Statistics.js"
import { Insights } from "../Insights.js"
import type { JobCancelled } from "../Worker/Handler.js"
import type { ArchiveEntry } from "./Archive.js"
import { UserDataRepo } from "./UserData.js"

/** Rows read per query: a page of messages is a few hundred KB at most. */
export const pageSize = 2000

/** Moves the stored progress on (it is written where the status endpoint reads it). */
export type Advance = (
  change: (progress: ExportProgress) => ExportProgress
) => Effect.Effect<void, DatabaseError | JobCancelled>

export interface ContentsInput {
  readonly exportId: string
  readonly userId: string
  /** When the export was requested. */
  readonly startedAt: Date
  readonly account: typeof ExportedAccount.Type
  readonly chats: ReadonlyArray<ChatRow>
  readonly advance: Advance
}

type Entry = ArchiveEntry<DatabaseError | JobCancelled, UserDataRepo | Insights>

const decodeStatistics = Schema.decodeUnknown(Schema.NullOr(ChatStatisticsSchema))

/** A value as the API writes it, indented for people; a value its schema cannot encode is a bug. */
const pretty = <A, I>(schema: Schema.Schema<A, I>, value: A) =>
  Effect.map(Effect.orDie(Schema.encode(schema)(value)), (encoded) => `${JSON.stringify(encoded, null, 2)}\n`)

const entry = (name: string, content: Effect.Effect<string, DatabaseError | JobCancelled, UserDataRepo | Insights>): Entry => ({
  name,
  content: Stream.fromEffect(content)
})

/** The rows of a keyset-paged read, a page at a time, until a page comes back short. */
const paged = <Row, K, E, R>(first: K, read: (after: K) => Effect.Effect<ReadonlyArray<Row>, E, R>, keyOf: (row: Row) => K) =>
  Stream.paginateEffect(first, (after) =>
    Effect.map(read(after), (rows) => {
      const last = rows[rows.length - 1]
      return [rows, rows.length < pageSize || last === undefined ? Option.none<K>() : Option.some(keyOf(last))] as const
    }))

const encodeTransaction = Schema.encodeSync(CreditTransaction)

export const readme = (input: ContentsInput) =>
  `Chatsight data export
=====================

Export ${input.exportId} of account ${input.userId}, requested ${input.startedAt.toISOString()}.

Every .json file is UTF-8 JSON in the shapes the Chatsight API answers (snake_case). Instants are ISO 8601
in UTC; "wall-clock" times (sent_at_local, first_message_at, ...) are written as the chat export wrote them,
with no time zone. Chats and conversations you deleted are not included.

README.txt                           this file
account.json                         your profile and credit balance
chats/<chat_id>/chat.json            a chat: its name, participants, how its file was read (parse report) and
                                     its statistics
chats/<chat_id>/messages.jsonl       every message of the chat in file order, one JSON object per line: id,
                                     seq, sent_at_local (wall clock), sent_at (UTC), author, text (as uploaded;
                                     a media message's caption), kind (text, media, system, deleted or edited),
                                     media_kind (what a media message carries), file_name (its attachment's
                                     name), event (which system event)
chats/<chat_id>/insights.json        the insight reports unlocked for the chat, each finding with the messages
                                     it cites
chats/<chat_id>/conversations.json   your questions about the chat and the answers, with their citations
ledger.json                          every entry of your credit ledger, oldest first
orders.json                          your payment orders and what each event from the payment provider did
                                     to them (the providers' own messages are not included)
`

const chatEntries = (input: ContentsInput, chat: ChatRow, first: boolean): ReadonlyArray<Entry> => {
  const folder = `chats/${chat.id}`
  const { userId } = input
  const page = (from: number) =>
    Effect.flatMap(UserDataRepo, (data) => data.messages({ userId, chatId: chat.id, from, to: from + pageSize - 1 })).pipe(
      orDatabaseError,
      Effect.tap((rows) =>
        rows.length === 0 ? Effect.void : input.advance((p) => ({ ...p, messages_done: p.messages_done + rows.length }))
      ),
      Effect.map((rows) => rows.map((row) => `${JSON.stringify(row)}\n`).join(""))
    )
  const messages = Stream.unwrap(
    Effect.flatMap(UserDataRepo, (data) => data.lastSeq(userId, chat.id)).pipe(
      orDatabaseError,
      Effect.map((last) =>
        last === null ? Stream.empty : Stream.iterate(0, (from) => from + pageSize).pipe(
          Stream.takeWhile((from) => from <= last),
          Stream.mapEffect(page),
          Stream.filter((text) => text.length > 0)
        )
      )
    )
  )
  return [
    entry(`${folder}/chat.json`, Effect.gen(function*() {
      if (first) yield* input.advance((p) => ({ ...p, stage: "chats" }))
      const data = yield* UserDataRepo
      const statistics = yield* Effect.flatMap(data.statistics(chat.id), decodeStatistics).pipe(Effect.orDie)
      return yield* pretty(ChatDetail, { ...chat, statistics })
    }).pipe(orDatabaseError)),
    { name: `${folder}/messages.jsonl`, content: messages },
    entry(`${folder}/insights.json`, Effect.gen(function*() {
      const insights = yield* Insights
      // A chat deleted while its export is written has no insights left to read.
      const found = yield* insights.ofChat(userId, chat.id, undefined).pipe(
        Effect.map((result) => result.insights),
        Effect.catchTag("NotFound", () => Effect.succeed([]))
      )
      return yield* pretty(Schema.Array(Insight), found)
    })),
    entry(`${folder}/conversations.json`, Effect.gen(function*() {
      const data = yield* UserDataRepo
      const conversations = yield* data.conversations(userId, chat.id)
      const text = yield* pretty(Schema.Array(ConversationWithMessages), conversations)
      yield* input.advance((p) => ({ ...p, chats_done: p.chats_done + 1 }))
      return text
    }).pipe(orDatabaseError))
  ]
}

/** The archive's entries in order; nothing is read until the archive's writer reaches an entry. */
export const exportEntries = (input: ContentsInput): ReadonlyArray<Entry> => {
  const { userId } = input
  const ledgerLines = paged(
    "0",
    (afterId) =>
      Effect.flatMap(UserDataRepo, (data) => data.ledger({ userId, afterId, limit: pageSize })).pipe(orDatabaseError),
    (row) => row.id
  ).pipe(
    Stream.zipWithIndex,
    Stream.map(([rows, page]) =>
      rows.map((row, i) => `${page === 0 && i === 0 ? "\n" : ",\n"}  ${JSON.stringify(encodeTransaction(row))}`).join("")
    ),
    Stream.filter((text) => text.length > 0)
  )
  return [
    entry("README.txt", Effect.succeed(readme(input))),
    entry("account.json", pretty(ExportedAccount, input.account)),
    ...input.chats.flatMap((chat, i) => chatEntries(input, chat, i === 0)),
    {
      name: "ledger.json",
      content: Stream.fromEffect(Effect.as(input.advance((p) => ({ ...p, stage: "ledger" })), "[")).pipe(
        Stream.concat(ledgerLines),
        Stream.concat(Stream.succeed("\n]\n"))
      )
    },
    entry("orders.json", Effect.gen(function*() {
      yield* input.advance((p) => ({ ...p, stage: "orders" }))
      const data = yield* UserDataRepo
      const orders = yield* data.orders(userId)
      return yield* pretty(Schema.Array(ExportedOrder), orders.map(({ events, order }) => ({ ...order, events })))
    }).pipe(orDatabaseError))
  ]
}
