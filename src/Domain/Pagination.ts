/**
 * Cursor pagination in Stripe's style: `?limit=&starting_after=<next_cursor of the previous page>`,
 * answered with `{ data, has_more, next_cursor }`. Each list names its cursor as a Schema: on the wire
 * an opaque string, to the services and the typed client a position. A cursor a list did not hand out
 * is refused at the edge (400 naming `starting_after`). Repositories fetch one row past the limit to
 * know `has_more`.
 */
import { Schema } from "effect"

/** Rows a page holds when the client names no limit. */
export const defaultLimit = 20

const Limit = Schema.NumberFromString.pipe(
  Schema.int(),
  Schema.between(1, 100, { message: () => "must be a whole number from 1 to 100" })
)

const notOurs = { message: () => "is not a cursor this endpoint returned" }

/** The URL parameters of a list whose cursor is `cursor`. */
export const PageParams = <A>(cursor: Schema.Schema<A, string>) =>
  Schema.Struct({
    limit: Schema.optional(Limit),
    starting_after: Schema.optional(
      Schema.compose(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)), cursor).annotations(notOurs)
    )
  })

/** A page asked for: how many rows, after which position. */
export interface PageRequest<A> {
  readonly limit?: number | undefined
  readonly starting_after?: A | undefined
}

/** How many rows `page` holds (repositories fetch one more). */
export const limitOf = (page: PageRequest<unknown>): number => page.limit ?? defaultLimit

/** A page of `item`s whose next cursor is `cursor`. */
export const Page = <A, I, R, C>(item: Schema.Schema<A, I, R>, cursor: Schema.Schema<C, string>) =>
  Schema.Struct({
    data: Schema.Array(item),
    has_more: Schema.Boolean,
    next_cursor: Schema.NullOr(cursor)
  })

/** Builds a page from rows fetched with `limitOf(page) + 1`; the next cursor is the last row's position. */
export const toPage = <Row, A>(rows: ReadonlyArray<Row>, page: PageRequest<A>, positionOf: (row: Row) => A) => {
  const limit = limitOf(page)
  const data = rows.slice(0, limit)
  const last = data[data.length - 1]
  const has_more = rows.length > limit
  return { data, has_more, next_cursor: has_more && last !== undefined ? positionOf(last) : null }
}

/** An opaque cursor: a JSON position in base64url. */
export const OpaqueCursor = <A, I>(position: Schema.Schema<A, I>): Schema.Schema<A, string> =>
  Schema.compose(Schema.StringFromBase64Url, Schema.parseJson(position)).annotations(notOurs)

/** A cursor that is a row's sequence number or id, a non-negative whole number written in decimal. */
export const SequenceCursor = Schema.String.pipe(Schema.pattern(/^\d{1,18}$/, notOurs))
