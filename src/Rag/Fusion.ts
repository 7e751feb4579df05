/**
 * Reciprocal rank fusion: merges ranked lists (vector search, full-text search) into one, scoring each
 * item by the sum of 1 / (k + rank) over the lists it appears in. Robust to scores on different
 * scales, which is why it is used rather than mixing cosine and ts_rank values.
 */
export const reciprocalRankFusion = <A>(
  lists: ReadonlyArray<ReadonlyArray<A>>,
  key: (item: A) => string,
  k = 60
): Array<{ readonly item: A; readonly score: number }> => {
  const fused = new Map<string, { item: A; score: number }>()
  for (const list of lists) {
    list.forEach((item, index) => {
      const id = key(item)
      const entry = fused.get(id) ?? { item, score: 0 }
      entry.score += 1 / (k + index + 1)
      fused.set(id, entry)
    })
  }
  return [...fused.values()].sort((a, b) => b.score - a.score)
}

/**
 * A full-text query that matches any of the question's words (OR), so a question phrased unlike the
 * messages still finds them; ranking then favours chunks that match more of them. Words are letters
 * and digits only, so nothing the user types can break the query syntax.
 */
export const anyWordQuery = (question: string, isStopword: (word: string) => boolean = () => false): string | null => {
  const words = question
    .toLowerCase()
    .normalize("NFKC")
    .match(/[\p{L}\p{N}]+/gu)
  if (words === null) return null
  const meaningful = words.filter((word) => word.length > 1)
  const content = meaningful.filter((word) => !isStopword(word))
  // A question of nothing but function words ("where is it?") still searches with what it has.
  const kept = [...new Set(content.length > 0 ? content : meaningful)]
  return kept.length === 0 ? null : kept.join(" | ")
}
