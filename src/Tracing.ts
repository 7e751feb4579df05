/**
 * OpenTelemetry: spans go to an OTLP/HTTP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (see
 * `otel-collector.yaml`); without it Effect's own tracer still gives every log a trace id.
 */
import { Effect, Layer, Option } from "effect"
import { TelemetryConfig } from "./Config.js"
import { version } from "./Domain/Version.js"

export const TracingLive = Layer.unwrapEffect(
  Effect.gen(function*() {
    const { otlpEndpoint, serviceName } = yield* TelemetryConfig
    if (Option.isNone(otlpEndpoint)) return Layer.empty
    const url = `${otlpEndpoint.value.replace(/\/+$/, "")}/v1/traces`
    yield* Effect.logInfo("Exporting traces over OTLP/HTTP").pipe(Effect.annotateLogs({ url }))
    // Loaded only when traces are exported: the SDK and its exporter hold about 10 MB that an instance
    // without a collector would carry for nothing.
    const [NodeSdk, { OTLPTraceExporter }, { BatchSpanProcessor }] = yield* Effect.promise(() =>
      Promise.all([
        import("@effect/opentelemetry/NodeSdk"),
        import("@opentelemetry/exporter-trace-otlp-http"),
        import("@opentelemetry/sdk-trace-base")
      ])
    )
    return NodeSdk.layer(() => ({
      resource: { serviceName, serviceVersion: version },
      spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter({ url }))
    }))
  })
)
