/**
 * The chat tools: every question with an exact answer in the database (counts, rankings, firsts and
 * lasts, busiest times, silences, reply times) as one typed call. The offline router builds these calls
 * from a question, Gemini builds them as function calls from the declarations below: one Schema per tool
 * is the single source of both the TypeScript type and the declaration the model sees.
 */
import { Either, JSONSchema, ParseResult, Schema } from "effect"
import type { ToolDeclaration } from "../Llm.js"

/** A calendar day as written in the chat (wall clock), `YYYY-MM-DD`, that exists. */
export const Day = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}$/),
  Schema.filter((text) => {
    const [y, m, d] = text.split("-").map(Number)
    const date = new Date(Date.UTC(y!, m! - 1, d!))
    return date.getUTCFullYear() === y && date.getUTCMonth() === m! - 1 && date.getUTCDate() === d
  }, { message: () => "a date that exists, YYYY-MM-DD", jsonSchema: { format: "date" } })
)

/** Media kinds as the parser stores them in `messages.media_kind` (see src/Domain/MessageKind.ts). */
export const MediaKindFilter = Schema.Literal(
  "image", "video", "audio", "voice", "sticker", "gif", "document", "contact", "location", "poll"
)
export type MediaKindFilter = typeof MediaKindFilter.Type

/** What a message must be: a stored kind, a message with a link, or media of one kind. */
export const KindFilter = Schema.Union(Schema.Literal("media", "deleted", "edited", "links"), MediaKindFilter)
export type KindFilter = typeof KindFilter.Type

const filterFields = {
  author: Schema.optional(Schema.String.annotations({
    description: "Only messages by this participant: full name, first name or a nickname used in the chat"
  })),
  from: Schema.optional(Day.annotations({ description: "First day included, YYYY-MM-DD (wall clock of the chat)" })),
  to: Schema.optional(Day.annotations({ description: "Last day included, YYYY-MM-DD" })),
  mentions: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(80)).annotations({
    title: "word or phrase",
    description: "Only messages containing this word or phrase as whole words, ignoring case and accents " +
      "(\"talk about the wedding\" is mentions \"wedding\")"
  })),
  kind: Schema.optional(KindFilter.annotations({
    description: "Only messages of this kind: media (any attachment), deleted, edited, links (text with a URL), " +
      "or one media kind (voice = voice notes, image = photos)"
  }))
}

/** The filters every counting tool takes; all optional, all applied together. */
export const MessageFilters = Schema.Struct(filterFields)
export type MessageFilters = typeof MessageFilters.Type

const period = { from: filterFields.from, to: filterFields.to }
const { author: _author, ...withoutAuthor } = filterFields

/** Each tool: its name, what it answers (for the model), and its input. */
export const toolDefinitions = {
  count_messages: {
    description: "Counts the messages matching the filters, exactly, from the database.",
    input: MessageFilters
  },
  rank_authors: {
    description: "Ranks participants by how many messages matching the filters they sent (most or fewest first).",
    input: Schema.Struct({
      ...withoutAuthor,
      order: Schema.Literal("most", "fewest").annotations({ description: "most: the top sender first" })
    })
  },
  find_message: {
    description: "The first or last message matching the filters (e.g. when a topic first came up), with its date.",
    input: Schema.Struct({ ...filterFields, which: Schema.Literal("first", "last") })
  },
  busiest: {
    description: "The day, hour of the day or month with the most messages matching the filters.",
    input: Schema.Struct({ ...filterFields, unit: Schema.Literal("day", "hour", "month") })
  },
  longest_silence: {
    description: "The longest time without any message (within the period if given), with the messages around it.",
    input: Schema.Struct(period)
  },
  reply_times: {
    description: "Median reply time per participant (a reply answers someone else's message within the chat's " +
      "silence threshold), fastest or slowest first; or one participant's.",
    input: Schema.Struct({
      ...period,
      author: filterFields.author,
      order: Schema.Literal("fastest", "slowest")
    })
  }
} as const

export type ToolName = keyof typeof toolDefinitions

const { busiest, count_messages, find_message, longest_silence, rank_authors, reply_times } = toolDefinitions

/** One call of one tool, with its input: what the router produces and what a model's function call decodes to. */
export const ToolCall = Schema.Union(
  Schema.Struct({ tool: Schema.Literal("count_messages"), input: count_messages.input }),
  Schema.Struct({ tool: Schema.Literal("rank_authors"), input: rank_authors.input }),
  Schema.Struct({ tool: Schema.Literal("find_message"), input: find_message.input }),
  Schema.Struct({ tool: Schema.Literal("busiest"), input: busiest.input }),
  Schema.Struct({ tool: Schema.Literal("longest_silence"), input: longest_silence.input }),
  Schema.Struct({ tool: Schema.Literal("reply_times"), input: reply_times.input })
)
export type ToolCall = typeof ToolCall.Type

const decodeCall = Schema.decodeUnknownEither(ToolCall, { onExcessProperty: "error" })

/** The definitions as plain entries, for what treats every tool alike (declarations, error messages). */
const definitions: ReadonlyArray<readonly [string, { readonly description: string; readonly input: Schema.Schema.AnyNoContext }]> =
  Object.entries(toolDefinitions)

const definitionOf = (name: string) => definitions.find(([tool]) => tool === name)?.[1]

/** A model's function call as a tool call, or why it is not one, briefly (it is said back to the model). */
export const toolCallOf = (name: string, args: unknown): Either.Either<ToolCall, string> => {
  const definition = definitionOf(name)
  if (definition === undefined) return Either.left(`no tool named ${name}`)
  const input = args ?? {}
  return Either.mapLeft(decodeCall({ tool: name, input }), () => {
    const issues = Either.match(Schema.decodeUnknownEither(definition.input, { onExcessProperty: "error" })(input), {
      onLeft: (error) => ParseResult.ArrayFormatter.formatErrorSync(error),
      onRight: () => []
    })
    return issues.map((issue) => `${issue.path.join(".") || "arguments"}: ${issue.message}`).join("; ")
  })
}

/** The function declarations offered to a model, one per tool, generated from the same Schemas. */
export const toolDeclarations: ReadonlyArray<ToolDeclaration> = definitions.map(
  ([name, definition]) => {
    const { $schema: _, ...parameters } = JSONSchema.make(definition.input)
    return { name, description: definition.description, parameters }
  }
)
