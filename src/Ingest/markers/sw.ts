// Data: WhatsApp's Swahili export markers, copied from whatsapp-markers.json.
/**
 * Swahili (sw): every marker of the reference table for this language except export file names, as
 * [platform, category, subtype, text, confidence]. Android strings without a note come from the c.2017-2019 string
 * table, iOS strings from the 2022 one (app 22.24.81); a comment marks wording that changed between app versions.
 * Thin: no real Swahili export was found; these rest on WhatsApp's string tables and parser lists only.
 * Swahili has no iOS string table in the sources, so only Android strings exist.
 */
import type { MarkerEntry } from "./Entry.js"

export const sw: ReadonlyArray<MarkerEntry> = [
  // mlomb second variant (matches the older Android strings.xml).
  ["android", "media_omitted", "generic_android", "<Media imerukwa>", "code"],
  // mlomb first variant (likely the newer Android wording).
  ["android", "media_omitted", "generic_android", "<media hazijajumuishwa>", "code"],
  ["android", "attachment", "android_file_attached", "{file} (faili limeambatanishwa)", "code"],
  ["android", "deleted", "deleted_other", "Ujumbe huu ulifutwa", "code"],
  ["android", "deleted", "deleted_self", "Umefuta ujumbe huu", "code"],
  ["android", "location", "live_location", "mahali mubashara pameshirikishwa", "code"],
  ["android", "location", "location", "Mahali: {url}", "code"],
  ["android", "call", "missed_video", "Simu ya video uliyoikosa", "code"],
  ["android", "call", "missed_voice", "Simu ya sauti uliyoikosa", "code"],
  // 2016-2018 wording (first line of exports from that period).
  ["android", "system.e2e_notice", "chat_legacy_2016", "Jumbe kwenye soga hii na simu unazopiga sasa zipo salama kwa ufumbaji wa mwisho-kwa-mwisho. Gusa kwa maelezo zaidi.", "code"],
  // 2016-2018 wording (first line of exports from that period).
  ["android", "system.e2e_notice", "group_legacy_2016", "Jumbe kwenye kikundi hiki sasa zipo salama kwa ufumbaji wa mwisho-kwa-mwisho. Gusa kwa maelezo zaidi.", "code"],
  ["android", "system.group_created", "other", "{name} ameunda kikundi \"{subject}\"", "code"],
  ["android", "system.group_created", "self", "Umeunda kikundi \"{subject}\"", "code"],
  ["android", "system.added", "other_added_other", "{name} amemuongeza {name2}", "code"],
  ["android", "system.added", "other_added_you", "{name} alikuongeza wewe", "code"],
  ["android", "system.added", "other_was_added", "{name} ameongezwa", "code"],
  ["android", "system.added", "you_added_other", "Umemuongeza {name}", "code"],
  ["android", "system.added", "you_were_added", "Uliongezwa", "code"],
  ["android", "system.removed", "other_removed_other", "{name} amemuondoa {name2}", "code"],
  ["android", "system.removed", "other_removed_you", "{name} amekuondoa wewe", "code"],
  ["android", "system.removed", "you_removed_other", "Umemwondoa {name}", "code"],
  ["android", "system.removed", "you_were_removed", "Ulitolewa", "code"],
  ["android", "system.left", "other", "{name} katoka", "code"],
  ["android", "system.left", "self", "Umejitoa", "code"],
  ["android", "system.joined_via_link", "other", "{name} amejiunga akitumia kiungo cha mwaliko wa kikundi hiki", "code"],
  ["android", "system.joined_via_link", "self", "Umejiunga ukitumia kiungo cha kualikia cha kikundi hiki", "code"],
  ["android", "system.subject_changed", "other", "{name} amebadilisha mada kuwa \"{subject}\"", "code"],
  ["android", "system.subject_changed", "other_from_to", "{name} amebadili mada kutoka \"{old}\" kuwa \"{subject}\"", "code"],
  ["android", "system.subject_changed", "self", "Umebadili mada kuwa \"{subject}\"", "code"],
  ["android", "system.icon_changed", "other", "{name} amebadili ikoni ya kikundi hiki", "code"],
  ["android", "system.icon_changed", "self", "Umebadilisha ikoni ya kikundi hiki", "code"],
  ["android", "system.icon_deleted", "other", "{name} amefuta ikoni ya kikundi hiki", "code"],
  ["android", "system.description_changed", "other", "{name} amebadili maelezo ya kikundi", "code"],
  ["android", "system.description_changed", "self", "Umebadili maelezo ya kikundi", "code"],
  ["android", "system.admin", "no_longer_admin", "Wewe sio mtawala tena", "code"],
  ["android", "system.admin", "now_admin", "Sasa wewe ni mtawala", "code"],
  // Older wording (c.2016-2019); newer: "Your security code with {name} changed.
  ["android", "system.security_code_changed", "legacy", "Msimbo wa usalama wa {name} umebadilika. Gusa kwa maelezo zaidi.", "code"],
  ["android", "system.number_changed", "legacy_changed_to", "{old} imebadilishwa kuwa {new}", "code"],
  ["android", "system.number_changed", "legacy_from_to", "{name} amebadilisha kutoka {old} kuwa {new}", "code"],
]
