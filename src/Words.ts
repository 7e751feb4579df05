/**
 * What counts as a word in chat text, which words are mere function words, and a count in words: shared
 * by the offline embedder, its answers and reports, and the full-text side of retrieval, so they agree.
 */

const COMBINING_MARKS = /\p{M}+/gu
const WORD = /[\p{L}\p{N}]+/gu

/** Lower case without diacritics: `Évora` and `evora` are the same word. */
const normalise = (text: string): string => text.normalize("NFKD").replace(COMBINING_MARKS, "").toLowerCase()

/** The words of a text: runs of letters and digits after `normalise`. */
export const words = (text: string): ReadonlyArray<string> => normalise(text).match(WORD) ?? []

/**
 * Function words of the languages our users chat in most. They carry little meaning, so they weigh
 * less in the embedding and do not count as matches in extractive answers or full-text queries.
 * Deliberately short: a longer list (stopwords-iso's English one has `move`, `home`, `work`) removes
 * words people ask about.
 */
const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  (
    // English
    "a an and are as at be been but by can could did do does for from had has have he her him his how i if in " +
    "into is it its me my no not of on or our she so than that the their them then there these they this to " +
    "too us was we were what when where which who whom why will with would you your yours ours im youre " +
    "dont didnt its just about did do we s t ll ve re d m " +
    // Portuguese and Spanish
    "o os as um uma uns umas e de do da dos das em no na nos nas por para com que se eu tu ele ela nos voces " +
    "el la los las un una y en del al con por para que se yo es su sus lo le les mi " +
    // French, German, Italian
    "le les des du et est une au aux ce je tu il elle nous vous ils qui quoi " +
    "der die das und ist ein eine zu den dem mit von ich du er sie wir ihr " +
    "il lo gli di che e un una per con non"
  ).split(" ").filter((word) => word.length > 0)
)

export const isFunctionWord = (word: string): boolean => FUNCTION_WORDS.has(word)

/** "1 message", "3 messages", "2 replies": a count with its noun in the right number. */
export const plural = (n: number, singular: string, pluralForm = `${singular}s`): string =>
  `${n} ${n === 1 ? singular : pluralForm}`
