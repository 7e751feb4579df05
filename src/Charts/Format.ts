/** How charts write numbers, shares, durations and dates: English, fixed, the same on every server. */

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 })

export const count = (n: number): string => integer.format(n)

/** `part` of `whole` as a whole percentage ("0%" of nothing). */
export const percent = (part: number, whole: number): string => whole === 0 ? "0%" : `${Math.round((part / whole) * 100)}%`

export const plural = (n: number, one: string, many = `${one}s`): string => `${count(n)} ${n === 1 ? one : many}`

/** A duration in the largest unit that keeps it readable: "45 s", "12 min", "5.5 h", "3 days". */
export const duration = (seconds: number): string => {
  if (seconds < 60) return `${Math.round(seconds)} s`
  if (seconds < 3_600) return `${Math.round(seconds / 60)} min`
  if (seconds < 86_400) return `${Math.round((seconds / 3_600) * 10) / 10} h`
  const days = seconds / 86_400
  // A tenth of a day matters for a short silence, not for a long one.
  const shown = days >= 10 ? Math.round(days) : Math.round(days * 10) / 10
  return `${shown} ${shown === 1 ? "day" : "days"}`
}

export const weekdays: ReadonlyArray<string> = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
export const months: ReadonlyArray<string> = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

/** "2021-02-03" or "2021-02-03T09:02:00" as "3 Feb 2021". */
export const day = (text: string): string => {
  const [year, month, date] = text.slice(0, 10).split("-")
  return `${Number(date)} ${months[Number(month) - 1] ?? month} ${year}`
}

/** "2021-02" as "Feb 2021". */
export const month = (key: string): string => `${months[Number(key.slice(5, 7)) - 1] ?? key.slice(5, 7)} ${key.slice(0, 4)}`

export const hour = (h: number): string => `${String(h).padStart(2, "0")}:00`
