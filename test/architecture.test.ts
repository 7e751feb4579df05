/**
 * The layout's rules, checked over src/: the contract loads nothing of the server, a domain reaches another
 * only through its public modules, and a file over 400 lines says at its top why it stays whole.
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, normalize, relative } from "node:path"

const root = "src"

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith(".ts") ? [relative(root, path)] : []
  })

const files = sourceFiles(root)

/** The `from "..."` specifiers of a file. */
const importsOf = (file: string): Array<string> =>
  [...readFileSync(join(root, file), "utf8").matchAll(/^(?:import|export)\s(?:[^"']*?from\s+)?["']([^"']+)["']/gm)]
    .map((match) => match[1] ?? "")

/** A relative import of `file`, as a path under src/ with a `.ts` ending. */
const resolveLocal = (file: string, specifier: string): string | undefined =>
  specifier.startsWith(".") ? normalize(join(dirname(file), specifier)).replace(/\.js$/, ".ts") : undefined

/** The domain a file belongs to: `Chats.ts` and `Chats/...` are both "Chats"; top-level wiring has none. */
const domainOf = (file: string): string => file.split("/")[0]!.replace(/\.ts$/, "")

/** Files that compose the whole application: they may import any module. */
const wiring = new Set(["Api.ts", "Http.ts", "Background.ts", "main.ts", "Client.ts"])
const isWiring = (file: string) => wiring.has(file) || file.startsWith("bin/")

/** What each domain offers the others besides its service file (`X.ts`) and its contract (`X/Api.ts`). */
const publicModules = new Set([
  "Chats/Access.ts", // the ownership check every domain that takes a chat id makes
  "Chats/Hooks.ts", // what other domains do when a chat is stored
  "Chats/ChatColumns.ts", // the chat row as every reader selects it
  "Chats/Purge.ts", // the one purge path of a chat's content (chat deletion and account erasure)
  "Payments/OrderColumns.ts", // the payment order row as every reader selects it
  "Worker/Handler.ts", // defining a job kind
  "Worker/Jobs.ts", // enqueueing and reading jobs
  "Worker/Periodic.ts", // jobs enqueued every interval
  "Ingest/ParserThreads.ts", // parsing an export off the event loop
  "Ingest/ParseRequest.ts",
  "Ingest/ReportWire.ts", // the parse report on the wire
  "Ingest/Columns.ts", // the parsed messages, as columns
  "Ingest/CopyText.ts", // the parsed messages, as COPY rows of the messages table
  "Ingest/WallClock.ts", // the stored and wire forms of written times
  "Llm/Live.ts", // the configured language model
  "Rag/Retrieval.ts", // hybrid retrieval inside a chat (insight evidence)
  "Vector/Live.ts", // the configured vector store
  "Http/NodeServer.ts", // the Node server the application runs on
  "Http/Lane.ts" // a route the Node server answers on its lean lane
])

const isContract = (file: string) => file === "Api.ts" || file === "Client.ts" || file.endsWith("/Api.ts")

describe("the layout of src/", () => {
  it("the contract and the client import only the Domain schemas, other contract files, effect and @effect/platform", () => {
    const offending = files.filter(isContract).flatMap((file) =>
      importsOf(file).flatMap((specifier) => {
        const local = resolveLocal(file, specifier)
        const allowed = local === undefined
          ? specifier === "effect" || specifier.startsWith("effect/") || specifier === "@effect/platform"
          : local.startsWith("Domain/") || isContract(local)
        return allowed ? [] : [`${file} -> ${specifier}`]
      })
    )
    expect(offending).toEqual([])
  })

  it("Domain/ imports only effect, @effect/platform's schema annotations and other Domain modules", () => {
    const offending = files.filter((file) => file.startsWith("Domain/")).flatMap((file) =>
      importsOf(file).flatMap((specifier) => {
        const local = resolveLocal(file, specifier)
        const allowed = local === undefined
          ? specifier === "effect" || specifier.startsWith("effect/") || specifier === "@effect/platform"
          : local.startsWith("Domain/") || local === "../package.json"
        return allowed ? [] : [`${file} -> ${specifier}`]
      })
    )
    expect(offending).toEqual([])
  })

  it("a domain reaches another only through its service, its contract or a module it offers", () => {
    const offending = files.filter((file) => !isWiring(file)).flatMap((file) =>
      importsOf(file).flatMap((specifier) => {
        const target = resolveLocal(file, specifier)
        if (target === undefined || target.startsWith("..") || !target.includes("/")) return []
        const owner = domainOf(target)
        if (owner === domainOf(file) || owner === "Domain") return []
        return target.endsWith("/Api.ts") || publicModules.has(target) ? [] : [`${file} -> ${target}`]
      })
    )
    expect(offending).toEqual([])
  })

  it("the modules the rule names exist (a renamed module must be renamed here too)", () => {
    expect([...publicModules].filter((module) => !files.includes(module))).toEqual([])
  })

  it("a file over 400 lines says on its first line why it stays whole", () => {
    const long = files.filter((file) => readFileSync(join(root, file), "utf8").split("\n").length > 400)
    const unexplained = long.filter((file) => !/whole|one piece|long/i.test(readFileSync(join(root, file), "utf8").split("\n")[0] ?? ""))
    expect(unexplained).toEqual([])
  })
})
