// The bootstrap of every worker thread (src/Threads.ts): a thread starts without the parent's loader, so
// for a TypeScript entry (tests, npm run dev) it registers tsx first; a compiled entry (npm start) needs none.
import { workerData } from "node:worker_threads"

if (workerData.entry.endsWith(".ts")) {
  const { register } = await import("tsx/esm/api")
  register()
}
await import(workerData.entry)
