/** Running a job kind once, as the worker of the application under test runs it, and waiting for its end. */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { expect } from "vitest"
import type { JobHandler } from "../../src/Worker/Handler.js"
import { Jobs } from "../../src/Worker/Jobs.js"
import { waitFor } from "./TestApp.js"

/** Enqueues `handler` with `payload` and waits until the worker has run it; it must succeed. */
export const runOnce = <A>(handler: JobHandler<A, unknown>, payload: A) =>
  Effect.gen(function*() {
    const jobs = yield* Jobs
    const { id } = yield* jobs.send(handler, payload)
    const sql = yield* SqlClient.SqlClient
    const status = sql<{ status: string; last_error: string | null }>`SELECT status, last_error FROM jobs WHERE id = ${id}`.pipe(
      Effect.map((rows) => rows[0] ?? { status: "missing", last_error: null }),
      Effect.orDie
    )
    const done = yield* waitFor(`the ${handler.kind} job`, status, (s) => !["queued", "running"].includes(s.status))
    expect(done).toEqual({ status: "succeeded", last_error: null })
  }).pipe(Effect.provide(Jobs.Default))
