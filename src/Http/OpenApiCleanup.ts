/**
 * Makes the generated OpenAPI document say what the server sends: decode failures leave as our
 * `ValidationError` (never the framework's `HttpApiDecodeError`), and a status lists each body once.
 */
const internalSchemas = new Set(["HttpApiDecodeError", "Issue", "PropertyKey"])

const isRecord = (node: unknown): node is Record<string, unknown> =>
  typeof node === "object" && node !== null && !Array.isArray(node)

const isInternalRef = (node: unknown) =>
  isRecord(node) && typeof node.$ref === "string" &&
  internalSchemas.has(node.$ref.replace("#/components/schemas/", ""))

const clean = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(clean)
  if (!isRecord(node)) return node
  const entries = Object.entries(node).map(([key, value]) => [key, clean(value)] as const)
  const result: Record<string, unknown> = Object.fromEntries(entries)
  const anyOf = result.anyOf
  if (Array.isArray(anyOf)) {
    const seen = new Set<string>()
    const kept = anyOf.filter((member) => {
      const key = JSON.stringify(member)
      if (isInternalRef(member) || seen.has(key)) return false
      seen.add(key)
      return true
    })
    const [only] = kept
    if (kept.length === 1 && isRecord(only)) {
      delete result.anyOf
      return { ...result, ...only }
    }
    result.anyOf = kept
  }
  return result
}

export const cleanOpenApi = (spec: Record<string, unknown>): Record<string, unknown> => {
  const cleaned = clean(spec)
  if (!isRecord(cleaned)) return spec
  const components = cleaned.components
  if (isRecord(components) && isRecord(components.schemas)) {
    for (const name of internalSchemas) delete components.schemas[name]
  }
  return cleaned
}
