/**
 * Insight reports for credits: unlocking a category of a chat (one transaction: price what is not yet
 * unlocked, charge it, mark its types pending, get the one generation job of the purchase), the job's
 * status, and a chat's reports with their citations expanded and what is still to buy.
 */
import { Effect, Option, Schema } from "effect"
import { createHash } from "node:crypto"
import { Catalog } from "./Catalog.js"
import { ChatAccess } from "./Chats/Access.js"
import { Credits } from "./Credits.js"
import { Database, orDatabaseError } from "./Database.js"
import { Conflict, InsufficientCredits, NotFound } from "./Domain/Errors.js"
import { orFail } from "./Domain/Found.js"
import type { InsightJobState, InsightStatus, StoredContent, Unlocked } from "./Domain/Insights.js"
import { Unlocked as UnlockedSchema } from "./Domain/Insights.js"
import type { CitedMessage } from "./Domain/Rag.js"
import { noAccount } from "./Domain/User.js"
import { GenerateInsights } from "./Insights/Generate.js"
import { type InsightRow, InsightsRepo } from "./Insights/Repo.js"
import { Jobs } from "./Worker/Jobs.js"

export interface UnlockInput {
  readonly userId: string
  readonly chatId: string
  readonly categoryId: string
  readonly idempotencyKey?: string | undefined
  /** Only these types of the category (the deprecated single-type route); all of them when absent. */
  readonly typeIds?: ReadonlyArray<string> | undefined
}

/** How long the deprecated generate route waits for its insight before answering 202 with the job. */
const generateWait = 8_000

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

/** The ledger reference of one type's purchase: derived from the chat, the category, the type and the purchase number. */
export const chargeReference = (chatId: string, categoryId: string, typeId: string, purchase: number) =>
  `insight:${chatId}:${categoryId}:${typeId}:${purchase}`

/** One generation job per (chat, category) purchase: the key names the set of types charged. */
export const generateJobKey = (chatId: string, categoryId: string, references: ReadonlyArray<string>) =>
  `insights:${chatId}:${categoryId}:${sha256([...references].sort().join("\n")).slice(0, 24)}`

/** What a client sees of a job: the worker's state, and once it ran, whether each type was delivered. */
export const jobState = (job: string, rows: ReadonlyArray<{ readonly status: InsightStatus }>): InsightJobState => {
  if (job === "queued" || job === "running") return job
  const ready = rows.filter((row) => row.status === "ready").length
  return rows.length > 0 && ready === rows.length ? "succeeded" : ready === 0 ? "failed" : "partially_failed"
}

const decodeUnlocked = Schema.decodeUnknown(UnlockedSchema)
const encodeUnlocked = Schema.encode(UnlockedSchema)

