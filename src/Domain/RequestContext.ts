/**
 * What is known about the request being served: its id (set at the edge, written into every error body
 * and log line) and its authenticated user (set by the authentication middleware).
 */
import { Context, FiberRef, Option } from "effect"
import { globalValue } from "effect/GlobalValue"
import type { Claims } from "./User.js"

/** The id of the request being served. */
export const CurrentRequestId: FiberRef.FiberRef<string> = globalValue(
  Symbol.for("chatsight/CurrentRequestId"),
  () => FiberRef.unsafeMake("none")
)

/** The authenticated user's id, for the access log and the request span (none before authentication). */
export const CurrentUserId: FiberRef.FiberRef<Option.Option<string>> = globalValue(
  Symbol.for("chatsight/CurrentUserId"),
  () => FiberRef.unsafeMake(Option.none<string>())
)

/** The verified identity of the caller, provided to handlers by the `Authentication` middleware. */
export class CurrentUser extends Context.Tag("chatsight/CurrentUser")<CurrentUser, Claims>() {}
