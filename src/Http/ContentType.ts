/**
 * The media type of a request body (`type/subtype; name=value`), read by the grammar of RFC 9110
 * §8.3.1 and no more loosely than the multipart parser reads it, so that what passes here parses there.
 */
import { Option } from "effect"

export interface MediaType {
  /** `type/subtype`, lower case. */
  readonly essence: string
  /** Parameter names lower case; quoted values unquoted. */
  readonly parameters: ReadonlyMap<string, string>
}

const token = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
const essencePattern = new RegExp(`^${token}/${token}$`)
// One `; name=value` at a time, anchored where the previous one ended.
// Inside quotes no tab (the multipart parser refuses one there), no bare quote or backslash.
const parameterPattern = new RegExp(`; *(${token})=(${token}|"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\x20-\\xff])*") *`, "y")

const unquote = (value: string): string =>
  value.startsWith("\"") ? value.slice(1, -1).replace(/\\(.)/g, "$1") : value

/** The media type a `Content-Type` header names; none when it does not follow the grammar. */
export const parseMediaType = (header: string): Option.Option<MediaType> => {
  const semicolon = header.indexOf(";")
  const essence = (semicolon === -1 ? header : header.slice(0, semicolon)).trim()
  if (!essencePattern.test(essence)) return Option.none()
  const parameters = new Map<string, string>()
  if (semicolon !== -1) {
    parameterPattern.lastIndex = semicolon
    while (parameterPattern.lastIndex < header.length) {
      const match = parameterPattern.exec(header)
      if (match === null) return Option.none()
      const [, name = "", value = ""] = match
      parameters.set(name.toLowerCase(), unquote(value))
    }
  }
  return Option.some({ essence: essence.toLowerCase(), parameters })
}

/** Whether a body of `essence` is JSON (`application/json`, or a `+json` type such as `application/merge-patch+json`). */
export const isJson = (essence: string): boolean => essence === "application/json" || essence.endsWith("+json")

// RFC 2046 §5.1.1: 1 to 70 characters, not ending in a space.
const boundaryPattern = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/

/** Whether a multipart media type carries a boundary its body can be split by. */
export const hasBoundary = (type: MediaType): boolean => boundaryPattern.test(type.parameters.get("boundary") ?? "")
