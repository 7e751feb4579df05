/**
 * A process of its own: creates the PGlite database in the data directory given as its argument
 * (initdb) and exits. See `initialise` in Embedded.ts for why the serving instance does not do it.
 */
import { PGlite } from "@electric-sql/pglite"
import { pgliteOptions } from "./EmbeddedOptions.js"

const dataDir = process.argv[2]
if (dataDir === undefined) throw new Error("usage: EmbeddedInit <data directory>")
const db = await PGlite.create({ dataDir, ...pgliteOptions })
await db.close()
