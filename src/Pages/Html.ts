/**
 * The shared page as one HTML document: every chart inline as SVG with its text summary, styles
 * inline, no script. It is drawn only from anonymised statistics ("Participant n", no words, no one's own emoji)
 * and the chat's counts and dates: never its display name, file name or any message.
 */
import { drawChartOf, escape, pageOrder, palette } from "../Charts.js"
import type { ChatStatistics } from "../Domain/Statistics.js"

export interface SharedChat {
  readonly id: string
  readonly message_count: number
  readonly participant_count: number
  readonly first_message_at: string | null
  readonly last_message_at: string | null
  /** Anonymised. */
  readonly statistics: ChatStatistics | null
}

const months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
const longDay = (wallClock: string) =>
  `${Number(wallClock.slice(8, 10))} ${months[Number(wallClock.slice(5, 7)) - 1] ?? ""} ${wallClock.slice(0, 4)}`
const count = new Intl.NumberFormat("en-US")
const plural = (n: number, word: string) => `${count.format(n)} ${word}${n === 1 ? "" : "s"}`

const style = `*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}body{margin:0;background:#f6f8fa;color:${palette.text};` +
  `font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}main{max-width:1200px;margin:0 auto;` +
  `padding:16px}header{padding:8px 4px 16px}h1{font-size:1.6rem;line-height:1.2;margin:0 0 8px}header p{margin:0;color:${palette.muted}}` +
  `.facts{display:flex;flex-wrap:wrap;gap:8px 24px;margin:16px 0 0;padding:0;list-style:none}.facts li{min-width:0}` +
  `.facts b{display:block;font-size:1.4rem;color:${palette.text}}.charts{display:grid;grid-template-columns:minmax(0,1fr);gap:16px;align-items:start}` +
  `@media (min-width:900px){.charts{grid-template-columns:repeat(2,minmax(0,1fr))}}figure{margin:0;padding:16px;background:#fff;` +
  `border:1px solid ${palette.grid};border-radius:8px;min-width:0}h2{font-size:1.1rem;margin:0 0 8px}figure svg{display:block;` +
  `width:100%;height:auto}figcaption{margin-top:8px;color:${palette.muted};font-size:.9rem;overflow-wrap:anywhere}` +
  `footer{padding:24px 4px;color:${palette.muted};font-size:.85rem}`

const head = (title: string, description: string, extra: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
  `<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">` +
  // No icon to fetch: a browser would otherwise ask for /favicon.ico.
  `<link rel="icon" href="data:,">` +
  `<title>${escape(title)}</title><meta name="description" content="${escape(description)}">${extra}<style>${style}</style></head>`

/** The page of a shared chat; `origin` makes the Open Graph addresses absolute. */
export const sharedPage = (chat: SharedChat, origin: string): string => {
  const title = "A chat in charts · Chatsight"
  const span = chat.first_message_at === null || chat.last_message_at === null
    ? ""
    : `, ${longDay(chat.first_message_at)} to ${longDay(chat.last_message_at)}`
  const description = `${plural(chat.message_count, "message")} from ${plural(chat.participant_count, "participant")}${span}: ` +
    "when they talk, how it grew, who starts and who answers fast."
  const pageUrl = `${origin}/s/${chat.id}`
  const openGraph = [
    ["og:type", "website"],
    ["og:site_name", "Chatsight"],
    ["og:title", "A chat in charts"],
    ["og:description", description],
    ["og:url", pageUrl],
    ["og:image", `${pageUrl}/preview.png`],
    ["og:image:type", "image/png"],
    ["og:image:width", "1200"],
    ["og:image:height", "630"],
    ["og:image:alt", "Heatmap of the chat's messages by weekday and hour"]
  ].map(([property, content]) => `<meta property="${property}" content="${escape(content!)}">`).join("") +
    `<meta name="twitter:card" content="summary_large_image">`
  const stats = chat.statistics
  const facts = [
    ["messages", chat.message_count],
    ["participants", chat.participant_count],
    ...(stats === null ? [] : [["conversations", stats.totals.conversations], ["days with messages", stats.timeline.length]] as const)
  ].map(([label, n]) => `<li><b>${count.format(Number(n))}</b>${escape(String(label))}</li>`).join("")
  const figures = pageOrder.map((kind) => {
    const chart = drawChartOf(kind, stats, "public")
    return `<figure id="${kind}" data-kind="${kind}"><h2>${escape(chart.title)}</h2>${chart.svg}` +
      `<figcaption>${escape(chart.summary)}</figcaption></figure>`
  }).join("")
  return head(title, description, openGraph) +
    `<body><main><header><h1>A chat in charts</h1><p>${escape(description)} Participants are numbered by how much ` +
    `they wrote; no name or word of the chat is on this page.</p><ul class="facts">${facts}</ul></header>` +
    `<section class="charts" aria-label="Charts">${figures}</section>` +
    `<footer>Shared from Chatsight by someone in this chat. They can turn this page off at any time.</footer></main></body></html>`
}

/** What a missing, deleted, private or malformed chat id gets: the same page, whichever it was. */
export const notFoundPage = (): string =>
  head("Not found · Chatsight", "There is no shared chat here.", "") +
  `<body><main><header><h1>Nothing shared here</h1><p>This chat does not exist, or its owner does not share it ` +
  `(any more).</p></header></main></body></html>`

/** Too many requests from one address (the Retry-After header says when to come back). */
export const busyPage = (): string =>
  head("Too many requests · Chatsight", "Too many requests.", "") +
  `<body><main><header><h1>Too many requests</h1><p>Please try again in a minute.</p></header></main></body></html>`
