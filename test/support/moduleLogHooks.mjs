// Module loader hooks for moduleLog.mjs: they run on Node's hooks thread and append each loaded URL.
import { appendFileSync } from "node:fs"

let file

export async function initialize(data) {
  file = data.file
}

export async function load(url, context, nextLoad) {
  if (file !== undefined) appendFileSync(file, `${url}\n`)
  return nextLoad(url, context)
}
