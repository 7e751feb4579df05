/**
 * The generation job: one per (chat, category) purchase. It writes a report for each of its insight types
 * from the stored statistics and the type's evidence, and gives back the price of a type that fails for
 * good. Idempotent: a re-run skips ready types, redoes those a crash left `generating`, and a refund is
 * keyed on the type's charge, so no retry, crash or restart refunds twice.
 */
import { Effect, Option, Schema } from "effect"
import { Credits } from "../Credits.js"
import { orDatabaseError } from "../Database.js"
import type { StoredContent } from "../Domain/Insights.js"
import { ChatStatisticsSchema } from "../Domain/Statistics.js"
import { Llm } from "../Llm.js"
import { jobHandler, type RunningJob } from "../Worker/Handler.js"
import { gatherEvidence, queriesFor } from "./Evidence.js"
import { generateKind, InsightsRepo, type WorkRow } from "./Repo.js"

export const GeneratePayload = Schema.Struct({
  chat_id: Schema.UUID,
  category_id: Schema.String,
  user_id: Schema.String
})
export type GeneratePayload = typeof GeneratePayload.Type

const decodeStatistics = Schema.decodeUnknown(ChatStatisticsSchema)

/** Sets a type `failed` with a reason its owner can read, then refunds its price once. */
const failAndRefund = (row: WorkRow, job: RunningJob, userId: string, reason: string) =>
  Effect.gen(function*() {
    const repo = yield* InsightsRepo
    const credits = yield* Credits
    if (row.status !== "failed") yield* repo.setStatus({ id: row.id, jobId: job.id, status: "failed", error: reason })
    if (row.charge_reference !== null && !row.refunded) {
      const posted = yield* credits.refund({
        userId,
        chargeReference: row.charge_reference,
        description: `Refund: the "${row.name}" report could not be generated`
      })
      yield* Effect.logInfo("Insight refunded").pipe(
        Effect.annotateLogs({ insightType: row.insight_type_id, credits: row.credit_cost, applied: posted.applied })
      )
    }
    yield* repo.markRefunded(row.id, job.id)
  })

const progressOf = (rows: ReadonlyArray<{ readonly status: string }>) => ({
  done: rows.filter((row) => row.status === "ready" || row.status === "failed").length,
  total: rows.length
})

/**
 * Once the job has failed for good, a failure that was not one type's (the database, the vector store,
 * an instance dying on the last attempt) would leave its types pending: they are failed and refunded.
 */
const giveUp = (payload: GeneratePayload, job: RunningJob) =>
  Effect.gen(function*() {
    const repo = yield* InsightsRepo
    for (const row of yield* repo.ofJob(job.id)) {
      if (row.status === "ready" || row.refunded) continue
      yield* failAndRefund(row, job, payload.user_id, "The report could not be generated; the credits for it were refunded")
    }
  }).pipe(
    Effect.catchAllCause((cause) => Effect.logError("Could not refund the insights of a job that failed for good", cause))
  )

const generateAll = (payload: GeneratePayload, job: RunningJob) =>
  Effect.gen(function*() {
    const repo = yield* InsightsRepo
    const llm = yield* Llm
    const lastAttempt = job.attempt >= job.maxAttempts
    const rows = yield* repo.ofJob(job.id)
    const stored = yield* repo.statistics(payload.chat_id)
    if (Option.isNone(stored)) {
      // Deleted since it was unlocked: its insights go with it.
      return yield* Effect.logInfo("Chat deleted before its insights were generated; nothing to do")
    }
    const statistics = yield* decodeStatistics(stored.value).pipe(Effect.orDie)
    const statuses = new Map(rows.map((row) => [row.id, row.status]))
    const report = () => job.setProgress(progressOf([...statuses.values()].map((status) => ({ status }))))
    yield* report()

    for (const row of rows) {
      if (row.status === "ready") continue
      if (row.status === "failed") {
        if (!row.refunded) yield* failAndRefund(row, job, payload.user_id, row.error ?? "The report could not be generated")
        continue
      }
      yield* repo.setStatus({ id: row.id, jobId: job.id, status: "generating" })
      const outcome = yield* generateOne(row, payload, statistics).pipe(
        Effect.map((content) => ({ _tag: "ready" as const, content })),
        Effect.catchTag("InsightUnusable", () =>
          Effect.succeed({
            _tag: "failed" as const,
            reason: "The language model's replies could not be read; the credits for this report were refunded"
          })),
        Effect.catchTag("UpstreamUnavailable", (error) =>
          lastAttempt
            ? Effect.succeed({
              _tag: "failed" as const,
              reason: "The language model stayed unavailable; the credits for this report were refunded"
            })
            : Effect.fail(error))
      )
      if (outcome._tag === "ready") {
        yield* repo.setStatus({ id: row.id, jobId: job.id, status: "ready", content: outcome.content })
        statuses.set(row.id, "ready")
      } else {
        yield* failAndRefund(row, job, payload.user_id, outcome.reason)
        statuses.set(row.id, "failed")
      }
      yield* report()
    }
    yield* Effect.annotateCurrentSpan({ insights: rows.length, mode: llm.mode })
  }).pipe(
    orDatabaseError,
    Effect.annotateLogs({ chatId: payload.chat_id, categoryId: payload.category_id })
  )

/** One type's report: evidence, the model (or offline builder), citations kept to the evidence. */
const generateOne = (row: WorkRow, payload: GeneratePayload, statistics: typeof ChatStatisticsSchema.Type) =>
  Effect.gen(function*() {
    const llm = yield* Llm
    const queries = queriesFor({ id: row.insight_type_id, name: row.name, description: row.description })
    const evidence = yield* gatherEvidence({ chatId: payload.chat_id, userId: payload.user_id, queries })
    yield* Effect.annotateCurrentSpan({ "evidence.messages": evidence.messages.length, "evidence.tokens": evidence.tokens })
    const written = yield* llm.generateInsight({
      typeId: row.insight_type_id,
      name: row.name,
      description: row.description,
      prompt: row.prompt,
      statistics,
      evidence: evidence.messages,
      queries
    })
    // The model's layer keeps only evidence ids; checked again here, since what is stored is what is sold.
    const given = new Set(evidence.messages.map((message) => message.messageId))
    const findings = written.findings.flatMap((finding) => {
      const ids = finding.citedMessageIds.filter((id) => given.has(id))
      return ids.length === 0 ? [] : [{ title: finding.title, detail: finding.detail, message_ids: ids }]
    })
    yield* Effect.annotateCurrentSpan({
      model: written.model,
      "tokens.prompt": written.tokens.prompt,
      "tokens.output": written.tokens.output,
      findings: findings.length,
      outcome: "ready"
    })
    return {
      summary: written.summary,
      findings,
      confidence: written.confidence,
      mode: written.mode,
      model: written.mode === "offline" ? `offline (evidence ranked with ${llm.embedder})` : written.model,
      evidence_messages: evidence.messages.length,
      generated_at: new Date().toISOString()
    } satisfies StoredContent
  }).pipe(
    Effect.tapError((error) => Effect.annotateCurrentSpan({ outcome: error._tag })),
    Effect.withSpan("Insights.generateType", { attributes: { insightType: row.insight_type_id, insightId: row.id } })
  )

export const GenerateInsights = jobHandler({
  kind: generateKind,
  payload: GeneratePayload,
  run: generateAll,
  // Failed for good by any path (the last attempt failing, dying, or its instance dying): what is still
  // pending is failed and refunded.
  giveUp
})
