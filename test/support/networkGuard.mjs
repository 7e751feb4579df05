// Preloaded (node --import) into a server process under test: every outgoing socket, DNS lookup and
// fetch is written to the file named by NETWORK_LOG, one JSON line each; anything but loopback is
// refused. The test then reads what the process tried to reach.
import { appendFileSync } from "node:fs"
import dns from "node:dns"
import net from "node:net"

const file = process.env.NETWORK_LOG
const record = (entry) => {
  if (file !== undefined) appendFileSync(file, `${JSON.stringify({ pid: process.pid, ...entry })}\n`)
}
const loopback = (host) => host === undefined || host === "127.0.0.1" || host === "::1" || host === "localhost"

const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (...args) {
  // net.connect hands over its normalised arguments as an array: [options, callback].
  const first = Array.isArray(args[0]) ? args[0][0] : args[0]
  const options = typeof first === "object" && first !== null
    ? first
    : { port: first, host: typeof args[1] === "string" ? args[1] : undefined }
  if (typeof options.path === "string") {
    record({ kind: "ipc", path: options.path })
    return connect.apply(this, args)
  }
  const entry = { kind: "tcp", host: options.host ?? "localhost", port: Number(options.port) }
  record({ ...entry, refused: !loopback(options.host) })
  if (!loopback(options.host)) {
    process.nextTick(() => this.destroy(new Error(`network cut by the test: ${entry.host}:${entry.port}`)))
    return this
  }
  return connect.apply(this, args)
}

const lookup = dns.lookup
dns.lookup = function (hostname, ...rest) {
  record({ kind: "dns", host: hostname, refused: !loopback(hostname) })
  return lookup.call(this, loopback(hostname) ? hostname : "invalid.invalid", ...rest)
}

const originalFetch = globalThis.fetch
globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input))
  record({ kind: "fetch", host: url.hostname, port: Number(url.port), refused: !loopback(url.hostname) })
  return loopback(url.hostname) ? originalFetch(input, init) : Promise.reject(new Error(`network cut by the test: ${url.host}`))
}
