import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { mkdtemp, readFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"

const run = promisify(execFile)

/** Loads `entry` in a fresh Node process (TypeScript through tsx) and lists the modules it loaded. */
const modulesLoadedBy = async (entry: string) => {
  const log = join(await mkdtemp(join(tmpdir(), "chatsight-modules-")), "modules.txt")
  const script = `const m = await import(${JSON.stringify(entry)}); if (typeof m.makeClient !== "function") process.exit(3)`
  await run(process.execPath, ["--import", "tsx", "--import", "./test/support/moduleLog.mjs", "--input-type=module", "-e", script], {
    env: { ...process.env, MODULE_LOG: log }
  })
  return (await readFile(log, "utf8")).split("\n").filter((line) => line.length > 0)
}

describe("the typed client", () => {
  it("loads the contract without the server: no database driver, PGlite, worker, model or vector store", async () => {
    const loaded = await modulesLoadedBy("./src/Client.ts")
    // It did load the contract, or the check below would prove nothing.
    expect(loaded.some((url) => url.endsWith("/src/Api.ts"))).toBe(true)
    expect(loaded.some((url) => url.endsWith("/src/Chats/Api.ts"))).toBe(true)
    const serverSide = [
      "/node_modules/pg/",
      "/node_modules/@effect/sql",
      "/node_modules/@electric-sql/",
      "/node_modules/@google/genai/",
      "/node_modules/@qdrant/",
      "/node_modules/yauzl/",
      "/src/Database",
      "/src/Worker",
      "/src/Llm",
      "/src/Vector",
      "/src/Ingest/",
      "/src/Http.ts",
      "/src/Config.ts"
    ]
    const offending = loaded.filter((url) => serverSide.some((part) => url.includes(part)))
    expect(offending).toEqual([])
  }, 60_000)
})
