/**
 * A chat's statistics as the API answers them (snake_case, plain JSON): the contract that the
 * computation in `Ingest/Statistics.ts` fills and the chat endpoints return.
 */
import { Schema } from "effect"

const Count = Schema.NonNegativeInt

/** "YYYY-MM-DDTHH:MM:SS", the wall-clock time as the export wrote it (no time zone). */
const WallClockText = Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/)).annotations({
  description: "wall-clock date and time as written in the export, no time zone (YYYY-MM-DDTHH:MM:SS)"
})

const DayText = Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}$/)).annotations({
  description: "wall-clock date as written in the export (YYYY-MM-DD)"
})

const EmojiCount = Schema.Struct({ emoji: Schema.String, count: Count }).annotations({ identifier: "EmojiCount" })
const WordCount = Schema.Struct({ word: Schema.String, count: Count }).annotations({ identifier: "WordCount" })

const Activity = Schema.Struct({
  by_weekday: Schema.Array(Count).annotations({
    description: "7 counts of messages by weekday of the written date: index 0 = Monday ... 6 = Sunday"
  }),
  by_hour: Schema.Array(Count).annotations({ description: "24 counts of messages by written hour: index 0 ... 23" }),
  by_weekday_hour: Schema.optional(Schema.Array(Schema.Array(Count))).annotations({
    description: "the chat's totals only: 7 rows (0 = Monday ... 6 = Sunday) of 24 counts by written hour; " +
      "absent in statistics computed before it existed"
  })
}).annotations({ identifier: "Activity" })

const ResponseTimeBucket = Schema.Struct({
  from_seconds: Schema.Number,
  to_seconds: Schema.NullOr(Schema.Number).annotations({ description: "exclusive; null for the last bucket" }),
  count: Count
}).annotations({ identifier: "ResponseTimeBucket" })

const Percentiles = Schema.Struct({
  count: Count.annotations({ description: "number of samples" }),
  median_seconds: Schema.NullOr(Schema.Number),
  p75_seconds: Schema.NullOr(Schema.Number),
  p90_seconds: Schema.NullOr(Schema.Number)
}).annotations({
  identifier: "ResponseTimePercentiles",
  description: "percentiles by linear interpolation between closest ranks (numpy's default, Excel's " +
    "PERCENTILE.INC), in seconds rounded to the millisecond; null when there is no sample"
})

const ResponseTimes = Schema.Struct({
  replies: Percentiles.annotations({ description: "answers within a conversation: gap below the silence threshold" }),
  restarts: Percentiles.annotations({ description: "answers that reopen a conversation: gap of at least the silence threshold" })
}).annotations({ identifier: "ResponseTimes" })

const counters = {
  messages: Count.annotations({ description: "messages of any kind but system events (text, media, deleted, edited)" }),
  words: Count.annotations({
    description: "whitespace-separated runs in the bodies of text and edited messages and in media captions " +
      "(never a file name or placeholder)"
  }),
  characters: Count.annotations({
    description: "user-perceived characters (grapheme clusters: an emoji family or a flag is one) in the bodies " +
      "of text and edited messages, spaces and line breaks included"
  }),
  media: Count,
  media_by_kind: Schema.optional(Schema.Record({ key: Schema.String, value: Count })).annotations({
    description: "media messages by what they carry (image, video, audio, voice, sticker, gif, document, contact, " +
      "location, poll, view_once, unknown); only kinds seen; absent in statistics computed before it existed"
  }),
  links: Count.annotations({ description: "http://, https:// and www. addresses in text and edited bodies" }),
  deleted: Count,
  edited: Count
}

const ParticipantStatistics = Schema.Struct({
  name: Schema.String,
  ...counters,
  conversations_started: Count,
  double_texts: Count,
  top_emoji: Schema.Array(EmojiCount),
  top_words: Schema.Array(WordCount),
  activity: Activity,
  response_times: ResponseTimes,
  response_time_buckets: Schema.optional(Schema.Array(ResponseTimeBucket)).annotations({
    description: "every answer (replies and restarts) by its time: under 1 minute, 5, 15, 60 minutes, 6 hours, " +
      "a day, and more; absent in statistics computed before it existed"
  })
}).annotations({ identifier: "ParticipantStatistics" })

const Totals = Schema.Struct({
  ...counters,
  participants: Count,
  conversations: Count,
  double_texts: Count,
  top_emoji: Schema.Array(EmojiCount),
  top_words: Schema.Array(WordCount),
  activity: Activity
}).annotations({ identifier: "ChatTotals" })

export const ChatStatisticsSchema = Schema.Struct({
  settings: Schema.Struct({
    silence_threshold_minutes: Schema.Number,
    double_text_minutes: Schema.Number,
    top_n: Count,
    stopword_languages: Schema.Array(Schema.String)
  }),
  totals: Totals,
  participants: Schema.Array(ParticipantStatistics).annotations({
    description: "most messages first; ties in order of first appearance"
  }),
  timeline: Schema.Array(Schema.Struct({ date: DayText, messages: Count })).annotations({
    description: "every written date with at least one message, oldest first"
  }),
  longest_silence: Schema.NullOr(Schema.Struct({ from: WallClockText, to: WallClockText, seconds: Schema.Number })),
  longest_streak: Schema.NullOr(Schema.Struct({ from: DayText, to: DayText, days: Count })),
  first_message: Schema.NullOr(Schema.Struct({ at: WallClockText, author: Schema.String })),
  last_message: Schema.NullOr(Schema.Struct({ at: WallClockText, author: Schema.String }))
}).annotations({ identifier: "ChatStatistics" })

export interface ChatStatistics extends Schema.Schema.Type<typeof ChatStatisticsSchema> {}
export type ParticipantStatistics = typeof ParticipantStatistics.Type
export type ResponseTimePercentiles = typeof Percentiles.Type
export type ResponseTimeBucket = typeof ResponseTimeBucket.Type
