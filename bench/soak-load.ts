/**
 * The soak's load: virtual users that upload exports, list chats, page through messages, ask questions
 * and read their balance, a bounded number at once, until a deadline; every call is recorded.
 */
import { Effect, Option, Schema } from "effect"
import { generateExport, pick, question, rng } from "./soak-exports.js"

/** One HTTP call as the client saw it; times in ms on the bench clock. Status 0: no answer (refused, timed out). */
export interface Call {
  readonly route: string
  readonly status: number
  /** The error body's `code`, or the client's failure (e.g. `TimeoutError`, `ECONNREFUSED`). */
  readonly code: string | undefined
  readonly requestId: string | undefined
  readonly start: number
  readonly end: number
}

/** Every call of the run, on one clock starting when the recorder is made. */
export class Recorder {
  readonly calls: Array<Call> = []
  private readonly origin = performance.now()
  readonly now = (): number => performance.now() - this.origin
}

const ErrorBody = Schema.Struct({ error: Schema.Struct({ code: Schema.String }) })
const ChatRef = Schema.Struct({ id: Schema.String, participants: Schema.Array(Schema.String) })
type ChatRef = typeof ChatRef.Type
const ChatPage = Schema.Struct({ data: Schema.Array(ChatRef), next_cursor: Schema.NullOr(Schema.String) })
const MessagePage = Schema.Struct({ has_more: Schema.Boolean, next_cursor: Schema.NullOr(Schema.String) })
const Answer = Schema.Struct({ conversation_id: Schema.String })

const decode = <A, I>(schema: Schema.Schema<A, I>, body: unknown) => Schema.decodeUnknownOption(schema)(body)

const failureCode = (error: unknown): string => {
  if (error instanceof Error) {
    const cause: unknown = error.cause
    if (typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string") return cause.code
    return error.name
  }
  return "error"
}

/** Sends one request, records it, and answers its status and JSON body; never fails. */
export const call = (
  recorder: Recorder,
  route: string,
  url: string,
  init: RequestInit,
  timeoutMs = 30_000
) =>
  Effect.promise(async (interrupted): Promise<{ readonly status: number; readonly body: unknown }> => {
    const start = recorder.now()
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.any([interrupted, AbortSignal.timeout(timeoutMs)]) })
      const text = await response.text()
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        body = undefined
      }
      recorder.calls.push({
        route,
        status: response.status,
        code: response.status >= 400 ? Option.getOrUndefined(Option.map(decode(ErrorBody, body), (e) => e.error.code)) : undefined,
        requestId: response.headers.get("x-request-id") ?? undefined,
        start,
        end: recorder.now()
      })
      return { status: response.status, body }
    } catch (error) {
      recorder.calls.push({ route, status: 0, code: failureCode(error), requestId: undefined, start, end: recorder.now() })
      return { status: 0, body: undefined }
    }
  })

/** A user of the soak: their token and the chats they know of. */
export interface Account {
  readonly token: string
  readonly chats: Array<ChatRef>
}

export interface Plan {
  readonly base: string
  readonly accounts: ReadonlyArray<Account>
  /** When virtual users stop starting requests (bench clock, ms). */
  readonly until: number
  /** At most one upload per this many ms on average, over the run. */
  readonly uploadEveryMs: number
  readonly smallMessages: number
  readonly mediumMessages: number
  /** Every n-th upload is medium. */
  readonly mediumEvery: number
  /** Written into every export, so that no two runs (or uploads) share a file. */
  readonly tag: string
}

/** Uploads started so far, shared by the virtual users. */
export interface UploadBudget {
  started: number
}

const auth = (account: Account) => ({ authorization: `Bearer ${account.token}` })

const remember = (account: Account, chat: ChatRef) => {
  if (!account.chats.some((known) => known.id === chat.id)) account.chats.push(chat)
}

