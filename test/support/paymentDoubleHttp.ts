/** The small HTTP plumbing the payment doubles (Stripe's and Razorpay's) share: a server, pages, ids, webhook posts. */
import { randomBytes } from "node:crypto"
import * as Http from "node:http"
import type { Json, JsonObject } from "./qdrantContract.js"

/** What a webhook delivery came to: the receiver's answer, or why there was none. */
export type DeliveryOutcome = { readonly status: number; readonly body: string } | { readonly error: string }

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
export const randomId = (length: number): string =>
  [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join("")
export const now = () => Math.floor(Date.now() / 1000)
/** For a double's own inconsistencies and a test's misuse of it (paying an expired session, say). */
export const fail = (message: string): never => {
  throw new Error(message)
}

export interface Reply { readonly status: number; readonly json?: Json; readonly html?: string; readonly location?: string }
export interface Incoming {
  readonly method: string; readonly path: string; readonly query: URLSearchParams
  readonly headers: Http.IncomingHttpHeaders; readonly body: string
}

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
export const page = (title: string, body: string, status = 200): Reply => ({
  status,
  html: `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body style="font-family:sans-serif;max-width:28rem;margin:3rem auto">${body}</body></html>`
})
/** An amount in minor units as people read it, with the currency's own number of decimals. */
export const formatAmount = (amount: number, currency: string): string => {
  const format = new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() })
  return format.format(amount / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2))
}

/** Serves `handle` on host:port (port 0 picks a free one); a handler that throws answers 500. */
export const serve = async (host: string, port: number, handle: (request: Incoming) => Promise<Reply>) => {
  const server = Http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://double")
      const body = Buffer.concat(chunks).toString("utf8")
      const incoming = { method: req.method ?? "GET", path: url.pathname, query: url.searchParams, headers: req.headers, body }
      void handle(incoming).catch((error: unknown) => ({ status: 500, json: `double defect: ${String(error)}` })).then((reply: Reply) => {
        res.statusCode = reply.status
        if (reply.location !== undefined) res.setHeader("location", reply.location)
        res.setHeader("content-type", reply.html === undefined ? "application/json" : "text/html; charset=utf-8")
        res.end(reply.html ?? (reply.json === undefined ? "" : JSON.stringify(reply.json)))
      })
    })
  })
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, resolve))
  const address = server.address()
  const taken = typeof address === "object" && address !== null ? address.port : port
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections())
  return { port: taken, url: `http://${host.includes(":") ? `[${host}]` : host}:${taken}`, close }
}

export const redirect = (location: string | null | undefined, otherwise: Reply): Reply =>
  typeof location === "string" ? { status: 303, location } : otherwise

/** POSTs a webhook body and tells `report` what came of it; rejects only when nothing answered. */
export const post = async (url: string, headers: Record<string, string>, body: string, report: (o: DeliveryOutcome) => void) => {
  try {
    const response = await fetch(url, { method: "POST", headers, body })
    const outcome = { status: response.status, body: await response.text() }
    report(outcome)
    return outcome
  } catch (error) {
    report({ error: error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error) })
    throw error
  }
}

const unexpected = (o: JsonObject, key: string): never => fail(`${String(o["id"])}.${key} is ${JSON.stringify(o[key])}`)
export const numberField = (o: JsonObject, key: string): number => {
  const v = o[key]
  return typeof v === "number" ? v : unexpected(o, key)
}
export const stringField = (o: JsonObject, key: string): string => {
  const v = o[key]
  return typeof v === "string" ? v : unexpected(o, key)
}
