/**
 * Wall-clock times as the export wrote them, with no time zone, and the texts they are written as:
 * one stored form (what PostgreSQL's `timestamp` reads) and the wire's forms (the JSON the API answers).
 */

/**
 * Milliseconds of a `Date` whose UTC fields are the written fields, so `new Date(ms).getUTCHours()` is
 * the hour written.
 */
export type WallClock = number

/** `YYYY-MM-DD HH:MM:SS`: how a wall-clock time is stored (a PostgreSQL `timestamp` literal). */
export const storedWallClock = (ms: WallClock): string => new Date(ms).toISOString().slice(0, 19).replace("T", " ")

/** `YYYY-MM-DDTHH:MM:SS`: how a wall-clock time goes on the wire. */
export const wireWallClock = (ms: WallClock): string => new Date(ms).toISOString().slice(0, 19)

/** `YYYY-MM-DD`: how a written date goes on the wire. */
export const wireDate = (ms: WallClock): string => new Date(ms).toISOString().slice(0, 10)

/** The wall-clock time of a wire or stored text (`YYYY-MM-DD[T ]HH:MM:SS`); NaN when it is not one. */
export const parseWallClock = (text: string): WallClock => Date.parse(`${text.replace(" ", "T")}Z`)
