// Records the URL of every ES module the process loads into the file named by MODULE_LOG
// (registered after tsx, so the hook sees the final URL of each TypeScript file).
import { register } from "node:module"

register("./moduleLogHooks.mjs", import.meta.url, { data: { file: process.env.MODULE_LOG } })
