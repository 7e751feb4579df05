/**
 * The `rate_limits` table: one row per (policy, subject) holding the theoretical arrival time (TAT) of the
 * generic cell rate algorithm. One statement takes a request's turn or refuses it, under the row's lock,
 * so every instance on the database shares each limit exactly.
 */
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Option } from "effect"

const millis = (d: Duration.Duration) => Duration.toMillis(d)

export class RateLimitRepo extends Effect.Service<RateLimitRepo>()("chatsight/RateLimitRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /**
     * Takes one request's turn when the burst allows it: the TAT moves one interval past
     * max(TAT, now), and may run at most `window` ahead of now. Answers how far ahead the TAT now is
     * (taken), or how far it already was (refused).
     */
    const take = (input: { readonly key: string; readonly interval: Duration.Duration; readonly window: Duration.Duration }) =>
      Effect.gen(function*() {
        const interval = sql`${millis(input.interval)}::float8 * interval '1 millisecond'`
        const window = sql`${millis(input.window)}::float8 * interval '1 millisecond'`
        const taken = yield* sql<{ ahead_ms: number }>`
          INSERT INTO rate_limits AS r (key, tat, expires_at)
          VALUES (${input.key}, now() + ${interval}, now() + ${interval})
          ON CONFLICT (key) DO UPDATE
            SET tat = greatest(r.tat, now()) + ${interval}, expires_at = greatest(r.tat, now()) + ${interval}
            WHERE greatest(r.tat, now()) + ${interval} - now() <= ${window}
          RETURNING (extract(epoch FROM tat - now()) * 1000)::float8 AS ahead_ms`
        if (taken[0] !== undefined) return { taken: true, aheadMs: taken[0].ahead_ms }
        const current = yield* sql<{ ahead_ms: number }>`
          SELECT (extract(epoch FROM tat - now()) * 1000)::float8 AS ahead_ms FROM rate_limits WHERE key = ${input.key}`
        return { taken: false, aheadMs: Option.getOrElse(Option.fromNullable(current[0]?.ahead_ms), () => 0) }
      })

    /** Forgets subjects whose limits have fully recovered. */
    const prune = sql`DELETE FROM rate_limits WHERE expires_at < now()`.pipe(Effect.asVoid)

    return { take, prune } as const
  })
}) {}
