/**
 * The Gemini language model: `gemini-embedding-001` vectors at 768 dimensions, cited answers and insight
 * reports from `generateContent` constrained to the `AnswerJson` and `InsightJson` schemas, each call with
 * a timeout and retries.
 */
import { type Content, FunctionCallingConfigMode, type GenerateContentResponse, GoogleGenAI, type Part } from "@google/genai"
import { type ConfigError, Duration, Effect, Either, Layer, Option, ParseResult, Redacted, Schema } from "effect"
import { type Answer, type AnswerTools, type InsightReport, InsightUnusable, type LanguageModel, Llm } from "../Llm.js"
import { embedderId } from "../Vector.js"
import { GeminiConfig, type GeminiSettings } from "./Gemini/Config.js"
import { classify, GeminiFailure, retrySchedule, statusAwareFetch, toUnavailable } from "./Gemini/Failure.js"
import { InsightJson, insightJsonSchema, insightPrompt, insightSystemInstruction, keepCited } from "./InsightPrompt.js"
import { AnswerJson, answerJsonSchema, questionPrompt, systemInstruction, toolSystemInstruction } from "./Prompts.js"

/** Texts per `batchEmbedContents` call: the API refuses more than 100. */
const embedBatchSize = 100
/** Batches in flight at once for one `embed` call; more mostly buys 429s. */
const embedConcurrency = 4

/** The size Gemini is asked for (of its 3072): its vectors are stored at this size. */
const dimensions = 768

const geminiEmbedder = (model: string): string => embedderId(model, dimensions)

const EmbedReply = Schema.Struct({
  embeddings: Schema.Array(Schema.Struct({ values: Schema.Array(Schema.Number) }))
})

const decodeAnswerJson = Schema.decodeUnknownEither(Schema.parseJson(AnswerJson))
const decodeInsightJson = Schema.decodeUnknownEither(Schema.parseJson(InsightJson))

/** Scales a vector to unit length: at 768 of 3072 dimensions Gemini's vectors are not normalised. */
const unitLength = (values: ReadonlyArray<number>): Array<number> => {
  let norm = 0
  for (const value of values) norm += value * value
  norm = Math.sqrt(norm)
  return norm === 0 ? values.slice() : values.map((value) => value / norm)
}

/** Rounds of function calls before the answer is asked for without tools. */
const maxToolRounds = 3

/** A reply's JSON, also when a model not constrained to JSON wraps it in a Markdown fence. */
const unfenced = (text: string) => text.trim().replace(/^```(?:json)?\s*/i, "").replace(/\s*```$/, "")

/** The conversation so far in Gemini's roles, then the messages with the question. */
const promptContents = (input: Parameters<LanguageModel["answer"]>[0]): Array<Content> => [
  ...input.history.map((turn) => ({
    role: turn.role === "assistant" ? "model" : "user",
    parts: [{ text: turn.content }]
  })),
  { role: "user", parts: [{ text: questionPrompt(input.question, input.context) }] }
]

/** The text of the first candidate, without "thought" parts (read here: the SDK's `.text` logs warnings). */
const replyText = (response: GenerateContentResponse): string | undefined => {
  const parts = response.candidates?.[0]?.content?.parts ?? []
  const texts = parts.filter((part) => typeof part.text === "string" && part.thought !== true).map((part) => part.text)
  return texts.length === 0 ? undefined : texts.join("")
}

