/**
 * Cursor pagination in Stripe's style: `?limit=&starting_after=<next_cursor of the previous page>`,
 * answered with `{ data, has_more, next_cursor }`. Each list names its cursor as a Schema, so a cursor
 * it did not hand out is refused at the edge (400 naming `starting_after`) and services get positions.
 * Repositories fetch one row past the limit to know `has_more`.
 */
import { Schema } from "effect"

const Limit = Schema.NumberFromString.pipe(
  Schema.int(),
  Schema.between(1, 100, { message: () => "must be a whole number from 1 to 100" })
)

const notOurs = { message: () => "is not a cursor this endpoint returned" }

/** The URL parameters of a list whose cursor decodes with `cursor`. */
export const PageParams = <A>(cursor: Schema.Schema<A, string>) =>
  Schema.Struct({
    limit: Schema.optionalWith(Limit, { default: () => 20 }),
    starting_after: Schema.optional(
      Schema.compose(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)), cursor).annotations(notOurs)
    )
  })

export interface Page<A> {
  readonly limit: number
  readonly starting_after?: A | undefined
}

export const Page = <A, I, R>(item: Schema.Schema<A, I, R>) =>
  Schema.Struct({
    data: Schema.Array(item),
    has_more: Schema.Boolean,
    next_cursor: Schema.NullOr(Schema.String)
  })

/** An opaque cursor: a JSON position in base64url. */
export const OpaqueCursor = <A, I>(position: Schema.Schema<A, I>): Schema.Schema<A, string> =>
  Schema.compose(Schema.StringFromBase64Url, Schema.parseJson(position)).annotations(notOurs)

/** A cursor that is a row's sequence number or id, a non-negative whole number written in decimal. */
export const SequenceCursor = Schema.String.pipe(
  Schema.pattern(/^\d{1,18}$/, notOurs)
)

/** Builds a page from rows fetched with `limit + 1`; the next cursor is the last row's position. */
export const toPage = <Row, A>(
  rows: ReadonlyArray<Row>,
  limit: number,
  cursor: Schema.Schema<A, string>,
  positionOf: (row: Row) => A
) => {
  const data = rows.slice(0, limit)
  const last = data[data.length - 1]
  const has_more = rows.length > limit
  return {
    data,
    has_more,
    // Our own positions always encode: a failure here is a bug, so a defect.
    next_cursor: has_more && last !== undefined ? Schema.encodeSync(cursor)(positionOf(last)) : null
  }
}
