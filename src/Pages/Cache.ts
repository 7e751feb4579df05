/**
 * Rendered shared pages and previews in memory, keyed by their ETag: the ETag is made of what the
 * page is drawn from (read from the database on every request), so a stale entry is never reached;
 * an entry of a chat found unshared is dropped at once all the same.
 */

export class RenderCache<A> {
  private readonly entries = new Map<string, { readonly chatId: string; readonly value: A }>()

  constructor(private readonly capacity: number) {}

  get(etag: string): A | undefined {
    const entry = this.entries.get(etag)
    if (entry === undefined) return undefined
    // Least recently used goes first: a Map keeps insertion order, so a hit moves to the end.
    this.entries.delete(etag)
    this.entries.set(etag, entry)
    return entry.value
  }

  set(chatId: string, etag: string, value: A): void {
    this.entries.delete(etag)
    this.entries.set(etag, { chatId, value })
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next()
      if (oldest.done === true) break
      this.entries.delete(oldest.value)
    }
  }

  /** Drops every entry of `chatId` (its page and preview, at every version). */
  forget(chatId: string): void {
    for (const [etag, entry] of this.entries) if (entry.chatId === chatId) this.entries.delete(etag)
  }

  has(chatId: string): boolean {
    for (const entry of this.entries.values()) if (entry.chatId === chatId) return true
    return false
  }
}
