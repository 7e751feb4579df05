/** Looked-up rows come back as an `Option`; a missing one becomes the caller's typed error. */
import { Effect, Option } from "effect"

/** Fails with `missing()` when the row is not there, else goes on with it. */
export const orFail = <E>(missing: () => E) => <A, E2, R>(lookup: Effect.Effect<Option.Option<A>, E2, R>) =>
  Effect.flatMap(lookup, Option.match({ onNone: () => Effect.fail(missing()), onSome: Effect.succeed }))
