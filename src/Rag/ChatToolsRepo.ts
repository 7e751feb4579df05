/**
 * The SQL of the chat tools: counts, rankings, first and last messages, busiest times, the longest
 * silence and reply times, all under the same filters, read from `messages` on wall-clock time.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { wallClockSql } from "../Database.js"
import { CitedMessage } from "../Domain/Rag.js"
import type { KindFilter } from "./ChatTools.js"

/** Filters with the author resolved to a stored name and the mentioned words as a PostgreSQL regex. */
export interface ResolvedFilters {
  readonly author: string | null
  /** Inclusive days, `YYYY-MM-DD`. */
  readonly from: string | null
  readonly to: string | null
  /** A regex for `~*` (see `mentionPattern`), or null. */
  readonly pattern: string | null
  readonly kind: KindFilter | null
}

// Letters written with accents are found from the plain letter and the other way round; both cases are
// listed because `~*` folds only what the database's locale knows (C folds ASCII alone).
const accents: Readonly<Record<string, string>> = {
  a: "aàáâãäåāăą", c: "cçćč", d: "dďđ", e: "eèéêëēėęě", g: "gğ", i: "iìíîïīį", l: "lł", n: "nñńň",
  o: "oòóôõöøō", r: "rř", s: "sśšş", t: "tť", u: "uùúûüūůű", y: "yýÿ", z: "zźżž"
}

/** A letter or digit for word boundaries, independent of the locale: Latin, Greek and Cyrillic letters. */
const wordChar = "0-9A-Za-z_\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF"

/**
 * The PostgreSQL regex finding `phrase` as whole words, ignoring case and accents: "cafe" finds "Café"
 * but not "cafes"; the words of a phrase may be separated by any spaces or a hyphen.
 */
export const mentionPattern = (phrase: string, letterCase: "any" | "capital" | "lower" = "any"): string => {
  const words = phrase.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase().split(/[\s-]+/).filter((w) => w !== "")
  // For `~` (case-sensitive): the first letter of each word capitalised, or all lower case.
  const letter = (c: string, first: boolean) => {
    const lower = accents[c] ?? (/[\p{L}\p{N}]/u.test(c) ? c : undefined)
    if (lower === undefined) return `\\${c}`
    const cased = letterCase === "any" ? `${lower}${lower.toUpperCase()}` : letterCase === "capital" && first ? lower.toUpperCase() : lower
    return `[${cased}]`
  }
  const body = words.map((word) => [...word].map((c, i) => letter(c, i === 0)).join("")).join("[\\s\\-]+")
  return `(^|[^${wordChar}])${body}($|[^${wordChar}])`
}

const linkPattern = "https?://|www\\."

const Count = Schema.Struct({ n: Schema.Number })
const AuthorCount = Schema.Struct({ author: Schema.String, n: Schema.Number })
const KeyCount = Schema.Struct({ key: Schema.String, n: Schema.Number })
const Gap = Schema.Struct({ before_id: Schema.String, after_id: Schema.String, seconds: Schema.Number })
const ReplyTime = Schema.Struct({ author: Schema.String, replies: Schema.Number, median_seconds: Schema.Number })
const Threshold = Schema.Struct({ minutes: Schema.NullOr(Schema.Number) })

const decodeRows = <A, I>(schema: Schema.Schema<A, I>) => Schema.decodeUnknown(Schema.Array(schema))

/** How `busiest` groups messages: the wall-clock text of the day, the hour of the day or the month. */
const bucketFormat = { day: "YYYY-MM-DD", hour: "HH24", month: "YYYY-MM" } as const

