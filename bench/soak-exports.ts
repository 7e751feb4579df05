/**
 * What the soak uploads and asks: WhatsApp exports in the Android format, each with content no other
 * upload has (so every upload stores a new chat), and questions in the shapes people ask in.
 */

/** A small deterministic generator: a run can be repeated. */
export const rng = (seed: number) => () => {
  seed = (seed * 1664525 + 1013904223) >>> 0
  return seed / 2 ** 32
}

export const pick = <A>(random: () => number, items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!

const PEOPLE = [
  "Amelia Hartfield", "Bruno Castellane", "Chidi Okonkwo", "Daria Volkova", "Emeka Nwosu", "Farah Haddad",
  "Gustav Lindqvist", "Hana Kobayashi", "Ines Duarte", "Jonas Weber"
]

/** Each chat keeps to a few topics; questions name their words. */
export const TOPIC_WORDS = (
  "flat van landlord deposit keys dog vet walk park wedding venue dress speech job interview offer salary " +
  "laptop charger backup recipe lentils curry sourdough flight hotel passport lisbon car tyre garage " +
  "football match tickets birthday cake present book podcast film dentist gym marathon"
).split(" ")

const FILLER = (
  "i you we it that this the a to and but so just really maybe tomorrow today tonight later yes no ok " +
  "sure lol haha think know need want going got see said was is are be have had will can could should"
).split(" ")

const pad = (n: number) => (n < 10 ? `0${n}` : `${n}`)

export interface GeneratedExport {
  readonly text: string
  readonly authors: ReadonlyArray<string>
}

/**
 * `messages` messages by 2 to 4 people, hours to days apart (so some days are past the 12th and the
 * day order is clear); `tag` is written into the first message, which makes the file unique.
 */
export const generateExport = (seed: number, tag: string, messages: number): GeneratedExport => {
  const random = rng(seed)
  const authors = Array.from({ length: 2 + Math.floor(random() * 3) }, () => pick(random, PEOPLE))
    .filter((name, at, all) => all.indexOf(name) === at)
  const topics = Array.from({ length: 3 }, () => pick(random, TOPIC_WORDS))
  let t = Date.UTC(2019, 0, 1) + Math.floor(random() * 1000) * 86_400_000
  const header = () => {
    const d = new Date(t)
    return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} - `
  }
  const lines = [
    `${header()}Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.`,
    `${header()}${authors[0]}: soak upload ${tag}`
  ]
  for (let i = 2; i < messages; i++) {
    t += random() < 0.05 ? Math.floor(random() * 3 * 86_400_000) : Math.floor(30_000 + random() * 900_000)
    const author = pick(random, authors)
    const roll = random()
    if (roll < 0.04) {
      lines.push(`${header()}${author}: <Media omitted>`)
      continue
    }
    const words = 3 + Math.floor(random() * 16)
    const body: Array<string> = []
    for (let w = 0; w < words; w++) body.push(random() < 0.35 ? pick(random, topics) : pick(random, FILLER))
    lines.push(`${header()}${author}: ${body.join(" ")}${roll > 0.97 ? `\n${pick(random, topics)} again` : ""}`)
  }
  return { text: `${lines.join("\n")}\n`, authors }
}

/** A question about a chat with these participants. */
export const question = (random: () => number, authors: ReadonlyArray<string>): string => {
  const author = authors.length === 0 ? "Amelia Hartfield" : pick(random, authors)
  const word = pick(random, TOPIC_WORDS)
  const shapes = [
    `How many messages did ${author} send?`,
    "Who sent the first message?",
    "What was the last message?",
    `When did we talk about the ${word}?`,
    `What did ${author} say about the ${word}?`,
    "Who talks the most?",
    `Did anyone mention the ${word} or the ${pick(random, TOPIC_WORDS)}?`
  ]
  return pick(random, shapes)
}
