/**
 * The soak's figures and verdicts, from what the run recorded: per-route latency and statuses, 5xx
 * inside and outside the outage window, recovery, the server's memory trend and the pool's peaks.
 */
import type { Call } from "./soak-load.js"
import type { LogLine } from "./server.js"
import { percentile } from "./support.js"

export interface RssSample {
  readonly at: number
  readonly mb: number
  /** VmHWM: the process's high-water mark so far. */
  readonly peakMb: number
}

export interface PoolSample {
  readonly at: number
  readonly max: number
  readonly total: number
  readonly in_use: number
  readonly waiting: number
}

export interface HealthSample {
  readonly at: number
  readonly status: number
}

export interface Observed {
  readonly calls: ReadonlyArray<Call>
  readonly rss: ReadonlyArray<RssSample>
  readonly pool: ReadonlyArray<PoolSample>
  readonly health: ReadonlyArray<HealthSample>
  /** When PostgreSQL was told to stop, and when it accepted connections again (bench clock, ms). */
  readonly stopAt: number | undefined
  readonly upAt: number | undefined
  /** When the virtual users stopped starting requests. */
  readonly until: number
  readonly warmupMs: number
  readonly graceMs: number
  /** The job queue once the load stopped and the drain wait ended, and every chat's embedding status. */
  readonly background: {
    readonly backlog: { readonly due: number; readonly running: number; readonly failed: number } | null
    readonly waitedMs: number
    readonly embeddings: Record<string, number>
  }
  readonly server: {
    readonly pid: number
    readonly pidAtEnd: number
    readonly exited: { readonly code: number | null; readonly signal: string | null; readonly at: number } | undefined
    readonly healthAtEnd: number
    readonly logCounts: Record<string, number>
    readonly logKept: ReadonlyArray<LogLine>
  }
}

/** Health and pool sampling are the bench's own probes, not the workload. */
const isProbeRoute = (route: string) => route.startsWith("GET /health")
const isProbe = (call: Call) => isProbeRoute(call.route)
const failed = (call: Call) => call.status >= 500 || call.status === 0
const ok = (call: Call) => call.status >= 200 && call.status < 300
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1))
const mean = (values: ReadonlyArray<number>) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length)
const tally = (keys: ReadonlyArray<string>) =>
  keys.reduce<Record<string, number>>((acc, key) => ({ ...acc, [key]: (acc[key] ?? 0) + 1 }), {})
