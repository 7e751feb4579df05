/**
 * Fusion of the two ranked lists of hybrid retrieval (vector search, full-text search) into one, and the
 * full-text query built from a question. Ranks are fused rather than scores, which live on different
 * scales; each list, and each full-text hit, carries a weight, measured on the evaluation of
 * `npm run bench:rag` (its `--sweep` prints the grid behind the defaults below).
 */

/**
 * Weighted reciprocal rank fusion: each item scores the sum, over the lists it appears in, of
 * weight / (k + rank), rank from 1. With every weight 1 this is plain RRF.
 */
export const weightedRankFusion = <A>(
  lists: ReadonlyArray<{ readonly items: ReadonlyArray<A>; readonly weight: (item: A) => number }>,
  key: (item: A) => string,
  k = 60
): Array<{ readonly item: A; readonly score: number }> => {
  const fused = new Map<string, { item: A; score: number }>()
  for (const list of lists) {
    list.items.forEach((item, index) => {
      const id = key(item)
      const entry = fused.get(id) ?? { item, score: 0 }
      entry.score += list.weight(item) / (k + index + 1)
      fused.set(id, entry)
    })
  }
  // Stable on ties: the first list's order (the vector list, in hybrid retrieval) decides.
  return [...fused.values()].sort((a, b) => b.score - a.score)
}

/** Plain reciprocal rank fusion: every list and item weighs the same. */
export const reciprocalRankFusion = <A>(
  lists: ReadonlyArray<ReadonlyArray<A>>,
  key: (item: A) => string,
  k = 60
): Array<{ readonly item: A; readonly score: number }> =>
  weightedRankFusion(lists.map((items) => ({ items, weight: () => 1 })), key, k)

export interface FusionWeights {
  /** The rank constant of RRF: larger flattens the difference between first and tenth place. */
  readonly k: number
  /** The full-text list's weight against the vector list's 1. */
  readonly fullText: number
  /**
   * How sharply a full-text hit's weight falls with the share of the question it covers (0..1): weight
   * = fullText × coverage^exponent. 0 ignores coverage (plain weighted RRF); 2 lets a hit that matches
   * one common word of the question count for little, while one matching its rare words keeps its place.
   */
  readonly coverageExponent: number
}

/**
 * Chosen on the bench:rag evaluation (offline embedder; README "Benchmarks"): a full-text hit weighs 3 ×
 * its coverage, so one matching all of the question's weight counts three vector places, and one matching
 * a third of it (a common word) counts as a vector hit at the same rank. Hybrid recall@10 0.875 against
 * 0.835 for plain RRF; the neighbours in the grid (fullText 2..4, exponent 0.5..1) score 0.86 to 0.89.
 */
export const defaultFusionWeights: FusionWeights = { k: 60, fullText: 3, coverageExponent: 1 }

/** Candidates each list offers for `k` places: twice as many lets a hit both lists rank middling in (+0.01 recall@10). */
export const candidatesPerList = (k: number): number => 2 * k

/** The hybrid ranking: vector hits as ranked, full-text hits weighted by how much of the question they cover. */
export const fuseHybrid = <A extends { readonly id: string }>(
  vectorHits: ReadonlyArray<A>,
  textHits: ReadonlyArray<A & { readonly coverage: number }>,
  weights: FusionWeights = defaultFusionWeights
): Array<A> => {
  const textWeight = new Map(
    textHits.map((hit) => [hit.id, weights.fullText * Math.pow(Math.min(1, Math.max(0, hit.coverage)), weights.coverageExponent)])
  )
  return weightedRankFusion<A>(
    [{ items: vectorHits, weight: () => 1 }, { items: textHits, weight: (hit) => textWeight.get(hit.id) ?? 0 }],
    (hit) => hit.id,
    weights.k
  ).map(({ item }) => item)
}

/** The words of a question worth searching for: letters and digits only, function words dropped when others remain. */
const questionWords = (question: string, isStopword: (word: string) => boolean): ReadonlyArray<string> => {
  const words = question.toLowerCase().normalize("NFKC").match(/[\p{L}\p{N}]+/gu)
  if (words === null) return []
  const meaningful = words.filter((word) => word.length > 1)
  const content = meaningful.filter((word) => !isStopword(word))
  // A question of nothing but function words ("where is it?") still searches with what it has.
  return [...new Set(content.length > 0 ? content : meaningful)]
}

/**
 * A full-text query that matches any of the question's words (OR), so a question phrased unlike the
 * messages still finds them; ranking then favours chunks that match more of them. Words are letters
 * and digits only, so nothing the user types can break the query syntax.
 */
export const anyWordQuery = (question: string, isStopword: (word: string) => boolean = () => false): string | null => {
  const kept = questionWords(question, isStopword)
  return kept.length === 0 ? null : kept.join(" | ")
}

/** Words at least this long also match as prefixes ("bake" finds nothing new, "baker" finds "bakery"). */
export const prefixMinLength = 5

/**
 * The question's words as tsquery operands: longer words as prefixes (`baker:*`), numbers and short
 * words exact (`12`, `van`: as prefixes they would match far too much). Safe to join with `|`.
 */
export const searchTerms = (question: string, isStopword: (word: string) => boolean = () => false): ReadonlyArray<string> =>
  questionWords(question, isStopword).map((word) =>
    word.length >= prefixMinLength && !/\p{N}/u.test(word) ? `${word}:*` : word
  )
