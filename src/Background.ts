/**
 * The background work of an instance: the worker with every job handler registered (purging deleted
 * chats and erased accounts, embedding chats, generating insight reports, reconciling payments, the
 * maintenance sweep), the start-up sweep that queues chats the configured embedder lacks, and the
 * timers that enqueue the periodic jobs.
 * A new kind of job is registered here.
 */
import { Effect, Layer } from "effect"
import { ChatAccess } from "./Chats/Access.js"
import { PurgeChat } from "./Chats/Purge.js"
import { ChatsRepo } from "./Chats/Repo.js"
import type { Llm } from "./Llm.js"
import { LlmLive } from "./Llm/Live.js"
import { ChunksRepo } from "./Rag/ChunksRepo.js"
import { EmbedChat, embedMissing } from "./Rag/Embedding.js"
import type { Vector } from "./Vector.js"
import { VectorLive } from "./Vector/Live.js"
import { GenerateInsights } from "./Insights/Generate.js"
import { InsightsRepo } from "./Insights/Repo.js"
import { Credits } from "./Credits.js"
import { Retrieval } from "./Rag/Retrieval.js"
import { Payments } from "./Payments.js"
import { PaymentProvidersLive } from "./Payments/Providers.js"
import { ReconcilePayments, ReconcileScheduleLive } from "./Payments/Reconcile.js"
import { EraseAccount } from "./Users/Erase.js"
import { ExportUser } from "./Exports/Job.js"
import { ExportsRepo } from "./Exports/Repo.js"
import { UserDataRepo } from "./Exports/UserData.js"
import { Insights } from "./Insights.js"
import { ErasureRepo } from "./Users/ErasureRepo.js"
import type { Database } from "./Database.js"
import { Exports } from "./Exports.js"
import { backfillChartStatistics } from "./Chats/ChartBackfill.js"
import { MergeRepo } from "./Chats/MergeRepo.js"
import { ParserThreads } from "./Ingest/ParserThreads.js"
import { Sweep, SweepScheduleLive } from "./Maintenance.js"
import { Users } from "./Users.js"
import { Worker } from "./Worker.js"
import { JobHandlers } from "./Worker/Handler.js"
import { Jobs } from "./Worker/Jobs.js"

/** The job handlers this instance runs, with what they need. */
export const JobHandlersLive = JobHandlers.layer<
  | ChatsRepo
  | ChatAccess
  | ChunksRepo
  | Llm
  | Vector
  | InsightsRepo
  | Credits
  | Retrieval
  | Payments
  | ErasureRepo
  | Database
  | ExportsRepo
  | UserDataRepo
  | Insights
  | Users
  | Exports
>(PurgeChat, EmbedChat, GenerateInsights, ReconcilePayments, EraseAccount, ExportUser, Sweep).pipe(
  Layer.provide([
    ChatsRepo.Default,
    ChatAccess.Default,
    ChunksRepo.Default,
    InsightsRepo.Default,
    Credits.Default,
    Retrieval.Default,
    Payments.Default,
    ErasureRepo.Default,
    ExportsRepo.Default,
    UserDataRepo.Default,
    Insights.Default,
    Users.Default,
    Exports.Default
  ]),
  Layer.provide([LlmLive, VectorLive, PaymentProvidersLive])
)

/** The worker running every registered job kind. */
export const WorkerLive = Worker.Default.pipe(Layer.provide(JobHandlersLive))

/** At start, queues the embedding of chats the configured embedder has not embedded yet. */
export const EmbedMissingLive = Layer.effectDiscard(
  embedMissing.pipe(
    Effect.catchAll((error) => Effect.logWarning("Could not queue chats for embedding", error)),
    Effect.forkDaemon
  )
).pipe(Layer.provide([ChunksRepo.Default, Jobs.Default, LlmLive]))

/** At start, recomputes in the background the statistics of chats stored before the chart fields existed. */
export const ChartBackfillLive = Layer.effectDiscard(
  backfillChartStatistics.pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("Could not recompute older chats' chart statistics", cause)),
    Effect.forkDaemon
  )
).pipe(Layer.provide([MergeRepo.Default, ParserThreads.Default]))

/** Enqueues a payment reconciliation pass every PAYMENTS_RECONCILE_INTERVAL. */
export const PaymentsReconcileLive = ReconcileScheduleLive.pipe(Layer.provide(Jobs.Default))

/** Enqueues the maintenance sweep every MAINTENANCE_INTERVAL. */
export const MaintenanceLive = SweepScheduleLive.pipe(Layer.provide(Jobs.Default))
