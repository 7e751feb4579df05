/**
 * Insight reports as the contract shows them: unlocking a category, the generation job's status, and a
 * chat's reports with their findings and the messages each finding cites.
 */
import { Schema } from "effect"
import { CategoryId } from "./Catalog.js"
import { CitedMessage } from "./Rag.js"

/** An insight type's id; plain text (the catalogue's ids are slugs, an unknown one is a 404). */
export const InsightTypeId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64))

export const InsightStatus = Schema.Literal("pending", "generating", "ready", "failed")
export type InsightStatus = typeof InsightStatus.Type

/** What a stored report was written by: the language model, or the offline report builder. */
export const InsightMode = Schema.Literal("gemini", "offline")
export type InsightMode = typeof InsightMode.Type

export const Confidence = Schema.Literal("low", "medium", "high")
export type Confidence = typeof Confidence.Type

/** The status of a generation job: a job whose types partly failed (and were refunded) is `partially_failed`. */
export const InsightJobState = Schema.Literal("queued", "running", "succeeded", "partially_failed", "failed")
export type InsightJobState = typeof InsightJobState.Type

export const UnlockRequest = Schema.Struct({
  chat_id: Schema.UUID,
  category_id: CategoryId
})
export type UnlockRequest = typeof UnlockRequest.Type

export const InsightRef = Schema.Struct({
  id: Schema.String,
  insight_type_id: Schema.String,
  status: InsightStatus
}).annotations({ identifier: "InsightRef" })

export const Unlocked = Schema.Struct({
  job_id: Schema.String,
  status: InsightJobState,
  /** Credits taken by this request: 0 when every type was already unlocked. */
  charged: Schema.Int,
  balance: Schema.Int,
  insights: Schema.Array(InsightRef)
}).annotations({ identifier: "Unlocked" })
export type Unlocked = typeof Unlocked.Type

export const InsightProgress = Schema.Struct({
  done: Schema.Int,
  total: Schema.Int
}).annotations({ identifier: "InsightProgress" })

export const JobInsight = Schema.Struct({
  id: Schema.String,
  insight_type_id: Schema.String,
  status: InsightStatus,
  error: Schema.NullOr(Schema.String),
  /** Credits given back for this type (its price when it failed for good, else 0). */
  refunded: Schema.Int
}).annotations({ identifier: "JobInsight" })

export const InsightJobStatus = Schema.Struct({
  job_id: Schema.String,
  chat_id: Schema.String,
  category_id: Schema.String,
  status: InsightJobState,
  progress: InsightProgress,
  insights: Schema.Array(JobInsight),
  refunded: Schema.Int,
  created_at: Schema.Date,
  updated_at: Schema.Date,
  finished_at: Schema.NullOr(Schema.Date)
}).annotations({ identifier: "InsightJobStatus" })
export type InsightJobStatus = typeof InsightJobStatus.Type

/** A finding as stored: the message ids it rests on. */
export const StoredFinding = Schema.Struct({
  title: Schema.String,
  detail: Schema.String,
  message_ids: Schema.Array(Schema.String)
})

/** A report as stored in `insights.content`. */
export const StoredContent = Schema.Struct({
  summary: Schema.String,
  findings: Schema.Array(StoredFinding),
  confidence: Confidence,
  mode: InsightMode,
  /** The chat model, or `offline` with the embedder that ranked the evidence. */
  model: Schema.String,
  /** How many messages the evidence held. */
  evidence_messages: Schema.Int,
  generated_at: Schema.String
})
export type StoredContent = typeof StoredContent.Type

export const Finding = Schema.Struct({
  title: Schema.String,
  detail: Schema.String,
  citations: Schema.Array(CitedMessage)
}).annotations({ identifier: "InsightFinding" })

/** A report as the owner reads it: the stored one with its citations expanded to the messages. */
export const InsightContent = Schema.Struct({
  ...StoredContent.fields,
  findings: Schema.Array(Finding)
}).annotations({ identifier: "InsightContent" })

export const Insight = Schema.Struct({
  id: Schema.String,
  insight_type_id: Schema.String,
  name: Schema.String,
  category_id: Schema.String,
  credit_cost: Schema.Int,
  status: InsightStatus,
  content: Schema.NullOr(InsightContent),
  error: Schema.NullOr(Schema.String),
  job_id: Schema.NullOr(Schema.String),
  updated_at: Schema.Date
}).annotations({ identifier: "Insight" })
export type Insight = typeof Insight.Type

/** A type of the catalogue not unlocked for this chat: what is still to buy, with its price. */
export const LockedInsight = Schema.Struct({
  insight_type_id: Schema.String,
  name: Schema.String,
  category_id: Schema.String,
  credit_cost: Schema.Int
}).annotations({ identifier: "LockedInsight" })

export const ChatInsights = Schema.Struct({
  chat_id: Schema.String,
  insights: Schema.Array(Insight),
  locked: Schema.Array(LockedInsight)
}).annotations({ identifier: "ChatInsights" })

export const ChatInsightsParams = Schema.Struct({
  category_id: Schema.optional(CategoryId)
})

export const GenerateRequest = Schema.Struct({
  chat_id: Schema.UUID,
  insight_type_id: InsightTypeId
})

const generatedFields = {
  job_id: Schema.String,
  status: InsightJobState,
  charged: Schema.Int,
  balance: Schema.Int,
  insight: Insight
}

/** The deprecated generate route, 200: the insight was ready (or failed) within the wait. */
export const Generated = Schema.Struct({ ...generatedFields, done: Schema.Literal(true) }).annotations({ identifier: "Generated" })

/** The deprecated generate route, 202: still generating; poll the job. */
export const GenerationStarted = Schema.Struct({ ...generatedFields, done: Schema.Literal(false) }).annotations({
  identifier: "GenerationStarted"
})
