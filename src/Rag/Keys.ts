/** The dedupe key of a chat's embedding job: one job per chat and embedder. */
export const embedJobKey = (chatId: string, embedder: string) => `chat.embed:${chatId}:${embedder}`
