/** Charts for clients: a chat's statistics drawn as accessible SVG, for its owner to embed. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../Auth/Api.js"
import { ChatId } from "../Domain/Chat.js"
import { ChartFile } from "../Domain/Charts.js"
import { httpError, NotFound } from "../Domain/Errors.js"

/** Pixels; a chart smaller than this cannot hold its labels, a larger one is a waste of bytes. */
export const chartSizeLimits = { min: 200, max: 2000 } as const

const Pixels = Schema.NumberFromString.pipe(
  Schema.int(),
  Schema.between(chartSizeLimits.min, chartSizeLimits.max, {
    message: () => `must be a whole number of pixels from ${chartSizeLimits.min} to ${chartSizeLimits.max}`
  })
)

const Svg = HttpApiSchema.Text({ contentType: "image/svg+xml" }).annotations({
  description: "An SVG document with role=img, a <title> and a <desc> holding the chart's text summary; its marks " +
    "carry their numbers in data-* attributes"
})

export class ChartsApi extends HttpApiGroup.make("charts")
  .add(
    HttpApiEndpoint.get("chart", "/api/chats/:chat_id/charts/:chart")
      .setPath(Schema.Struct({ chat_id: ChatId, chart: ChartFile }))
      .setUrlParams(Schema.Struct({ width: Schema.optional(Pixels), height: Schema.optional(Pixels) }))
      .addSuccess(Svg)
      .addError(httpError(NotFound))
      .annotate(
        OpenApi.Description,
        "One chart of the chat's statistics as SVG, sized by `width` and `height` (pixels, each kind has its own " +
          "default): `heatmap` (messages by weekday and hour), `timeline` (messages per month, silences shaded), " +
          "`participants` (share of messages), `reply-times` (answers by delay, per participant), `starters` (who " +
          "starts conversations), `streaks` (longest streak and silence), `emoji` (top emoji). The owner's charts " +
          "name the participants; the shared page at /s/{chat_id} draws the same charts anonymised."
      )
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Charts")
{}
