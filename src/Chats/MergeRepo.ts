/**
 * The SQL of merging an export into a stored chat: the chat's row lock, its messages as the merge reads
 * them, renumbering, the chat's counts and statistics afterwards, and the cheap look for a stored chat an
 * upload overlaps.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import { MessageKind } from "../Domain/Chat.js"
import { mediaKinds, systemEvents } from "../Domain/MessageKind.js"
import type { MessageProbe, StoredMessage } from "./Merge.js"

const StoredMessageRow = Schema.Struct({
  id: Schema.String,
  seq: Schema.Number,
  sent_at: Schema.Number,
  author: Schema.NullOr(Schema.String),
  text: Schema.String,
  kind: MessageKind,
  media_kind: Schema.NullOr(Schema.Literal(...mediaKinds)),
  file_name: Schema.NullOr(Schema.String),
  event: Schema.NullOr(Schema.Literal(...systemEvents))
})
const decodeRows = Schema.decodeUnknown(Schema.Array(StoredMessageRow))

export interface ChatCounts {
  readonly participants: ReadonlyArray<string>
  readonly messageCount: number
  readonly firstMessageAt: string | null
  readonly lastMessageAt: string | null
}

export class MergeRepo extends Effect.Service<MergeRepo>()("chatsight/MergeRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** Locks the user's chat for the merge (NOWAIT: a busy lock is retried by `withLockRetry`); none when it is not theirs. */
    const lockChat = (userId: string, chatId: string) =>
      sql<{ id: string; time_zone: string | null }>`
        SELECT id::text AS id, time_zone FROM chats
        WHERE id = (SELECT id FROM active_chats WHERE id = ${chatId}::uuid AND user_id = ${userId})
        FOR UPDATE NOWAIT`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])))

    /** The chat's messages in seq order, times as wall-clock milliseconds. */
    const messagesOf = (chatId: string) =>
      sql`SELECT id::text AS id, seq, (extract(epoch FROM sent_at_local) * 1000)::float8 AS sent_at, author, text,
                 kind, media_kind, file_name, event
          FROM messages WHERE chat_id = ${chatId}::uuid ORDER BY seq`.pipe(
        Effect.flatMap(decodeRows),
        Effect.orDie,
        Effect.map((rows) =>
          rows.map((row): StoredMessage => ({
            id: row.id,
            seq: row.seq,
            sentAt: row.sent_at,
            author: row.author,
            text: row.text,
            kind: row.kind,
            mediaKind: row.media_kind,
            fileName: row.file_name,
            event: row.event
          }))
        )
      )

    /**
     * Gives messages their new seqs in two steps, through negative ones, so UNIQUE (chat_id, seq) never
     * sees two rows on one seq on the way: first `park` (before the new rows go in), then `unpark`.
     */
    const park = (chatId: string, ids: ReadonlyArray<string>, seqs: ReadonlyArray<number>) =>
      ids.length === 0
        ? Effect.void
        : sql`UPDATE messages m SET seq = -1 - u.seq
              FROM unnest(${ids}::bigint[], ${seqs}::int[]) AS u(id, seq)
              WHERE m.id = u.id AND m.chat_id = ${chatId}::uuid`.pipe(Effect.asVoid)

    const unpark = (chatId: string) =>
      sql`UPDATE messages SET seq = -1 - seq WHERE chat_id = ${chatId}::uuid AND seq < 0`.pipe(Effect.asVoid)

    const updateChat = (chatId: string, counts: ChatCounts) =>
      sql`UPDATE chats SET participants = ${JSON.stringify(counts.participants)}::jsonb,
                           message_count = ${counts.messageCount},
                           first_message_at = ${counts.firstMessageAt}::timestamp,
                           last_message_at = ${counts.lastMessageAt}::timestamp,
                           updated_at = now()
          WHERE id = ${chatId}::uuid`.pipe(Effect.asVoid)

    const replaceStats = (chatId: string, stats: unknown) =>
      sql`INSERT INTO chat_stats (chat_id, stats) VALUES (${chatId}::uuid, ${JSON.stringify(stats)}::jsonb)
          ON CONFLICT (chat_id) DO UPDATE SET stats = excluded.stats, computed_at = now()`.pipe(Effect.asVoid)

    /**
     * The user's stored chat holding the most of `probes` (at least `atLeast` of them), if any: each
     * probe is one index lookup on (chat_id, sent_at_local) per chat of the user.
     */
    const overlappingChat = (userId: string, probes: ReadonlyArray<MessageProbe>, atLeast: number) =>
      probes.length === 0
        ? Effect.succeed(Option.none<string>())
        : sql<{ id: string }>`
            SELECT c.id::text AS id
            FROM active_chats c, LATERAL (
              SELECT count(*)::int AS n
              FROM unnest(${probes.map((p) => p.author ?? "")}::text[], ${probes.map((p) => p.sentAt)}::timestamp[],
                          ${probes.map((p) => p.text)}::text[]) AS p(author, sent_at, text)
              WHERE EXISTS (SELECT 1 FROM messages m
                            WHERE m.chat_id = c.id AND m.sent_at_local = p.sent_at
                              AND coalesce(m.author, '') = p.author AND m.text = p.text)) AS hits
            WHERE c.user_id = ${userId} AND hits.n >= ${atLeast}
            ORDER BY hits.n DESC, c.created_at, c.id LIMIT 1`.pipe(
            Effect.map((rows) => Option.fromNullable(rows[0]?.id))
          )

    return { lockChat, messagesOf, park, unpark, updateChat, replaceStats, overlappingChat } as const
  })
}) {}
