/** Data exports: ask for everything the account holds as one zip, follow its progress, download it. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../Auth/Api.js"
import { Gone, httpError, NotFound } from "../Domain/Errors.js"
import { ExportStatus } from "../Domain/Exports.js"

const ZipArchive = HttpApiSchema.Uint8Array({ contentType: "application/zip" }).annotations({
  description: "The archive (Content-Disposition: attachment), streamed: account.json, chats/<chat_id>/ (chat.json, " +
    "messages.jsonl, insights.json, conversations.json), ledger.json, orders.json and a README.txt saying what each holds"
})

export class ExportsApi extends HttpApiGroup.make("exports")
  .add(
    HttpApiEndpoint.post("start", "/api/users/export")
      .addSuccess(ExportStatus.annotations({ description: "The export started, or the one already queued or building" }), {
        status: 202
      })
      .addError(httpError(NotFound))
      .annotate(
        OpenApi.Description,
        "Starts writing one zip of everything the account holds: the profile and balance, every chat that is not " +
          "deleted with its parse report, statistics and every message's original text, the insight reports with their " +
          "citations, the conversations, the credit ledger and the payment orders. 202 with the export to poll at " +
          "GET /api/users/exports/{export_id}. While an export is queued or building, asking again answers that one."
      )
  )
  .add(
    HttpApiEndpoint.get("get", "/api/users/exports/:export_id")
      .setPath(Schema.Struct({ export_id: Schema.UUID }))
      .addSuccess(ZipArchive, { status: 200 })
      .addSuccess(ExportStatus.annotations({ description: "Not ready: the export's status and progress, or why it failed" }), {
        status: 202
      })
      .addError(httpError(NotFound))
      .addError(httpError(Gone))
      .annotate(
        OpenApi.Description,
        "200 with the zip once the export is ready (with Content-Length); 202 with its status until then: `queued`, " +
          "`building` with its progress, or `failed` with the reason (start a new one). A ready export is served until " +
          "`expires_at` (EXPORT_RETENTION after it was written, 24 hours by default); after that it is deleted and this " +
          "answers 410 `gone`. Only its owner reads an export: anyone else's id is a 404."
      )
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Exports")
{}
