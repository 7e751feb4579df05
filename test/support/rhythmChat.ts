/**
 * A WhatsApp export (Android, 24-hour) of a chat with a life: it grows, fades, falls silent for weeks
 * and comes back; busier evenings and weekends; bursts of replies. Deterministic, so the shared page's
 * tests, its benchmark and its README screenshot draw the same chat.
 */

export const rhythmParticipants: ReadonlyArray<string> = ["Amara Nwosu", "Jonas Becker", "Lucía Romero"]

/** Words the bodies are made of; tests look for them (and the names) in what a shared page shows. */
export const rhythmWords: ReadonlyArray<string> = (
  "allotment tomatoes marrow greenhouse compost watering courgette seedlings harvest trellis " +
  "ferry lighthouse picnic rainstorm blanket lantern thermos sandwiches kayak harbour"
).split(" ")

const emoji = ["😂", "❤️", "🌱", "🙈", "🎉"]

const rng = (seed: number) => () => {
  seed = (seed * 1664525 + 1013904223) >>> 0
  return seed / 2 ** 32
}

/** Relative weight of each written hour: quiet nights, a lunchtime bump, busy evenings. */
const hourWeights = [1, 0.5, 0.2, 0.1, 0.1, 0.2, 0.8, 2, 3, 2.5, 2, 2.2, 3.5, 3, 2, 2, 2.4, 3, 4, 5.5, 6.5, 7, 5, 2.5]
const pickHour = (random: () => number): number => {
  const total = hourWeights.reduce((a, b) => a + b, 0)
  let roll = random() * total
  for (let h = 0; h < 24; h++) {
    roll -= hourWeights[h]!
    if (roll <= 0) return h
  }
  return 23
}

const pad = (n: number) => String(n).padStart(2, "0")

/**
 * About `total` messages over 30 months from January 2022: a rise, a peak, a 40-day silence in the
 * second summer, a slow fade. Returns the export's text.
 */
export const rhythmChatExport = (total: number): string => {
  const random = rng(42)
  const days = 910
  // The shape of the chat's life: busier towards the middle, nothing during the silence.
  const weight = (day: number) =>
    day >= 540 && day < 580 ? 0 : (0.35 + Math.sin((Math.PI * day) / days)) * (1 + 0.4 * Math.sin(day / 9))
  const weights = Array.from({ length: days }, (_, d) => {
    const weekday = (new Date(Date.UTC(2022, 0, 3 + d)).getUTCDay() + 6) % 7
    return weight(d) * (weekday >= 5 ? 1.6 : 1)
  })
  const sum = weights.reduce((a, b) => a + b, 0)
  const lines: Array<string> = []
  let previous = 0
  for (let d = 0; d < days; d++) {
    const today = Math.round((weights[d]! / sum) * total)
    const minutes: Array<number> = []
    // Messages come in bursts around a few hours of the day.
    while (minutes.length < today) {
      const start = pickHour(random) * 60 + Math.floor(random() * 60)
      const burst = Math.min(today - minutes.length, 1 + Math.floor(random() * 12))
      for (let i = 0, m = start; i < burst; i++, m += Math.floor(random() * 4)) minutes.push(Math.min(1439, m))
    }
    minutes.sort((a, b) => a - b)
    const date = new Date(Date.UTC(2022, 0, 3 + d))
    const written = `${pad(date.getUTCDate())}/${pad(date.getUTCMonth() + 1)}/${date.getUTCFullYear()}`
    for (const minute of minutes) {
      // Answers alternate more often than not; Amara writes the most.
      const author = random() < 0.6 ? (previous + 1 + Math.floor(random() * 2)) % 3 : random() < 0.55 ? 0 : previous
      previous = author
      const words = Array.from({ length: 2 + Math.floor(random() * 8) }, () => rhythmWords[Math.floor(random() * rhythmWords.length)]!)
      if (random() < 0.15) words.push(emoji[Math.floor(random() * emoji.length)]!)
      lines.push(`${written}, ${pad(Math.floor(minute / 60))}:${pad(minute % 60)} - ${rhythmParticipants[author]}: ${words.join(" ")}`)
    }
  }
  return `${lines.join("\n")}\n`
}
