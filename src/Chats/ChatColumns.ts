/** The columns of a chat row as every reader selects them (`ChatRow` decodes them): the chats API and the export alike. */
import { wallClockSql } from "../Database.js"

export const chatColumns = [
  "id::text AS id",
  "display_name",
  "source_platform",
  "source_filename",
  "participants",
  "message_count",
  `${wallClockSql("first_message_at")} AS first_message_at`,
  `${wallClockSql("last_message_at")} AS last_message_at`,
  "status",
  "is_shared",
  "time_zone",
  "created_at",
  "parse_report"
].join(", ")
