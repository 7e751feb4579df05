/**
 * The shared page of a chat and its preview image, served from stored statistics: one cheap query
 * per request says whether the chat is shared and when it last changed (the ETag); a render is made
 * once per ETag and kept in memory. Sharing turned off: the next request finds nothing and the
 * chat's cached renders are dropped.
 */
import { Effect, Option } from "effect"
import { createHash } from "node:crypto"
import { Chats } from "../Chats.js"
import { version as appVersion } from "../Domain/Version.js"
import { RenderCache } from "./Cache.js"
import { sharedPage } from "./Html.js"
import { previewSvg, rasterise } from "./Preview.js"

export type Variant = "page" | "preview"

export type Served =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "NotModified"; readonly etag: string }
  | { readonly _tag: "Fresh"; readonly etag: string; readonly body: string | Uint8Array }

/** Bumped when the page's markup changes, so a browser's copy of the old one is not kept. */
const renderVersion = "pages-1"

const etagOf = (parts: ReadonlyArray<string>): string =>
  `"${createHash("sha256").update(parts.join("\u0000")).digest("base64url").slice(0, 27)}"`

/** Whether an If-None-Match header names `etag` (weak or strong, or `*`). */
export const matches = (ifNoneMatch: string | undefined, etag: string): boolean =>
  ifNoneMatch !== undefined &&
  ifNoneMatch.split(",").some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, "")
    return tag === "*" || tag === etag
  })

export class SharedPages extends Effect.Service<SharedPages>()("chatsight/SharedPages", {
  effect: Effect.gen(function*() {
    const chats = yield* Chats
    const cache = new RenderCache<string | Uint8Array>(256)

    /**
     * The page (`origin` makes its Open Graph addresses absolute) or the preview of a shared chat:
     * `NotModified` when `ifNoneMatch` names the current version, `Missing` when it is not shared.
     */
    const serve = (chatId: string, variant: Variant, origin: string, ifNoneMatch: string | undefined) =>
      Effect.gen(function*() {
        const version = yield* chats.sharedVersion(chatId)
        if (Option.isNone(version)) {
          cache.forget(chatId)
          return { _tag: "Missing" } as const
        }
        const etag = etagOf([
          renderVersion,
          appVersion,
          chatId,
          variant,
          version.value.updated_at,
          version.value.computed_at ?? "",
          variant === "page" ? origin : ""
        ])
        if (matches(ifNoneMatch, etag)) return { _tag: "NotModified", etag } as const
        const cached = cache.get(etag)
        if (cached !== undefined) return { _tag: "Fresh", etag, body: cached } as const
        // Turned off since the version was read: as missing as any other.
        const shared = yield* chats.publicStats(chatId).pipe(
          Effect.map(Option.some),
          Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
        )
        if (Option.isNone(shared)) {
          cache.forget(chatId)
          return { _tag: "Missing" } as const
        }
        const body = variant === "page"
          ? yield* Effect.sync(() => sharedPage(shared.value, origin)).pipe(Effect.withSpan("SharedPages.renderPage"))
          : yield* Effect.sync(() => rasterise(previewSvg(shared.value.statistics))).pipe(Effect.withSpan("SharedPages.renderPreview"))
        cache.set(chatId, etag, body)
        return { _tag: "Fresh", etag, body } as const
      }).pipe(Effect.withSpan("SharedPages.serve", { attributes: { chatId, variant } }))

    return { serve, cached: (chatId: string) => cache.has(chatId) } as const
  }),
  dependencies: [Chats.Default]
}) {}
