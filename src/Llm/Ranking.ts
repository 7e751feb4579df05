/**
 * Ranking messages by the words they share with a question, weighted by how rare each word is among
 * them: what offline answers quote and offline insight reports cite.
 */
import type { ContextMessage } from "../Llm.js"
import { isFunctionWord, words } from "../Words.js"

/**
 * A light, English-leaning stem so that `move`, `moved`, `moves` and `moving` meet; other languages
 * still match on the whole word. Short words are left alone so that stems stay meaningful.
 */
export const stem = (word: string): string => {
  let stemmed = word
  for (const suffix of ["ing", "ed", "es", "s"]) {
    if (stemmed.length - suffix.length >= 3 && stemmed.endsWith(suffix)) {
      stemmed = stemmed.slice(0, -suffix.length)
      break
    }
  }
  if (stemmed.length > 3 && stemmed.endsWith("e")) stemmed = stemmed.slice(0, -1)
  return stemmed
}

/** The distinct content terms of a text (function words removed, unless nothing else is left). */
const termsOf = (text: string): ReadonlySet<string> => {
  const all = words(text)
  const content = all.filter((word) => !isFunctionWord(word))
  return new Set((content.length > 0 ? content : all).map(stem))
}

/**
 * The messages most relevant to the question, best first: each scores the sum of the inverse
 * document frequencies (over the context) of the question terms it contains, so a rare shared word
 * counts more than a common one; ties keep the context's order.
 */
export const rankMessages = (
  question: string,
  context: ReadonlyArray<ContextMessage>
): ReadonlyArray<{ readonly message: ContextMessage; readonly score: number }> => {
  const questionTerms = termsOf(question)
  const messageTerms = context.map((message) => termsOf(message.text))
  const documentFrequency = new Map<string, number>()
  for (const terms of messageTerms) {
    for (const term of terms) {
      if (questionTerms.has(term)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1)
    }
  }
  const n = context.length
  const scored = context.map((message, index) => {
    let score = 0
    for (const term of messageTerms[index]!) {
      const df = documentFrequency.get(term)
      if (df !== undefined) score += Math.log(1 + n / df)
    }
    return { message, score, index }
  })
  scored.sort((a, b) => b.score - a.score || a.index - b.index)
  return scored.map(({ message, score }) => ({ message, score }))
}
