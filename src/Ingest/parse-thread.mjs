// The parsing thread's bootstrap: a worker thread starts without the parent's TypeScript loader, so
// it registers tsx itself before loading the TypeScript entry.
import { register } from "tsx/esm/api"

register()
await import("./ParseThread.ts")
