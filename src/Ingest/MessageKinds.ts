/**
 * The kind of a message from its body: the media, deletion and edit markers and the system events,
 * as WhatsApp writes them in the export languages we have seen.
 */
import type { MessageKind } from "../Domain/MessageKind.js"

// As WhatsApp writes them; lower-case and capitalised variants are added below.
const MEDIA_MARKERS = [
  "<Media omitted>",
  "<Multimedia omitido>",
  "<Multimedia omitidos>",
  "<Médias omis>",
  "<Medien ausgeschlossen>",
  "<Media weggelaten>",
  "<Mídia oculta>",
  "<Arquivo de mídia oculto>",
  "<Media omessi>",
  "<Без медиафайлов>",
  "<Media tidak disertakan>",
  "<Medya dahil edilmedi>",
  "<Pominięto multimedia>"
]
// iOS writes one short line per attachment kind: "image omitted", "imagen omitida", "Bild weggelassen"...
const MEDIA_SHORT =
  /^(?:(?:image|photo|video|audio|sticker|gif|document|contact card)\s+omitted|(?:imagen|video|audio|sticker|documento|gif)\s+omitid[oa]|(?:bild|video|audio|sticker|gif|dokument)\s+weggelassen|(?:image|vidéo|audio|autocollant|gif|document)\s+(?:omise?|absente?)|(?:imagem|vídeo|áudio|figurinha)\s+ocult[oa])$/i
const MEDIA_ATTACHED = /^<\s*(?:attached|anexo|adjunto|angehängt|pièce jointe|allegato):\s*[^\n]+>$/i
const MEDIA_FILE = /^[^\n]+\s\((?:file attached|archivo adjunto|Datei angehängt|fichier joint|arquivo anexado|file allegato)\)$/i
const DELETED = [
  "This message was deleted",
  "You deleted this message",
  "Se eliminó este mensaje",
  "Eliminaste este mensaje",
  "Este mensaje fue eliminado",
  "Diese Nachricht wurde gelöscht",
  "Du hast diese Nachricht gelöscht",
  "Ce message a été supprimé",
  "Vous avez supprimé ce message",
  "Essa mensagem foi apagada",
  "Esta mensagem foi apagada",
  "Você apagou esta mensagem",
  "Questo messaggio è stato eliminato",
  "Hai eliminato questo messaggio",
  "Dit bericht is verwijderd",
  "Je hebt dit bericht verwijderd"
]

/**
 * The markers WhatsApp appends to an edited message (inside "<...>"), exactly as written, in the export
 * languages we have seen: the parser classifies and trims with them, the statistics strip them.
 */
const EDITED_MARKERS: ReadonlyArray<string> = [
  "This message was edited",
  "Se editó este mensaje",
  "Se editó este mensaje.",
  "Mensaje editado",
  "Diese Nachricht wurde bearbeitet",
  "Diese Nachricht wurde bearbeitet.",
  "Nachricht bearbeitet",
  "Ce message a été modifié",
  "Ce message a été modifié.",
  "Message modifié",
  "Mensagem editada",
  "Messaggio modificato",
  "Dit bericht is bewerkt"
]
const EDITED_SUFFIX = new RegExp(
  `[ \\t\\u00A0\\u202F]*\\u200E?<(?:${EDITED_MARKERS.map((m) => m.replaceAll(".", "\\.")).join("|")})>$`
)

/** Where the edited marker that ends `body` starts (with the spaces before it), or -1 when none does. */
export const editedMarkerAt = (body: string): number => {
  const marker = EDITED_SUFFIX.exec(body)
  return marker === null ? -1 : marker.index
}

// System events in English and the common translations; matched on the whole body.
export const SYSTEM =
  /end-to-end encrypted|cifrad[oa]s de extremo a extremo|Ende-zu-Ende-verschlüsselt|chiffrés de bout en bout|criptografia de ponta a ponta|crittografia end-to-end|\bcreated (?:the )?group\b|\bcreó el grupo\b|\bhat die Gruppe .* erstellt|\ba créé le groupe\b|\bchanged the subject\b|\bchanged the group name\b|\bchanged (?:this group's|the group) (?:icon|description|settings)|\bdeleted this group's icon\b|\b(?:added|removed)\b|\bleft$|\bjoined using\b|\bjoined from the community\b|\bwas added\b|\bsecurity code\b.*\bchanged\b|\bchanged their phone number\b|\bchanged to \+?\d|\bchanged (?:their|the) number\b|\bdisappearing messages\b|\bmensajes temporales\b|\bnow an admin\b|\bno longer an admin\b|\bMissed (?:voice|video|group) call\b|\bañadió\b|\beliminó a\b|\bsalió\b|\bhinzugefügt\b|\bentfernt\b|\bhat die Gruppe verlassen\b|\ba ajouté\b|\ba retiré\b|\best parti\b|\badicionou\b|\bremoveu\b|\bsaiu\b/i

const capitalise = (marker: string): string => {
  const at = marker.startsWith("<") ? 1 : 0
  return marker.slice(0, at) + marker.charAt(at).toUpperCase() + marker.slice(at + 1)
}

/**
 * Exact media and deletion markers in the casings WhatsApp writes, with and without a final dot, so a
 * body is classified by one lookup that allocates nothing.
 */
const EXACT = new Map<string, MessageKind>()
for (const [markers, kind] of [[MEDIA_MARKERS, "media"], [DELETED, "deleted"]] as const) {
  for (const marker of markers) {
    for (const cased of [marker, marker.toLowerCase(), capitalise(marker.toLowerCase())]) {
      for (const variant of [cased, `${cased}.`]) EXACT.set(variant, kind)
    }
  }
}

/** The kind of a message with an author, from its body (leading U+200E already dropped). */
export const kindOf = (body: string): MessageKind => {
  const n = body.length
  if (n === 0) return "text"
  const last = body.charCodeAt(n - 1)
  const exact = EXACT.get(body)
  if (exact !== undefined) return exact
  if (last === 0x3e /* > */) {
    if (EDITED_SUFFIX.test(body)) return "edited"
    if (body.charCodeAt(0) === 0x3c /* < */ && MEDIA_ATTACHED.test(body)) return "media"
  } else if (last === 0x29 /* ) */) {
    if (n <= 300 && MEDIA_FILE.test(body)) return "media"
  } else if (n <= 40 && MEDIA_SHORT.test(body)) return "media"
  else if (n <= 300 && body.endsWith("document omitted") && body.indexOf("\n") === -1) return "media"
  return "text"
}

// ---------------------------------------------------------------------------------------------------
// The parse

/** Authors as written, minus invisible direction marks and the "~ " of unsaved contacts. */
