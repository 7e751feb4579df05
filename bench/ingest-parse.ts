/**
 * Parser benchmark: generates a realistic 1,000,000-message Android export and measures our parser and
 * whatsapp-chat-parser's `parseString`, each in its own child process so peak memory is not shared.
 * Run with `npx tsx bench/ingest-parse.ts [messages]`; `--generate <file> [messages]` only writes the export.
 */
import { spawnSync } from "node:child_process"
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseString } from "whatsapp-chat-parser"
import { parseChat } from "../src/Ingest/Parser.js"

const out = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

interface Result {
  readonly parser: string
  readonly entries: number
  readonly seconds: number
  /** CPU time of the parse (user + system): steadier than the wall clock on a shared machine. */
  readonly cpuSeconds: number
  readonly baselineRssMb: number
  readonly peakRssMb: number
}

const runChild = (which: string, file: string): void => {
  const text = readFileSync(file, "utf8")
  const baseline = process.memoryUsage().rss
  const started = performance.now()
  const cpuStarted = process.cpuUsage()
  let entries: number
  if (which === "ours") {
    const outcome = parseChat(text)
    if (outcome._tag !== "Parsed") throw new Error(outcome.message)
    // The production path: the parse's columns, no message objects.
    entries = outcome.chat.columns.count
  } else {
    entries = parseString(text).length
  }
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuStarted)
  // maxRSS is the process's high-water mark in KiB, so the peak during the parse is included.
  const peak = process.resourceUsage().maxRSS * 1024
  const result: Result = {
    parser: which,
    entries,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    baselineRssMb: baseline / 2 ** 20,
    peakRssMb: peak / 2 ** 20
  }
  out(JSON.stringify(result))
}

/** A small deterministic generator, so every run parses the same file. */
const rng = (seed: number) => () => {
  seed = (seed * 1664525 + 1013904223) >>> 0
  return seed / 2 ** 32
}

const AUTHORS = ["Amelia Hartfield", "Bruno Castellane", "Chidi Okonkwo", "~\u202FDaria Volkova", "+44 7700 900123", "Emeka Nwosu"]
const WORDS = "ok sure see you at the station tomorrow who is bringing snacks lol that was great did you see the match running late be there in ten minutes happy birthday thanks everyone".split(" ")

const pad = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

const generate = (file: string, count: number): void => {
  const random = rng(42)
  const fd = openSync(file, "w")
  let chunk: Array<string> = []
  let t = Date.UTC(2021, 0, 1, 8, 0)
  const header = (): string => {
    const d = new Date(t)
    return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} - `
  }
  chunk.push(`${header()}Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.`)
  chunk.push(`${header()}Amelia Hartfield created group "Weekend crew"`)
  for (let i = 2; i < count; i++) {
    t += Math.floor(random() * 240_000)
    const author = AUTHORS[Math.floor(random() * AUTHORS.length)]!
    const roll = random()
    let line: string
    if (roll < 0.01) line = `${header()}${author.replace("~\u202F", "")} added Felix Brandt`
    else if (roll < 0.06) line = `${header()}${author}: <Media omitted>`
    else if (roll < 0.07) line = `${header()}${author}: This message was deleted`
    else {
      const words = 2 + Math.floor(random() * 14)
      let body = ""
      for (let w = 0; w < words; w++) body += (w === 0 ? "" : " ") + WORDS[Math.floor(random() * WORDS.length)]!
      if (roll < 0.12) body += `\n${WORDS[Math.floor(random() * WORDS.length)]!} on 12/03/2019 too\n\nand more`
      if (roll > 0.99) body += " <This message was edited>"
      line = `${header()}${author}: ${body}`
    }
    chunk.push(line)
    if (chunk.length === 10_000) {
      writeSync(fd, `${chunk.join("\n")}\n`)
      chunk = []
    }
  }
  if (chunk.length > 0) writeSync(fd, `${chunk.join("\n")}\n`)
  closeSync(fd)
}

const main = (): void => {
  const count = Number(process.argv[2] ?? 1_000_000)
  const dir = mkdtempSync(join(tmpdir(), "chatsight-bench-"))
  const file = join(dir, "chat.txt")
  try {
    generate(file, count)
    const size = readFileSync(file).length
    out(`generated ${count.toLocaleString("en-US")} messages, ${(size / 2 ** 20).toFixed(1)} MB`)
    const script = fileURLToPath(import.meta.url)
    const results: Array<Result> = []
    for (const which of ["ours", "whatsapp-chat-parser"]) {
      const child = spawnSync(
        process.execPath,
        ["--max-old-space-size=8192", "--import", "tsx", script, "--child", which, file],
        { encoding: "utf8", maxBuffer: 1 << 20 }
      )
      if (child.status !== 0) {
        out(`${which} failed: ${child.stderr}`)
        return
      }
      const result = JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as Result
      results.push(result)
      out(
        `${which.padEnd(22)} ${result.entries.toLocaleString("en-US")} entries in ${result.seconds.toFixed(2)} s ` +
          `(${result.cpuSeconds.toFixed(2)} s of CPU) = ` +
          `${Math.round(result.entries / result.seconds).toLocaleString("en-US")} msg/s; peak RSS ${result.peakRssMb.toFixed(0)} MB ` +
          `(${(result.peakRssMb - result.baselineRssMb).toFixed(0)} MB above the loaded file)`
      )
    }
    const [ours, theirs] = results
    if (ours !== undefined && theirs !== undefined) {
      const speed = ours.entries / ours.seconds / (theirs.entries / theirs.seconds)
      out(`speed ratio (ours / theirs): ${speed.toFixed(2)}x`)
      out(`CPU time ratio (theirs / ours): ${(theirs.cpuSeconds / ours.cpuSeconds).toFixed(2)}x`)
      out(`peak RSS ratio (ours / theirs): ${(ours.peakRssMb / theirs.peakRssMb).toFixed(2)}`)
      out(
        `peak RSS above the loaded file, ratio (ours / theirs): ${
          ((ours.peakRssMb - ours.baselineRssMb) / (theirs.peakRssMb - theirs.baselineRssMb)).toFixed(2)
        }`
      )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === "--generate") generate(process.argv[3] ?? "", Number(process.argv[4] ?? 1_000_000))
else if (process.argv[2] === "--child") runChild(process.argv[3] ?? "ours", process.argv[4] ?? "")
else main()
