/**
 * Cursor pagination in Stripe's style: `?limit=&starting_after=<id of the last item seen>`, answered
 * with `{ data, has_more, next_cursor }`. Repositories fetch one row past the limit to know `has_more`.
 */
import { Schema } from "effect"

export const PageParams = Schema.Struct({
  limit: Schema.optionalWith(
    Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 100, { message: () => "must be a whole number from 1 to 100" })),
    { default: () => 20 }
  ),
  starting_after: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)))
})
export type PageParams = typeof PageParams.Type

export const Page = <A, I, R>(item: Schema.Schema<A, I, R>) =>
  Schema.Struct({
    data: Schema.Array(item),
    has_more: Schema.Boolean,
    next_cursor: Schema.NullOr(Schema.String)
  })

/** Builds a page from rows fetched with `limit + 1`. */
export const toPage = <A>(rows: ReadonlyArray<A>, limit: number, cursorOf: (row: A) => string) => {
  const data = rows.slice(0, limit)
  const last = data[data.length - 1]
  const has_more = rows.length > limit
  return { data, has_more, next_cursor: has_more && last !== undefined ? cursorOf(last) : null }
}