export class ChatToolsRepo extends Effect.Service<ChatToolsRepo>()("chatsight/ChatToolsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const sentAt = sql.literal(wallClockSql("m.sent_at_local"))

    const kindClause = (filters: ResolvedFilters) => {
      const kind = filters.kind
      // Written words live in text, edited text and media captions; a deleted body is only a marker.
      const written = sql`m.kind IN ('text', 'edited', 'media')`
      if (kind === null) return filters.pattern === null ? sql`m.kind <> 'system'` : written
      if (kind === "links") return sql.and([written, sql`m.text ~* ${linkPattern}`])
      if (kind === "media" || kind === "deleted" || kind === "edited") return sql`m.kind = ${kind}`
      return sql`m.kind = 'media' AND m.media_kind = ${kind}`
    }

    const periodClauses = (from: string | null, to: string | null) => [
      ...(from === null ? [] : [sql`m.sent_at_local >= ${from}::date`]),
      ...(to === null ? [] : [sql`m.sent_at_local < ${to}::date + 1`])
    ]

    const matching = (chatId: string, filters: ResolvedFilters) =>
      sql.and([
        sql`m.chat_id = ${chatId}::uuid`,
        sql`m.author IS NOT NULL`,
        kindClause(filters),
        ...(filters.author === null ? [] : [sql`m.author = ${filters.author}`]),
        ...periodClauses(filters.from, filters.to),
        ...(filters.pattern === null ? [] : [sql`m.text ~* ${filters.pattern}`])
      ])

    const count = (chatId: string, filters: ResolvedFilters) =>
      sql`SELECT count(*)::int AS n FROM messages m WHERE ${matching(chatId, filters)}`.pipe(
        Effect.flatMap(decodeRows(Count)),
        Effect.map((rows) => rows[0]?.n ?? 0)
      )

    /** Media messages under the same filters whose kind the export did not say (Android's "<Media omitted>"). */
    const mediaOfUnknownKind = (chatId: string, filters: ResolvedFilters) =>
      sql`SELECT count(*)::int AS n FROM messages m
          WHERE ${matching(chatId, { ...filters, kind: "media" })}
            AND (m.media_kind IS NULL OR m.media_kind IN ('unknown', 'view_once'))`.pipe(
        Effect.flatMap(decodeRows(Count)),
        Effect.map((rows) => rows[0]?.n ?? 0)
      )

    /** Matching messages per author, most first (ties by name); authors with none are absent. */
    const countByAuthor = (chatId: string, filters: ResolvedFilters) =>
      sql`SELECT m.author, count(*)::int AS n FROM messages m WHERE ${matching(chatId, filters)}
          GROUP BY m.author ORDER BY n DESC, m.author`.pipe(Effect.flatMap(decodeRows(AuthorCount)))

    /** The first (or last) `limit` matching messages in file order. */
    const edge = (chatId: string, filters: ResolvedFilters, last: boolean, limit: number) =>
      sql`SELECT m.id::text AS message_id, m.author, ${sentAt} AS sent_at, m.text FROM messages m
          WHERE ${matching(chatId, filters)}
          ORDER BY m.seq ${last ? sql`DESC` : sql`ASC`} LIMIT ${limit}`.pipe(Effect.flatMap(decodeRows(CitedMessage)))

    /** The days, hours of the day or months with the most matching messages, most first (ties: earliest). */
    const busiest = (chatId: string, filters: ResolvedFilters, unit: keyof typeof bucketFormat, limit: number) =>
      sql`SELECT to_char(m.sent_at_local, ${bucketFormat[unit]}) AS key, count(*)::int AS n FROM messages m
          WHERE ${matching(chatId, filters)}
          GROUP BY key ORDER BY n DESC, key LIMIT ${limit}`.pipe(Effect.flatMap(decodeRows(KeyCount)))

    const messagesById = (chatId: string, ids: ReadonlyArray<string>) =>
      sql`SELECT m.id::text AS message_id, m.author, ${sentAt} AS sent_at, m.text FROM messages m
          WHERE m.chat_id = ${chatId}::uuid AND m.id = ANY(${ids}::bigint[]) ORDER BY m.seq`.pipe(
        Effect.flatMap(decodeRows(CitedMessage))
      )

    /**
     * The largest gap between consecutive messages (system events aside) within the period, the first one
     * on a tie, as `computeStatistics` defines it; none when the period holds fewer than two messages.
     */
    const longestSilence = (chatId: string, from: string | null, to: string | null) =>
      Effect.gen(function*() {
        const inPeriod = sql.and([
          sql`m.chat_id = ${chatId}::uuid`,
          sql`m.kind <> 'system'`,
          sql`m.author IS NOT NULL`,
          ...periodClauses(from, to)
        ])
        const [gap] = yield* sql`
          WITH s AS (
            SELECT m.id, m.seq, m.sent_at_local, lag(m.id) OVER w AS prev_id, lag(m.sent_at_local) OVER w AS prev_at
            FROM messages m WHERE ${inPeriod} WINDOW w AS (ORDER BY m.seq)
          )
          SELECT prev_id::text AS before_id, id::text AS after_id,
                 greatest(0, extract(epoch FROM sent_at_local - prev_at))::float8 AS seconds
          FROM s WHERE prev_id IS NOT NULL ORDER BY seconds DESC, seq LIMIT 1`.pipe(Effect.flatMap(decodeRows(Gap)))
        if (gap === undefined) return null
        const messages = yield* messagesById(chatId, [gap.before_id, gap.after_id])
        const before = messages.find((m) => m.message_id === gap.before_id)
        const after = messages.find((m) => m.message_id === gap.after_id)
        return before === undefined || after === undefined ? null : { before, after, seconds: gap.seconds }
      })

    /** The chat's silence threshold as its statistics were computed with, in minutes (null when unknown). */
    const silenceThreshold = (chatId: string) =>
      sql`SELECT (stats #>> '{settings,silence_threshold_minutes}')::float8 AS minutes
          FROM chat_stats WHERE chat_id = ${chatId}::uuid`.pipe(
        Effect.flatMap(decodeRows(Threshold)),
        Effect.map((rows) => rows[0]?.minutes ?? null)
      )

    /**
     * Median reply time per author, fastest first: a reply is a message whose author differs from the
     * previous message's and that comes less than `thresholdSeconds` after it (as in the statistics); the
     * median interpolates like theirs. The period selects the replies, not the messages replied to.
     */
    const replyTimes = (chatId: string, from: string | null, to: string | null, thresholdSeconds: number) =>
      sql`
        WITH s AS (
          SELECT m.author, m.sent_at_local, lag(m.author) OVER w AS prev_author, lag(m.sent_at_local) OVER w AS prev_at
          FROM messages m WHERE m.chat_id = ${chatId}::uuid AND m.kind <> 'system' AND m.author IS NOT NULL
          WINDOW w AS (ORDER BY m.seq)
        ), r AS (
          SELECT m.author, m.sent_at_local, greatest(0, extract(epoch FROM m.sent_at_local - m.prev_at))::float8 AS gap
          FROM s m WHERE m.prev_author IS NOT NULL AND m.author <> m.prev_author
        )
        SELECT m.author, count(*)::int AS replies,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY m.gap)::float8 AS median_seconds
        FROM r m WHERE ${sql.and([sql`m.gap < ${thresholdSeconds}`, ...periodClauses(from, to)])}
        GROUP BY m.author ORDER BY median_seconds, m.author`.pipe(Effect.flatMap(decodeRows(ReplyTime)))

    /**
     * Whether the others (not `participant`) write `word` as a name: as a whole word, capitalised in more
     * of their messages than not ("Jonny" is a name; "maybe", capitalised only to start a sentence, is not).
     */
    const writtenAsName = (chatId: string, word: string, participant: string) =>
      sql`SELECT count(*) FILTER (WHERE m.text ~ ${mentionPattern(word, "capital")})::int AS capital,
                 count(*) FILTER (WHERE m.text ~ ${mentionPattern(word, "lower")})::int AS lower
          FROM messages m
          WHERE m.chat_id = ${chatId}::uuid AND m.kind IN ('text', 'edited') AND m.author IS DISTINCT FROM ${participant}
            AND m.text ~* ${mentionPattern(word)}`.pipe(
        Effect.flatMap(decodeRows(Schema.Struct({ capital: Schema.Number, lower: Schema.Number }))),
        Effect.map((rows) => (rows[0]?.capital ?? 0) > (rows[0]?.lower ?? 0))
      )

    return {
      count,
      mediaOfUnknownKind,
      countByAuthor,
      edge,
      busiest,
      longestSilence,
      silenceThreshold,
      replyTimes,
      writtenAsName
    } as const
  })
}) {}
