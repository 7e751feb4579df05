/**
 * The PostgreSQL text search configuration a chat is searched with, guessed from its text: each language's
 * function words (stopwords-iso's lists; a word several languages list counts a share for each) are
 * counted, and a language that clearly leads gives its configuration (stemming and stop words of that language);
 * anything unclear is `simple` (words as written), which is never wrong, only less forgiving.
 */
import stopwords from "stopwords-iso/stopwords-iso.json" with { type: "json" }
import { words } from "../Words.js"

/** ISO 639-1 code -> the configuration PostgreSQL 15 (and PGlite) ships for it. */
const CONFIGS = {
  en: "english", pt: "portuguese", es: "spanish", fr: "french", de: "german", it: "italian", nl: "dutch",
  sv: "swedish", da: "danish", no: "norwegian", fi: "finnish", tr: "turkish", id: "indonesian", ru: "russian",
  ro: "romanian", hu: "hungarian", ar: "arabic", el: "greek", ca: "catalan", lt: "lithuanian", ga: "irish",
  hi: "hindi", hy: "armenian", eu: "basque"
} as const

export type SearchConfig = (typeof CONFIGS)[keyof typeof CONFIGS] | "simple"

const searchConfigs: ReadonlySet<string> = new Set<string>(["simple", ...Object.values(CONFIGS)])

/** Whether a stored configuration name is one of ours (the database hands back text). */
export const isSearchConfig = (name: string): name is SearchConfig => searchConfigs.has(name)

const lists: Readonly<Record<string, ReadonlyArray<string>>> = stopwords
const languages = Object.keys(CONFIGS).filter((code): code is keyof typeof CONFIGS => code in CONFIGS)

/**
 * Each stop word with the candidate languages that list it: a word of one language only counts fully
 * for it, a word several languages share ("a", "de", "no") counts a share for each.
 */
const owners: ReadonlyMap<string, ReadonlyArray<keyof typeof CONFIGS>> = (() => {
  const found = new Map<string, Array<keyof typeof CONFIGS>>()
  for (const language of languages) {
    for (const word of new Set((lists[language] ?? []).flatMap((entry) => words(entry)))) {
      found.set(word, [...(found.get(word) ?? []), language])
    }
  }
  return found
})()

/** Enough words to tell a language apart; reading more changes nothing but the time taken. */
const sampleWords = 30_000
/** The leading language's score needs to reach this share of all words... */
const minimumShare = 0.03
/** ...and this many times the hits of the runner-up (Spanish and Portuguese, Danish and Norwegian)... */
const minimumLead = 2
/** ...and this score at least: three greetings say nothing about a language. */
const minimumHits = 10

/** The configuration for a chat whose text is `texts` (messages or chunks, in any order). */
export const searchConfigOf = (texts: ReadonlyArray<string>): SearchConfig => {
  const hits = new Map<keyof typeof CONFIGS, number>()
  let seen = 0
  // Spread the sample over the whole chat rather than its first days.
  const step = Math.max(1, Math.floor(texts.length / 2_000))
  for (let i = 0; i < texts.length && seen < sampleWords; i += step) {
    for (const word of words(texts[i] ?? "")) {
      if (/\p{N}/u.test(word)) continue
      seen++
      const listed = owners.get(word) ?? []
      for (const language of listed) hits.set(language, (hits.get(language) ?? 0) + 1 / listed.length)
    }
  }
  const [best, second] = [...hits].sort((a, b) => b[1] - a[1])
  const clear = best !== undefined && best[1] >= minimumHits && best[1] >= minimumShare * seen &&
    best[1] >= minimumLead * (second?.[1] ?? 0)
  return clear ? CONFIGS[best[0]] : "simple"
}
