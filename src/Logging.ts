/**
 * Logs as one JSON object a line, each carrying the trace and span ids of the fiber that wrote it and
 * its annotations (the request id among them), so a log line leads to its trace and back.
 */
import { Cause, Context, Effect, FiberRef, FiberRefs, HashMap, Layer, Logger, Tracer } from "effect"
import { TelemetryConfig } from "./Config.js"

const render = (value: unknown): unknown => {
  if (value instanceof Error) return `${value.name}: ${value.message}`
  return value
}

export const jsonLogger = Logger.make(({ annotations, cause, context, date, logLevel, message, spans }) => {
  const parts = Array.isArray(message) ? message : [message]
  const entry: Record<string, unknown> = {
    time: date.toISOString(),
    level: logLevel.label,
    message: typeof parts[0] === "string" ? parts[0] : render(parts[0])
  }
  if (parts.length > 1) entry.detail = parts.length === 2 ? render(parts[1]) : parts.slice(1).map(render)
  const span = Context.getOption(FiberRefs.getOrDefault(context, FiberRef.currentContext), Tracer.ParentSpan)
  if (span._tag === "Some") {
    entry.traceId = span.value.traceId
    entry.spanId = span.value.spanId
  }
  HashMap.forEach(annotations, (value, key) => {
    entry[key] = render(value)
  })
  const now = date.getTime()
  for (const logSpan of spans) entry[`${logSpan.label}Ms`] = now - logSpan.startTime
  if (!Cause.isEmpty(cause)) entry.cause = Cause.pretty(cause, { renderErrorCause: true })
  return JSON.stringify(entry)
})

/**
 * Gathers the lines written in one turn of the event loop and writes them at its end in one call: a
 * write per line was a system call per request (stdout is written synchronously to pipes and files).
 * Whatever is still gathered when the process exits is written then.
 */
export const lineWriter = (write: (text: string) => void) => {
  let pending: Array<string> = []
  let scheduled = false
  let hooked = false
  const flush = () => {
    scheduled = false
    if (pending.length === 0) return
    const text = `${pending.join("\n")}\n`
    pending = []
    write(text)
  }
  const push = (line: string) => {
    pending.push(line)
    if (!hooked) {
      hooked = true
      process.once("exit", flush)
    }
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }
  return { push, flush } as const
}

const stdout = lineWriter((text) => process.stdout.write(text))

/** The JSON lines on standard output, gathered per turn of the event loop. */
export const jsonStdoutLogger = Logger.map(jsonLogger, stdout.push)

/** The configured logger (JSON or pretty) at the configured minimum level. */
export const LoggingLive = Layer.unwrapEffect(
  Effect.map(TelemetryConfig, ({ logFormat, logLevel }) =>
    Layer.merge(
      Logger.replace(Logger.defaultLogger, logFormat === "json" ? jsonStdoutLogger : Logger.prettyLoggerDefault),
      Logger.minimumLogLevel(logLevel)
    ))
)