/** Uploads a new export for `account`; the chat is remembered when stored. */
export const upload = (recorder: Recorder, plan: Plan, account: Account, budget: UploadBudget) =>
  Effect.gen(function*() {
    const n = budget.started++
    const medium = n % plan.mediumEvery === plan.mediumEvery - 1
    const generated = generateExport(n + 1, `${plan.tag}-${n}`, medium ? plan.mediumMessages : plan.smallMessages)
    const form = new FormData()
    form.append("day_first", "true")
    form.append("file", new Blob([generated.text], { type: "text/plain" }), `WhatsApp Chat with Soak ${n}.txt`)
    const route = `POST /api/chats/upload (${medium ? "medium" : "small"})`
    const answer = yield* call(recorder, route, `${plan.base}/api/chats/upload`, { method: "POST", headers: auth(account), body: form }, 120_000)
    Option.map(decode(ChatRef, answer.body), (chat) => remember(account, chat))
  })

/** One virtual user: picks an action, waits a little, again, until the plan's deadline. */
export const virtualUser = (recorder: Recorder, plan: Plan, index: number, budget: UploadBudget) =>
  Effect.gen(function*() {
    const random = rng(1000 + index)
    const account = plan.accounts[index % plan.accounts.length]!
    let paging: { readonly chat: ChatRef; readonly cursor: string | null } | undefined
    let conversation: { readonly chat: ChatRef; readonly id: string } | undefined
    const get = (route: string, path: string) => call(recorder, route, `${plan.base}${path}`, { headers: auth(account) })

    while (recorder.now() < plan.until) {
      const roll = random()
      const uploadDue = budget.started < 1 + Math.floor(recorder.now() / plan.uploadEveryMs)
      if (roll < 0.1 && uploadDue) {
        yield* upload(recorder, plan, account, budget)
      } else if (roll < 0.25) {
        const answer = yield* get("GET /api/chats", "/api/chats?limit=20")
        Option.map(decode(ChatPage, answer.body), (page) => page.data.forEach((chat) => remember(account, chat)))
      } else if (roll < 0.55 && account.chats.length > 0) {
        // Page through one chat to its end, a page per turn; now and then with a filter.
        const chat = paging?.chat ?? pick(random, account.chats)
        const query = new URLSearchParams({ limit: "50" })
        if (paging?.cursor) query.set("starting_after", paging.cursor)
        const filter = random()
        if (filter < 0.1 && chat.participants.length > 0) query.set("author", pick(random, chat.participants))
        else if (filter < 0.2) query.set("q", pick(random, ["keys", "dinner", "tomorrow", "match", "vet"]))
        const answer = yield* get("GET /api/chats/{id}/messages", `/api/chats/${chat.id}/messages?${query}`)
        const page = decode(MessagePage, answer.body)
        paging = Option.isSome(page) && page.value.has_more && filter >= 0.2
          ? { chat, cursor: page.value.next_cursor }
          : undefined
      } else if (roll < 0.75 && account.chats.length > 0) {
        // A quarter of the questions follow up the last conversation.
        const followUp = conversation !== undefined && random() < 0.25 ? conversation : undefined
        const chat = followUp?.chat ?? pick(random, account.chats)
        const payload = {
          chat_id: chat.id,
          question: question(random, chat.participants),
          ...(followUp === undefined ? {} : { conversation_id: followUp.id })
        }
        const answer = yield* call(recorder, "POST /api/rag/query", `${plan.base}/api/rag/query`, {
          method: "POST",
          headers: { ...auth(account), "content-type": "application/json" },
          body: JSON.stringify(payload)
        })
        const answered = decode(Answer, answer.body)
        if (Option.isSome(answered)) conversation = { chat, id: answered.value.conversation_id }
      } else {
        yield* get("GET /api/credits/balance", "/api/credits/balance")
      }
      // Think time: a soak is sustained ordinary traffic, not a saturation test.
      yield* Effect.sleep(20 + Math.floor(random() * 180))
    }
  })