export class Insights extends Effect.Service<Insights>()("chatsight/Insights", {
  effect: Effect.gen(function*() {
    const db = yield* Database
    const repo = yield* InsightsRepo
    const access = yield* ChatAccess
    const catalog = yield* Catalog
    const credits = yield* Credits
    const jobs = yield* Jobs

    const refOf = (row: InsightRow) => ({ id: row.id, insight_type_id: row.insight_type_id, status: row.status })

    /** The unlock itself, inside the transaction that holds the user's row lock. */
    const unlockLocked = (input: UnlockInput) =>
      Effect.gen(function*() {
        const chat = yield* access.owned(input.userId, input.chatId)
        if (chat.status !== "ready") {
          return yield* new Conflict({
            message: chat.status === "processing"
              ? `Chat ${chat.id} is still being ingested; unlock it once it is ready`
              : `Chat ${chat.id} could not be ingested, so it has no insights to unlock`
          })
        }
        const { data: offered } = yield* catalog.insightsOf(input.categoryId)
        const only = input.typeIds
        const types = only === undefined ? offered : offered.filter((type) => only.includes(type.id))
        if (types.length === 0) return yield* new NotFound({ message: `No insight types on sale in "${input.categoryId}"` })
        const existing = new Map(
          (yield* repo.ofChat({ chatId: chat.id, typeIds: types.map((type) => type.id) })).map((row) => [row.insight_type_id, row])
        )
        // Unlocked means bought and not refunded: a type refunded after failing can be bought again.
        const toBuy = types.filter((type) => {
          const row = existing.get(type.id)
          return row === undefined || row.refunded
        })
        const price = toBuy.reduce((sum, type) => sum + type.credit_cost, 0)
        const { balance } = yield* credits.balance(input.userId)
        if (price > balance) {
          return yield* new InsufficientCredits({
            message: `Unlocking "${input.categoryId}" requires ${price} credits and the balance is ${balance}`,
            required: price,
            balance
          })
        }
        const bought = toBuy.map((type) => {
          const purchase = (existing.get(type.id)?.purchases ?? 0) + 1
          return {
            typeId: type.id,
            name: type.name,
            cost: type.credit_cost,
            purchase,
            reference: chargeReference(chat.id, input.categoryId, type.id, purchase)
          }
        })
        let jobId: string
        if (bought.length > 0) {
          for (const item of bought) {
            yield* credits.charge({
              userId: input.userId,
              amount: item.cost,
              reference: item.reference,
              description: `Insight "${item.name}" for chat "${chat.display_name}"`
            })
          }
          const job = yield* jobs.send(
            GenerateInsights,
            { chat_id: chat.id, category_id: input.categoryId, user_id: input.userId },
            { dedupeKey: generateJobKey(chat.id, input.categoryId, bought.map((item) => item.reference)), userId: input.userId }
          )
          jobId = job.id
          yield* repo.upsertPending({ chatId: chat.id, userId: input.userId, jobId, bought })
        } else {
          // Everything was already unlocked: the answer is the latest job that generates this category.
          const rows = [...existing.values()].sort((a, b) => b.purchases - a.purchases)
          const latest = rows.find((row) => row.job_id !== null)?.job_id
          if (latest === undefined || latest === null) {
            return yield* Effect.dieMessage(`Insights of chat ${chat.id} are unlocked but name no job`)
          }
          jobId = latest
        }
        const rows = yield* repo.ofChat({ chatId: chat.id, typeIds: types.map((type) => type.id) })
        const order = new Map(types.map((type, index) => [type.id, index]))
        const sorted = [...rows].sort((a, b) => (order.get(a.insight_type_id) ?? 0) - (order.get(b.insight_type_id) ?? 0))
        const ofJob = sorted.filter((row) => row.job_id === jobId)
        const jobStatus = yield* repo.jobStatusOf(jobId).pipe(Effect.map(Option.getOrElse(() => "queued")))
        const after = yield* credits.balance(input.userId)
        return {
          job_id: jobId,
          status: jobState(jobStatus, ofJob),
          charged: price,
          balance: after.balance,
          insights: sorted.map(refOf)
        } satisfies Unlocked
      })

    /**
     * Unlocks a category of a chat. With an Idempotency-Key, the same key and body answer the stored
     * response, and the same key with another body is a 409. Everything happens in one transaction: a
     * refusal (402, 404, 409) leaves nothing behind, the key included.
     */
    const unlock = (input: UnlockInput) =>
      Effect.gen(function*() {
        const requestHash = sha256(
          JSON.stringify({ chat_id: input.chatId, category_id: input.categoryId, types: input.typeIds ?? null })
        )
        return yield* Effect.gen(function*() {
          // First statement: the snapshot is taken here, so a waiter whose snapshot went stale is re-run.
          const found = yield* repo.lockUser(input.userId)
          if (!found) return yield* noAccount(input.userId)
          const key = input.idempotencyKey
          if (key !== undefined) {
            const stored = yield* repo.findKey({ userId: input.userId, key })
            if (Option.isSome(stored)) {
              if (stored.value.request_hash !== requestHash) {
                return yield* new Conflict({
                  message: "This Idempotency-Key was already used with a different request; use a new key for a new request"
                })
              }
              yield* Effect.logInfo("Idempotent replay of an unlock")
              return yield* decodeUnlocked(stored.value.response).pipe(Effect.orDie)
            }
          }
          const answer = yield* unlockLocked(input)
          if (key !== undefined) {
            const response = yield* encodeUnlocked(answer).pipe(Effect.orDie)
            yield* repo.storeKey({ userId: input.userId, key, requestHash, status: 202, response })
          }
          return answer
        }).pipe(db.withLockRetry)
      }).pipe(
        // The ledger's INSERT ... RETURNING always returns the entry it made.
        Effect.catchTag("NoSuchElementException", (error) => Effect.die(error)),
        orDatabaseError,
        Effect.withSpan("Insights.unlock", {
          attributes: { "user.id": input.userId, chatId: input.chatId, categoryId: input.categoryId }
        })
      )

    /** A generation job of the user's: its state, progress, per-type status and refunds. */
    const jobStatus = (userId: string, jobId: string) =>
      Effect.gen(function*() {
        const job = yield* repo.job({ jobId, userId }).pipe(orFail(() => new NotFound({ message: `No insight job ${jobId}` })))
        const rows = yield* repo.ofJob(job.id)
        const done = rows.filter((row) => row.status === "ready" || row.status === "failed").length
        const refundedOf = (row: InsightRow) => row.refunded ? row.credit_cost : 0
        return {
          job_id: job.id,
          chat_id: job.chat_id,
          category_id: job.category_id,
          status: jobState(job.status, rows),
          progress: { done, total: rows.length },
          insights: rows.map((row) => ({ ...refOf(row), error: row.error, refunded: refundedOf(row) })),
          refunded: rows.reduce((sum, row) => sum + refundedOf(row), 0),
          created_at: job.created_at,
          updated_at: job.updated_at,
          finished_at: job.finished_at
        }
      }).pipe(orDatabaseError, Effect.withSpan("Insights.jobStatus", { attributes: { jobId } }))

    /** Stored findings with their citations read back from the chat's messages. */
    const expand = (chatId: string, content: StoredContent) =>
      Effect.gen(function*() {
        const ids = [...new Set(content.findings.flatMap((finding) => finding.message_ids))]
        const messages = ids.length === 0 ? [] : yield* repo.messages({ chatId, ids })
        const byId = new Map<string, CitedMessage>(messages.map((message) => [message.message_id, message]))
        return {
          ...content,
          findings: content.findings.map((finding) => ({
            title: finding.title,
            detail: finding.detail,
            citations: finding.message_ids.flatMap((id) => {
              const message = byId.get(id)
              return message === undefined ? [] : [message]
            })
          }))
        }
      })

    /** Every insight of the chat, and the catalogue's types not unlocked yet with their price. */
    const ofChat = (userId: string, chatId: string, categoryId: string | undefined) =>
      Effect.gen(function*() {
        const chat = yield* access.owned(userId, chatId)
        const filter = { chatId: chat.id, categoryId: categoryId ?? null }
        const rows = yield* repo.listed(filter)
        const insights = yield* Effect.forEach(rows, (row) =>
          Effect.map(
            row.status === "ready" && row.content !== null ? Effect.map(expand(chat.id, row.content), Option.some) : Effect.succeed(Option.none()),
            (content) => ({ ...row, content: Option.getOrNull(content) })
          ))
        return { chat_id: chat.id, insights, locked: yield* repo.locked(filter) }
      }).pipe(orDatabaseError, Effect.withSpan("Insights.ofChat", { attributes: { chatId } }))

    /** The category of an active insight type, for the deprecated single-type route. */
    const categoryOf = (typeId: string) =>
      repo.insightType(typeId).pipe(
        orFail(() => new NotFound({ message: `No insight type "${typeId}"` })),
        Effect.map((type) => type.category_id),
        orDatabaseError
      )

    /**
     * The deprecated single-type route: unlocks that type through `unlock` (same charge rules, same job),
     * then waits a little for its report.
     */
    const generate = (userId: string, chatId: string, typeId: string) =>
      Effect.gen(function*() {
        const categoryId = yield* categoryOf(typeId)
        const unlocked = yield* unlock({ userId, chatId, categoryId, typeIds: [typeId] })
        const deadline = Date.now() + generateWait
        while (true) {
          const { insights } = yield* ofChat(userId, chatId, categoryId)
          const insight = insights.find((each) => each.insight_type_id === typeId)
          if (insight === undefined) return yield* Effect.dieMessage(`Insight ${typeId} of chat ${chatId} vanished after its unlock`)
          const finished = insight.status === "ready" || insight.status === "failed"
          if (finished || Date.now() >= deadline) {
            const job = yield* jobStatus(userId, unlocked.job_id)
            const answer = { job_id: unlocked.job_id, charged: unlocked.charged, balance: unlocked.balance, status: job.status, insight }
            return finished ? { ...answer, done: true as const } : { ...answer, done: false as const }
          }
          yield* Effect.sleep("250 millis")
        }
      }).pipe(Effect.withSpan("Insights.generate", { attributes: { chatId, insightType: typeId } }))

    return { unlock, jobStatus, ofChat, categoryOf, generate } as const
  }),
  dependencies: [InsightsRepo.Default, ChatAccess.Default, Catalog.Default, Credits.Default, Jobs.Default]
}) {}