const render = (counts: Record<string, number>) =>
  Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`).join(", ")

/** Least-squares slope of `mb` over time, in MB per minute. */
const slopePerMinute = (samples: ReadonlyArray<RssSample>) => {
  if (samples.length < 2) return 0
  const mx = mean(samples.map((p) => p.at))
  const my = mean(samples.map((p) => p.mb))
  const num = samples.reduce((sum, p) => sum + (p.at - mx) * (p.mb - my), 0)
  const den = samples.reduce((sum, p) => sum + (p.at - mx) ** 2, 0)
  return den === 0 ? 0 : (num / den) * 60_000
}

export interface Verdict {
  readonly criterion: string
  readonly pass: boolean
  readonly detail: string
}

export const report = (o: Observed): { readonly lines: ReadonlyArray<string>; readonly verdicts: ReadonlyArray<Verdict> } => {
  const lines: Array<string> = []
  const out = (line = "") => lines.push(line)
  const workload = o.calls.filter((c) => !isProbe(c))

  // The outage window: from the stop until the first successful request once PostgreSQL is back, plus grace.
  const firstOk = o.upAt === undefined
    ? undefined
    : workload.filter((c) => ok(c) && c.end >= (o.upAt ?? 0)).reduce<number | undefined>(
      (first, c) => (first === undefined || c.end < first ? c.end : first),
      undefined
    )
  const windowStart = o.stopAt ?? Number.POSITIVE_INFINITY
  const windowEnd = firstOk === undefined ? Number.POSITIVE_INFINITY : firstOk + o.graceMs
  const inWindow = (start: number, end: number) => start <= windowEnd && end >= windowStart

  out("== Per route (all calls, including the outage) ==")
  out(`${"route".padEnd(36)} ${"calls".padStart(6)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)}  statuses`)
  const routes = [...new Set(o.calls.map((c) => c.route))]
    .sort((a, b) => Number(isProbeRoute(a)) - Number(isProbeRoute(b)) || a.localeCompare(b))
  for (const route of routes) {
    const calls = o.calls.filter((c) => c.route === route)
    const sorted = calls.map((c) => c.end - c.start).sort((a, b) => a - b)
    out(
      `${route.padEnd(36)} ${String(calls.length).padStart(6)} ${ms(percentile(sorted, 50)).padStart(8)} ` +
        `${ms(percentile(sorted, 99)).padStart(8)} ${ms(sorted[sorted.length - 1] ?? 0).padStart(8)}  ` +
        render(tally(calls.map((c) => (c.status === 0 ? `none(${c.code ?? "?"})` : String(c.status)))))
    )
  }
  const seconds = o.until / 1000
  out(`workload: ${workload.length} calls in ${s(o.until)}, ${(workload.length / seconds).toFixed(1)} calls/s`)

  out()
  out("== PostgreSQL restart ==")
  const failures = o.calls.filter(failed)
  const during = failures.filter((c) => inWindow(c.start, c.end))
  const outside = failures.filter((c) => !inWindow(c.start, c.end))
  if (o.stopAt === undefined) out("no restart happened (run too short?)")
  else {
    out(`stop at ${s(o.stopAt)}; accepting connections again at ${o.upAt === undefined ? "never" : s(o.upAt)}` +
      (o.upAt === undefined ? "" : ` (down ${s(o.upAt - o.stopAt)})`))
    out(`first successful workload request after it: ${firstOk === undefined || o.upAt === undefined ? "none" : `${s(firstOk)} (${s(firstOk - o.upAt)} after PostgreSQL was back)`}`)
    out(`outage window: ${s(windowStart)} .. ${windowEnd === Number.POSITIVE_INFINITY ? "end" : s(windowEnd)} (includes ${s(o.graceMs)} grace)`)
    const unhealthy = o.health.filter((h) => h.status !== 200)
    out(`GET /health not 200 in ${unhealthy.length} of ${o.health.length} samples` +
      (unhealthy.length === 0 ? "" : `, from ${s(unhealthy[0]!.at)} to ${s(unhealthy[unhealthy.length - 1]!.at)}`))
  }
  out(`5xx or no answer during the outage window: ${during.length}` + (during.length === 0 ? "" : ` (${render(tally(during.map((c) => `${c.status} ${c.code ?? ""}`.trim())))})`))
  out(`5xx or no answer outside it: ${outside.length}` + (outside.length === 0 ? "" : ` (${render(tally(outside.map((c) => `${c.route} ${c.status} ${c.code ?? ""}`.trim())))})`))
  for (const c of outside.slice(0, 10)) {
    out(`  at ${s(c.start)}..${s(c.end)} ${c.route} -> ${c.status} ${c.code ?? ""} request ${c.requestId ?? "-"}`)
    const logged = c.requestId === undefined ? [] : o.server.logKept.filter((l) => l.text.includes(c.requestId ?? ""))
    for (const line of logged.slice(0, 3)) out(`    log: ${line.text.slice(0, 600)}`)
  }
  const after = workload.filter((c) => c.start > windowEnd)
  const afterOk = after.filter(ok)
  out(`after the window: ${afterOk.length} of ${after.length} workload calls succeeded` +
    (after.length === 0 ? "" : ` (${((afterOk.length / after.length) * 100).toFixed(2)}%)`))
  const silentRoutes = [...new Set(after.map((c) => c.route))].filter((route) => !afterOk.some((c) => c.route === route))
  if (silentRoutes.length > 0) out(`routes with no success after the window: ${silentRoutes.join(", ")}`)

  out()
  out("== Server memory (VmRSS of the node process) ==")
  const steady = o.rss.filter((p) => p.at >= o.warmupMs && p.at <= o.until)
  const from = steady[0]?.at ?? 0
  const span = (steady[steady.length - 1]?.at ?? 0) - from
  const first = steady.filter((p) => p.at <= from + span / 3)
  const last = steady.filter((p) => p.at >= from + (2 * span) / 3)
  const firstAvg = mean(first.map((p) => p.mb))
  const lastAvg = mean(last.map((p) => p.mb))
  const slope = slopePerMinute(steady)
  const growth = lastAvg - firstAvg
  const allowed = Math.max(16, firstAvg * 0.1)
  out(`${o.rss.length} samples; warm-up ${s(o.warmupMs)} excluded; start ${ms(o.rss[0]?.mb ?? 0)} MB, ` +
    `min ${ms(Math.min(...steady.map((p) => p.mb)))} MB, max ${ms(Math.max(...steady.map((p) => p.mb)))} MB after warm-up`)
  out(`peak (VmHWM) ${ms(o.rss[o.rss.length - 1]?.peakMb ?? 0)} MB`)
  out(`first third avg ${firstAvg.toFixed(1)} MB, last third avg ${lastAvg.toFixed(1)} MB (${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MB); ` +
    `slope ${slope >= 0 ? "+" : ""}${slope.toFixed(2)} MB/min`)

  out()
  out("== Pool (GET /health/db-pool) ==")
  const poolMax = Math.max(0, ...o.pool.map((p) => p.max))
  const exhausted = o.pool.filter((p) => p.waiting > 0 || p.in_use >= p.max)
  const poolLine = (label: string, samples: ReadonlyArray<PoolSample>) =>
    out(`${label}: ${samples.length} samples, max in_use ${Math.max(0, ...samples.map((p) => p.in_use))} of ${poolMax}, ` +
      `max total ${Math.max(0, ...samples.map((p) => p.total))}, max waiting ${Math.max(0, ...samples.map((p) => p.waiting))}`)
  poolLine("whole run", o.pool)
  poolLine("outage window", o.pool.filter((p) => inWindow(p.at, p.at)))
  poolLine("outside it", o.pool.filter((p) => !inWindow(p.at, p.at)))

  out()
  out("== Background work after the load ==")
  const { backlog, embeddings } = o.background
  out(backlog === null
    ? "worker backlog: unknown (GET /health did not say)"
    : `worker backlog ${s(o.background.waitedMs)} after the load: due ${backlog.due}, running ${backlog.running}, failed ${backlog.failed}`)
  out(`chat embeddings: ${render(embeddings) || "no chats"}`)
  const loggedOutside = o.server.logKept.filter((l) => l.level !== "WARN" && !inWindow(l.at, l.at))
  out(`server log lines: ${render(o.server.logCounts) || "none"}; errors outside the outage window: ${loggedOutside.length}`)
  for (const line of loggedOutside.slice(0, 5)) out(`  at ${s(line.at)}: ${line.text.slice(0, 600)}`)

  const sameProcess = o.server.exited === undefined && o.server.pid === o.server.pidAtEnd
  const backgroundFailed = (backlog?.failed ?? 0) + (embeddings.failed ?? 0)
  const verdicts: Array<Verdict> = [
    {
      criterion: "no 5xx outside the outage",
      pass: outside.length === 0,
      detail: `${outside.length} outside, ${during.length} inside the window`
    },
    {
      criterion: "recovered without a restart",
      pass: o.stopAt !== undefined && firstOk !== undefined && sameProcess && o.server.healthAtEnd === 200 &&
        silentRoutes.length === 0 && backgroundFailed === 0,
      detail: o.server.exited !== undefined
        ? `the server exited (code ${o.server.exited.code}, signal ${o.server.exited.signal}) at ${s(o.server.exited.at)}`
        : firstOk === undefined || o.upAt === undefined
        ? "no successful request after PostgreSQL came back"
        : `first success ${s(firstOk - o.upAt)} after PostgreSQL was back, same process (pid ${o.server.pid}), ` +
          `GET /health ${o.server.healthAtEnd} at the end, ${backgroundFailed} failed jobs or embeddings`
    },
    {
      criterion: "RSS flat after warm-up",
      pass: steady.length >= 3 && growth <= allowed,
      detail: `${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MB first to last third (allowed ${allowed.toFixed(0)}), ${slope.toFixed(2)} MB/min`
    },
    {
      criterion: "pool never exhausted",
      pass: o.pool.length > 0 && exhausted.length === 0,
      detail: `${exhausted.length} of ${o.pool.length} samples at max or with waiters`
    }
  ]
  return { lines, verdicts }
}
