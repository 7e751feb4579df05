/**
 * Which participant a written name means. A participant is named by their full name as the export
 * writes it (the "~ " WhatsApp puts before unsaved contacts is ignored), by a first name no one else
 * has, or by a nickname: a word that is a short form of exactly one participant's first name (its start,
 * "Jo" or "Pri"; or, from four letters, a word sharing its first three letters, "Jonny" for Jonas) and
 * that the others write in the chat as a name, capitalised in more of their messages than not. Candidates
 * come from here; how the others write them is asked of the database (`ChatToolsRepo.writtenAsName`).
 */
import { isFunctionWord } from "../Words.js"

/** Lower case without accents or the leading "~ " of an unsaved contact. */
export const normalName = (name: string): string =>
  name.replace(/^[\s~\u200e\u202a-\u202e]+/u, "").normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase().trim()

const firstNameOf = (participant: string): string => normalName(participant).split(/\s+/)[0] ?? ""

/** English words that happen to start a first name ("Al" of Alice is "all"; "Ma" of Maya is not a word). */
const commonWords: ReadonlySet<string> = new Set([
  "am", "an", "as", "at", "be", "by", "do", "go", "he", "hi", "if", "in", "is", "it", "me", "my", "no", "of", "oh",
  "ok", "on", "or", "so", "to", "up", "us", "we", "yes", "man", "may", "mar", "jan", "jun", "jul", "aug", "sep",
  "oct", "nov", "dec", "feb", "apr", "day", "new", "old", "one", "two", "the", "and", "all", "any", "car", "cat",
  "far", "fast", "first", "last", "most", "son", "sun", "will", "art", "hey", "her", "his", "how", "who", "why",
  "what", "when", "was", "were", "did", "does", "sent", "send", "messages", "message", "about", "mention", "talk",
  // Written capitalised like names, and periods to the router: "March" is never Marta, "Christmas" never Chris.
  "january", "february", "march", "april", "june", "july", "august", "september", "october", "november",
  "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "christmas", "xmas",
  "easter", "halloween", "valentine", "valentines", "spring", "summer", "autumn", "winter"
])

/**
 * The participant `written` names: a full name, else a first name only one participant has, else a
 * nickname from `nicknames` (lower case to participant). Null when it names no one or several.
 */
export const participantNamed = (
  written: string,
  participants: ReadonlyArray<string>,
  nicknames: ReadonlyMap<string, string> = new Map()
): string | null => {
  const name = normalName(written)
  if (name === "") return null
  const full = participants.filter((p) => normalName(p) === name)
  if (full.length === 1) return full[0]!
  const byFirst = participants.filter((p) => firstNameOf(p) === name)
  if (byFirst.length === 1) return byFirst[0]!
  if (byFirst.length > 1) return null
  return nicknames.get(name) ?? null
}

/**
 * Words of `text` that may be a nickname of exactly one participant: a proper start of their first name
 * (two letters or more), or a word of four letters or more sharing its first three; never a common word
 * or someone's first name.
 */
export const nicknameCandidates = (
  text: string,
  participants: ReadonlyArray<string>
): ReadonlyArray<{ readonly nickname: string; readonly participant: string }> => {
  const firsts = participants.map((p) => [firstNameOf(p), p] as const).filter(([first]) => /^\p{L}{3,}$/u.test(first))
  const tokens = new Set(normalName(text).match(/\p{L}{2,}/gu) ?? [])
  return [...tokens].flatMap((token) => {
    if (commonWords.has(token) || isFunctionWord(token) || firsts.some(([first]) => first === token)) return []
    const shortFor = (first: string) =>
      (first.length > token.length && first.startsWith(token)) || (token.length >= 4 && first.slice(0, 3) === token.slice(0, 3))
    const owners = firsts.filter(([first]) => shortFor(first))
    return owners.length === 1 ? [{ nickname: token, participant: owners[0]![1] }] : []
  })
}

/** Every way a question may write a participant, longest first: full names, unique first names, nicknames. */
export const namesOf = (
  participants: ReadonlyArray<string>,
  nicknames: ReadonlyMap<string, string>
): ReadonlyArray<readonly [written: string, participant: string]> => {
  const full = participants.map((p) => [normalName(p), p] as const)
  const first = participants.flatMap((p) => {
    const name = firstNameOf(p)
    return name.length > 1 && participants.filter((q) => firstNameOf(q) === name).length === 1 ? [[name, p] as const] : []
  })
  const all = [...full, ...first, ...nicknames.entries()].filter(([written]) => written !== "")
  return all.sort((a, b) => b[0].length - a[0].length)
}
