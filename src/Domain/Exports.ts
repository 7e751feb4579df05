/**
 * Data exports as the contract shows them (an export's status and progress) and the records the archive
 * holds that no endpoint answers as such: the account, a message with both its times, an order with its
 * provider events.
 */
import { Schema, Struct } from "effect"
import { MediaKind, MessageKind, SystemEvent, WallClockText } from "./Chat.js"
import { Order, OrderEvent } from "./Payments.js"

export const ExportState = Schema.Literal("queued", "building", "ready", "failed", "expired")
export type ExportState = typeof ExportState.Type

/** What the archive's writer is doing: the account, the chats one by one, then the ledger and the orders. */
export const ExportStage = Schema.Literal("starting", "chats", "ledger", "orders")
export type ExportStage = typeof ExportStage.Type

export const ExportProgress = Schema.Struct({
  stage: ExportStage,
  chats_done: Schema.NonNegativeInt,
  chats_total: Schema.NonNegativeInt,
  messages_done: Schema.NonNegativeInt,
  /** The messages of every kind (system events too) of the chats being exported, counted when it started. */
  messages_total: Schema.NonNegativeInt
}).annotations({ identifier: "ExportProgress" })
export type ExportProgress = typeof ExportProgress.Type

export const ExportStatus = Schema.Struct({
  id: Schema.UUID,
  status: ExportState,
  /** Null until the export's job starts; kept as it ended once it is ready. */
  progress: Schema.NullOr(ExportProgress),
  /** Why it failed, when it did. */
  error: Schema.NullOr(Schema.String),
  created_at: Schema.Date,
  ready_at: Schema.NullOr(Schema.Date),
  /** When it stops being served and its archive is deleted; set once it is ready. */
  expires_at: Schema.NullOr(Schema.Date),
  /** The archive's size in bytes once it is ready. */
  size_bytes: Schema.NullOr(Schema.NonNegativeInt)
}).annotations({ identifier: "DataExport" })
export type ExportStatus = typeof ExportStatus.Type

/** `account.json`: the profile and the balance. */
export const ExportedAccount = Schema.Struct({
  id: Schema.String,
  email: Schema.NullOr(Schema.String),
  name: Schema.NullOr(Schema.String),
  credit_balance: Schema.Int,
  created_at: Schema.Date
}).annotations({ identifier: "ExportedAccount" })

/** A line of `messages.jsonl`: the message as uploaded, its written time and its UTC reading (ISO 8601). */
export const ExportedMessage = Schema.Struct({
  id: Schema.String,
  seq: Schema.Int,
  sent_at_local: WallClockText,
  sent_at: Schema.String,
  author: Schema.NullOr(Schema.String),
  text: Schema.String,
  kind: MessageKind,
  media_kind: Schema.NullOr(MediaKind),
  file_name: Schema.NullOr(Schema.String),
  event: Schema.NullOr(SystemEvent)
}).annotations({ identifier: "ExportedMessage" })
export type ExportedMessage = typeof ExportedMessage.Type

/** An order of `orders.json`, with what each provider event did to it; the providers' payloads are not kept in it. */
export const ExportedOrder = Schema.Struct({
  ...Struct.omit(Order.fields, "razorpay"),
  events: Schema.Array(OrderEvent)
}).annotations({ identifier: "ExportedOrder" })
export type ExportedOrder = typeof ExportedOrder.Type
