/** Options that every PGlite of ours is created with, so templates, live instances and initdb agree. */
import { vector } from "@electric-sql/pglite-pgvector"

export const pgliteOptions = { extensions: { vector } } as const
