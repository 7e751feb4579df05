// The bootstrap of every worker thread (src/Threads.ts): a thread starts without the parent's
// TypeScript loader, so it registers tsx before loading the TypeScript entry its pool named.
import { workerData } from "node:worker_threads"
import { register } from "tsx/esm/api"

register()
await import(workerData.entry)