const makeGemini = (settings: GeminiSettings): Effect.Effect<LanguageModel> =>
  Effect.gen(function*() {
    const timeoutMillis = Math.max(1, Math.round(Duration.toMillis(settings.timeout)))
    const ai = new GoogleGenAI({
      apiKey: Redacted.value(settings.apiKey),
      // The Developer API, whatever GOOGLE_GENAI_USE_VERTEXAI says.
      vertexai: false,
      httpOptions: {
        ...Option.match(settings.baseUrl, { onNone: () => ({}), onSome: (baseUrl) => ({ baseUrl }) }),
        timeout: timeoutMillis,
        // No `retryOptions`: the SDK then makes one attempt, and our schedule does the retrying.
        fetch: statusAwareFetch
      }
    })
    const schedule = retrySchedule(settings)
    const embedder = geminiEmbedder(settings.embeddingModel)

    /** One call with a timeout (the SDK's per request, and ours as a backstop) and the retries; the last failure kept. */
    const callRaw = <R, A>(
      name: string,
      run: (signal: AbortSignal) => Promise<R>,
      decode: (raw: R) => Either.Either<A, GeminiFailure>
    ) =>
      Effect.tryPromise({ try: run, catch: classify }).pipe(
        Effect.timeoutFail({
          duration: Duration.sum(settings.timeout, Duration.seconds(1)),
          onTimeout: () => new GeminiFailure({ reason: "timeout", detail: `no reply within ${Duration.format(settings.timeout)}` })
        }),
        Effect.flatMap((raw) => decode(raw)),
        Effect.tapError((failure) =>
          Effect.logDebug("Gemini attempt failed", { call: name, reason: failure.reason, status: failure.status, detail: failure.detail })
        ),
        Effect.retry(schedule),
        Effect.tapError((failure) =>
          Effect.logWarning("Gemini call failed", { call: name, reason: failure.reason, status: failure.status, detail: failure.detail })
        )
      )

    const call = <R, A>(
      name: string,
      run: (signal: AbortSignal) => Promise<R>,
      decode: (raw: R) => Either.Either<A, GeminiFailure>
    ) => callRaw(name, run, decode).pipe(Effect.mapError(toUnavailable))

    /**
     * The reply's JSON decoded by `decode`, or a `malformed` failure (which the schedule retries). The
     * failure names only where the reply went wrong, never its values: they may quote the chat, and
     * failures are logged.
     */
    const jsonReply = <A>(
      response: GenerateContentResponse,
      what: string,
      decode: (text: string) => Either.Either<A, ParseResult.ParseError>
    ) => {
      const text = replyText(response)
      if (text === undefined) {
        const reason = response.candidates?.[0]?.finishReason ?? response.promptFeedback?.blockReason ?? "no candidate"
        return Either.left(new GeminiFailure({ reason: "malformed", detail: `no text in the reply (${reason})` }))
      }
      return Either.mapBoth(decode(text), {
        onLeft: (error) => {
          const paths = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => issue.path.join(".") || "(root)")
          return new GeminiFailure({
            reason: "malformed",
            detail: `${what} JSON of ${text.length} characters does not decode at ${[...new Set(paths)].join(", ")}`
          })
        },
        onRight: (json) => ({ json, usage: response.usageMetadata })
      })
    }

    const embedBatch = (texts: ReadonlyArray<string>, purpose: "document" | "query") =>
      call(
        "embed",
        (abortSignal) =>
          ai.models.embedContent({
            model: settings.embeddingModel,
            contents: texts.slice(),
            config: {
              outputDimensionality: dimensions,
              taskType: purpose === "document" ? "RETRIEVAL_DOCUMENT" : "RETRIEVAL_QUERY",
              abortSignal
            }
          }),
        (raw) =>
          Either.flatMap(
            Either.mapLeft(
              Schema.decodeUnknownEither(EmbedReply)(raw),
              (error) => new GeminiFailure({ reason: "malformed", detail: `embeddings: ${error.message}` })
            ),
            ({ embeddings }) =>
              embeddings.length !== texts.length
                ? Either.left(new GeminiFailure({ reason: "malformed", detail: `${embeddings.length} embeddings for ${texts.length} texts` }))
                : embeddings.some(({ values }) => values.length !== dimensions)
                ? Either.left(new GeminiFailure({ reason: "malformed", detail: `an embedding is not ${dimensions} long` }))
                : Either.right(embeddings.map(({ values }) => unitLength(values)))
          )
      )

    const embed: LanguageModel["embed"] = (texts, purpose) =>
      Effect.gen(function*() {
        // Blank texts are not sent (the API refuses empty content); like offline, they get the zero vector.
        const sent = texts.flatMap((text, index) => text.trim() === "" ? [] : [index])
        const batches: Array<ReadonlyArray<number>> = []
        for (let i = 0; i < sent.length; i += embedBatchSize) batches.push(sent.slice(i, i + embedBatchSize))
        const vectors = yield* Effect.forEach(
          batches,
          (batch) => embedBatch(batch.map((index) => texts[index]!), purpose),
          { concurrency: embedConcurrency }
        )
        const result: Array<ReadonlyArray<number>> = texts.map(() => new Array<number>(dimensions).fill(0))
        batches.forEach((batch, b) => batch.forEach((index, i) => (result[index] = vectors[b]![i]!)))
        return result
      }).pipe(
        Effect.withSpan("Llm.embed", {
          attributes: { count: texts.length, embedder, model: settings.embeddingModel, purpose }
        })
      )

    const usageOf = (response: GenerateContentResponse) => ({
      prompt_tokens: response.usageMetadata?.promptTokenCount ?? 0,
      candidates_tokens: response.usageMetadata?.candidatesTokenCount ?? 0,
      thoughts_tokens: response.usageMetadata?.thoughtsTokenCount ?? 0,
      total_tokens: response.usageMetadata?.totalTokenCount ?? 0
    })

    /**
     * Function-calling rounds: the model is offered the tools (without a JSON response schema, which the
     * API refuses alongside functions), each call it makes is run and its result sent back as a
     * `functionResponse`, until it answers in text. Its text is the answer when it is the JSON asked for;
     * otherwise (or after `maxToolRounds`) the caller asks once more for the JSON, without tools.
     */
    const toolRounds = <E>(
      contents: Array<Content>,
      tools: AnswerTools<E>,
      given: Set<string>,
      usage: Array<GenerateContentResponse>
    ) =>
      Effect.gen(function*() {
        for (let round = 0; round < maxToolRounds; round++) {
          const reply = yield* call(
            "answer.tools",
            (abortSignal) =>
              ai.models.generateContent({
                model: settings.chatModel,
                contents,
                config: {
                  systemInstruction: toolSystemInstruction,
                  tools: [{
                    functionDeclarations: tools.declarations.map((d) => ({
                      name: d.name,
                      description: d.description,
                      parametersJsonSchema: d.parameters
                    }))
                  }],
                  toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } },
                  temperature: 0.2,
                  abortSignal
                }
              }),
            (response) => Either.right(response)
          )
          usage.push(reply)
          const content = reply.candidates?.[0]?.content
          const calls = (content?.parts ?? []).flatMap((part) => part.functionCall === undefined ? [] : [part.functionCall])
          if (content === undefined || calls.length === 0) {
            const text = replyText(reply)
            const json = text === undefined ? undefined : Either.getRight(decodeAnswerJson(unfenced(text)))
            return json === undefined ? undefined : Option.getOrUndefined(json)
          }
          // The model's turn goes back as it came (thought signatures included), then one response per call.
          contents.push(content)
          const responses: Array<Part> = []
          for (const functionCall of calls) {
            const name = functionCall.name ?? ""
            const result = yield* tools.call(name, functionCall.args ?? {})
            for (const message of result.evidence) given.add(message.messageId)
            responses.push({
              functionResponse: { ...(functionCall.id === undefined ? {} : { id: functionCall.id }), name, response: result.response }
            })
          }
          contents.push({ role: "user", parts: responses })
          yield* Effect.annotateCurrentSpan("tool_calls", calls.map((c) => c.name ?? "").join(","))
        }
        return undefined
      })

    const answer: LanguageModel["answer"] = (input) =>
      Effect.gen(function*() {
        // Nothing to answer from and nothing to look up: the model could only say so, at the price of a call.
        if (input.context.length === 0 && input.tools === undefined) {
          return {
            text: "No messages in this chat were found about that.",
            citedMessageIds: [],
            mode: "gemini"
          } satisfies Answer
        }
        const contents = promptContents(input)
        const given = new Set(input.context.map((message) => message.messageId))
        const usage: Array<GenerateContentResponse> = []
        const fromTools = input.tools === undefined ? undefined : yield* toolRounds(contents, input.tools, given, usage)
        const json = fromTools ?? (yield* call(
          "answer",
          (abortSignal) =>
            ai.models.generateContent({
              model: settings.chatModel,
              contents,
              config: {
                systemInstruction: input.tools === undefined ? systemInstruction : toolSystemInstruction,
                responseMimeType: "application/json",
                responseJsonSchema: answerJsonSchema,
                temperature: 0.2,
                abortSignal
              }
            }),
          (response) => Either.map(jsonReply(response, "answer", decodeAnswerJson), (reply) => {
            usage.push(response)
            return reply.json
          })
        ))
        const tokens = usage.map(usageOf)
        yield* Effect.annotateCurrentSpan({
          prompt_tokens: tokens.reduce((sum, t) => sum + t.prompt_tokens, 0),
          candidates_tokens: tokens.reduce((sum, t) => sum + t.candidates_tokens, 0),
          thoughts_tokens: tokens.reduce((sum, t) => sum + t.thoughts_tokens, 0),
          total_tokens: tokens.reduce((sum, t) => sum + t.total_tokens, 0)
        })
        // Only ids we gave the model (in the context or a function's reply), once each: an invented id is never cited.
        const cited = [...new Set(json.message_ids.map((id) => id.trim().replace(/^\[|\]$/g, "")))]
          .filter((id) => given.has(id))
        return { text: json.answer.trim(), citedMessageIds: cited, mode: "gemini" } satisfies Answer
      }).pipe(
        Effect.withSpan("Llm.answer", {
          attributes: {
            model: settings.chatModel,
            context: input.context.length,
            history: input.history.length,
            tools: input.tools?.declarations.length ?? 0
          }
        })
      )

    const generateInsight: LanguageModel["generateInsight"] = (input) =>
      Effect.gen(function*() {
        const reply = yield* callRaw(
          "generateInsight",
          (abortSignal) =>
            ai.models.generateContent({
              model: settings.chatModel,
              contents: [{ role: "user", parts: [{ text: insightPrompt(input) }] }],
              config: {
                systemInstruction: insightSystemInstruction,
                responseMimeType: "application/json",
                responseJsonSchema: insightJsonSchema,
                temperature: 0.3,
                abortSignal
              }
            }),
          (response) => jsonReply(response, "insight", decodeInsightJson)
        ).pipe(
          Effect.mapError((failure) =>
            failure.reason === "malformed" ? new InsightUnusable({ reason: failure.detail }) : toUnavailable(failure)
          )
        )
        const tokens = {
          prompt: reply.usage?.promptTokenCount ?? 0,
          output: (reply.usage?.candidatesTokenCount ?? 0) + (reply.usage?.thoughtsTokenCount ?? 0)
        }
        yield* Effect.annotateCurrentSpan({ prompt_tokens: tokens.prompt, output_tokens: tokens.output })
        const findings = keepCited(reply.json.findings, input.evidence)
        yield* Effect.annotateCurrentSpan({
          findings: findings.length,
          findings_dropped: reply.json.findings.length - findings.length
        })
        return {
          summary: reply.json.summary.trim(),
          findings,
          confidence: reply.json.confidence,
          mode: "gemini",
          model: settings.chatModel,
          tokens
        } satisfies InsightReport
      }).pipe(
        Effect.withSpan("Llm.generateInsight", {
          attributes: { model: settings.chatModel, insightType: input.typeId, evidence: input.evidence.length }
        })
      )

    return { mode: "gemini", embedder, embed, answer, generateInsight } satisfies LanguageModel
  })

/** The Gemini layer; fails at start-up (a ConfigError) without GEMINI_API_KEY. */
export const GeminiLive: Layer.Layer<Llm, ConfigError.ConfigError> = Layer.effect(
  Llm,
  Effect.gen(function*() {
    const settings = yield* GeminiConfig
    yield* Effect.logInfo("language model: gemini", {
      chatModel: settings.chatModel,
      embedder: geminiEmbedder(settings.embeddingModel)
    })
    return yield* makeGemini(settings)
  })
)
