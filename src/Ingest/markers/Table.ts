/**
 * The reference table of WhatsApp's export markers, one list per language: the 20 languages most used
 * on WhatsApp (Portuguese twice, as Brazil and Portugal write it differently).
 */
import type { MarkerEntry } from "./Entry.js"
import { en } from "./en.js"
import { es } from "./es.js"
import { ptBR } from "./pt-BR.js"
import { ptPT } from "./pt-PT.js"
import { hi } from "./hi.js"
import { id } from "./id.js"
import { ar } from "./ar.js"
import { ru } from "./ru.js"
import { de } from "./de.js"
import { fr } from "./fr.js"
import { it } from "./it.js"
import { tr } from "./tr.js"
import { fa } from "./fa.js"
import { ur } from "./ur.js"
import { bn } from "./bn.js"
import { ms } from "./ms.js"
import { nl } from "./nl.js"
import { pl } from "./pl.js"
import { sw } from "./sw.js"
import { th } from "./th.js"
import { vi } from "./vi.js"

export const markerLanguages = ["en", "es", "pt-BR", "pt-PT", "hi", "id", "ar", "ru", "de", "fr", "it", "tr", "fa", "ur", "bn", "ms", "nl", "pl", "sw", "th", "vi"] as const
export type MarkerLanguage = (typeof markerLanguages)[number]

export const markerTable: Readonly<Record<MarkerLanguage, ReadonlyArray<MarkerEntry>>> = {
  en, es, "pt-BR": ptBR, "pt-PT": ptPT, hi, id, ar, ru, de, fr, it, tr, fa, ur, bn, ms, nl, pl, sw, th, vi
}
