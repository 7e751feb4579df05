/**
 * Qdrant's published OpenAPI contract, as the Qdrant double checks requests against it: a small
 * validator for the spec's JSON-schema dialect, and a router from a request to the operation it names.
 */
import { readFileSync } from "node:fs"

/** The contract the double holds requests to; a copy of Qdrant 1.19's openapi.json. */
export const specPath = process.env.QDRANT_OPENAPI_SPEC ?? "/work/shared/reference/qdrant-openapi-1.19.json"

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
export type JsonObject = { readonly [key: string]: Json }

export const isObject = (u: unknown): u is JsonObject => typeof u === "object" && u !== null && !Array.isArray(u)
export const isArray = (u: unknown): u is ReadonlyArray<Json> => Array.isArray(u)

/** Reads JSON text; `JSON.parse` can only produce JSON values, which this spells out for the compiler. */
const parseJson = (text: string): Json => {
  const toJson = (u: unknown): Json =>
    u === null || typeof u === "boolean" || typeof u === "number" || typeof u === "string"
      ? u
      : Array.isArray(u)
      ? u.map(toJson)
      : typeof u === "object"
      ? Object.fromEntries(Object.entries(u).map(([k, v]) => [k, toJson(v)]))
      : null
  return toJson(JSON.parse(text))
}

// ---------------------------------------------------------------------------------------------------
// A small JSON-schema validator for the OpenAPI 3.0 dialect the Qdrant spec is written in. It knows
// every keyword the spec uses and refuses any other, so an unfamiliar schema cannot pass unchecked.
// ---------------------------------------------------------------------------------------------------

/** Keywords that only annotate. */
const annotations = new Set(["description", "example", "examples", "default", "deprecated", "title", "readOnly", "writeOnly"])
/** Keywords that constrain (`nullable` is handled with `type`). */
const constraints = new Set([
  "$ref", "type", "format", "nullable", "properties", "required", "additionalProperties", "items", "anyOf", "oneOf",
  "allOf", "enum", "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength", "uniqueItems"
])

const integerFormats: Record<string, readonly [number, number]> = {
  uint: [0, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
  uint32: [0, 4_294_967_295],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]
}
const uuidPattern = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i

const typeOf = (value: Json): string =>
  value === null ? "null" : isArray(value) ? "array" : typeof value === "number" && Number.isInteger(value) ? "integer" : typeof value

export const deepEqual = (a: Json, b: Json): boolean => JSON.stringify(a) === JSON.stringify(b)

export class SchemaValidator {
  constructor(private readonly spec: JsonObject) {}

  /** The schema a `#/...` reference points at. */
  resolve(ref: string): JsonObject {
    if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref}`)
    let node: Json = this.spec
    for (const part of ref.slice(2).split("/")) {
      node = isObject(node) ? (node[part] ?? null) : null
    }
    if (!isObject(node)) throw new Error(`unresolved $ref ${ref}`)
    return node
  }

  /** The problems of `value` against `schema`, each with its JSON path; empty when valid. */
  validate(schema: Json, value: Json, path = "$"): Array<string> {
    const errors: Array<string> = []
    this.check(schema, value, path, errors)
    return errors
  }

  private check(schema: Json, value: Json, path: string, errors: Array<string>): void {
    if (schema === true) return
    if (!isObject(schema)) {
      errors.push(`${path}: unsupported schema ${JSON.stringify(schema)}`)
      return
    }
    for (const key of Object.keys(schema)) {
      if (!annotations.has(key) && !constraints.has(key)) errors.push(`${path}: schema keyword '${key}' is not supported by the double`)
    }
    const ref = schema["$ref"]
    if (typeof ref === "string") {
      this.check(this.resolve(ref), value, path, errors)
      return
    }
    const nullable = schema["nullable"] === true
    const constraining = Object.keys(schema).filter((key) => constraints.has(key) && key !== "nullable")
    // schemars writes "or null" as anyOf [X, { nullable: true }]: a schema that is only `nullable` means null.
    if (nullable && constraining.length === 0) {
      if (value !== null) errors.push(`${path}: expected null`)
      return
    }
    if (value === null && nullable) return

    const type = schema["type"]
    if (typeof type === "string") {
      const actual = typeOf(value)
      const matches = actual === type || (type === "number" && actual === "integer")
      if (!matches) {
        errors.push(`${path}: expected ${type}${nullable ? " or null" : ""}, got ${actual}`)
        return
      }
    }
    const format = schema["format"]
    if (typeof format === "string") {
      const range = integerFormats[format]
      if (range !== undefined && typeof value === "number" && (value < range[0] || value > range[1])) {
        errors.push(`${path}: ${value} is out of range for ${format}`)
      }
      if (format === "uuid" && typeof value === "string" && !uuidPattern.test(value)) {
        errors.push(`${path}: '${value}' is not a uuid`)
      }
      if ((format === "float" || format === "double") && typeof value === "number" && !Number.isFinite(value)) {
        errors.push(`${path}: not a finite number`)
      }
    }
    const enumeration = schema["enum"]
    if (isArray(enumeration) && !enumeration.some((candidate) => deepEqual(candidate, value))) {
      errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(enumeration)}`)
    }
    if (typeof value === "number") {
      const minimum = schema["minimum"]
      const maximum = schema["maximum"]
      if (typeof minimum === "number" && value < minimum) errors.push(`${path}: ${value} < minimum ${minimum}`)
      if (typeof maximum === "number" && value > maximum) errors.push(`${path}: ${value} > maximum ${maximum}`)
    }
    if (typeof value === "string") {
      const minLength = schema["minLength"]
      const maxLength = schema["maxLength"]
      if (typeof minLength === "number" && value.length < minLength) errors.push(`${path}: shorter than ${minLength}`)
      if (typeof maxLength === "number" && value.length > maxLength) errors.push(`${path}: longer than ${maxLength}`)
    }
    if (isArray(value)) {
      const minItems = schema["minItems"]
      const maxItems = schema["maxItems"]
      if (typeof minItems === "number" && value.length < minItems) errors.push(`${path}: fewer than ${minItems} items`)
      if (typeof maxItems === "number" && value.length > maxItems) errors.push(`${path}: more than ${maxItems} items`)
      if (schema["uniqueItems"] === true && new Set(value.map((item) => JSON.stringify(item))).size !== value.length) {
        errors.push(`${path}: items are not unique`)
      }
      const items = schema["items"]
      if (items !== undefined) value.forEach((item, index) => this.check(items, item, `${path}[${index}]`, errors))
    }
    if (isObject(value)) {
      const properties = isObject(schema["properties"]) ? schema["properties"] : {}
      const required = schema["required"]
      if (isArray(required)) {
        for (const name of required) {
          if (typeof name === "string" && !(name in value)) errors.push(`${path}: missing required '${name}'`)
        }
      }
      const additional = schema["additionalProperties"]
      for (const [name, child] of Object.entries(value)) {
        const declared = properties[name]
        if (declared !== undefined) this.check(declared, child, `${path}.${name}`, errors)
        else if (additional === false) errors.push(`${path}: unknown property '${name}'`)
        else if (isObject(additional)) this.check(additional, child, `${path}.${name}`, errors)
      }
    }
    const anyOf = schema["anyOf"]
    if (isArray(anyOf)) {
      const branches = anyOf.map((branch) => this.validate(branch, value, path))
      if (!branches.some((branch) => branch.length === 0)) {
        errors.push(`${path}: matches none of anyOf (${branches.map((branch) => branch[0] ?? "").join(" | ")})`)
      }
    }
    const oneOf = schema["oneOf"]
    if (isArray(oneOf)) {
      const passing = oneOf.filter((branch) => this.validate(branch, value, path).length === 0).length
      if (passing !== 1) errors.push(`${path}: matches ${passing} branches of oneOf, not exactly one`)
    }
    const allOf = schema["allOf"]
    if (isArray(allOf)) allOf.forEach((branch) => this.check(branch, value, path, errors))
  }
}

// ---------------------------------------------------------------------------------------------------
// Routing against the spec: the path template and method must exist, query parameters must be declared
// and well typed, the body must match the operation's requestBody schema.
// ---------------------------------------------------------------------------------------------------

interface Operation {
  readonly template: string
  readonly method: string
  readonly operationId: string
  readonly params: Record<string, string>
  readonly definition: JsonObject
}

const literalSegments = (template: string) => template.split("/").filter((part) => part !== "" && !part.startsWith("{")).length

export class SpecRouter {
  readonly validator: SchemaValidator
  private readonly paths: ReadonlyArray<readonly [string, RegExp, JsonObject]>

  constructor(readonly spec: JsonObject) {
    this.validator = new SchemaValidator(spec)
    const paths = isObject(spec["paths"]) ? spec["paths"] : {}
    this.paths = Object.entries(paths).flatMap(([template, item]) =>
      isObject(item)
        ? [[template, new RegExp(`^${template.replace(/\{[^}]+\}/g, "([^/]+)")}$`), item] as const]
        : []
    )
  }

  static load(path: string = specPath): SpecRouter {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"))
    if (!isObject(parsed)) throw new Error(`${path} is not an OpenAPI document`)
    return new SpecRouter(parsed)
  }

  /** The operation a request names; real routers prefer the template with more literal segments. */
  find(method: string, pathname: string): Operation | undefined {
    const candidates = this.paths.flatMap(([template, pattern, item]) => {
      const match = pattern.exec(pathname)
      const definition = item[method.toLowerCase()]
      if (match === null || !isObject(definition)) return []
      const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? "")
      const params: Record<string, string> = {}
      names.forEach((name, index) => {
        params[name] = decodeURIComponent(match[index + 1] ?? "")
      })
      const operationId = typeof definition["operationId"] === "string" ? definition["operationId"] : template
      return [{ template, method: method.toLowerCase(), operationId, params, definition }]
    })
    return candidates.sort((a, b) => literalSegments(b.template) - literalSegments(a.template))[0]
  }

  /** Problems of the query string against the operation's declared parameters. */
  checkQuery(operation: Operation, query: URLSearchParams): Array<string> {
    const declared = isArray(operation.definition["parameters"]) ? operation.definition["parameters"] : []
    const errors: Array<string> = []
    const known = new Map<string, JsonObject>()
    for (const parameter of declared) {
      if (isObject(parameter) && parameter["in"] === "query" && typeof parameter["name"] === "string") {
        known.set(parameter["name"], parameter)
      }
    }
    for (const [name, raw] of query) {
      const parameter = known.get(name)
      if (parameter === undefined) {
        errors.push(`query parameter '${name}' is not declared for ${operation.operationId}`)
        continue
      }
      const schema = parameter["schema"] ?? true
      const resolved = isObject(schema) && typeof schema["$ref"] === "string" ? this.validator.resolve(schema["$ref"]) : schema
      const type = isObject(resolved) ? resolved["type"] : undefined
      let value: Json = raw
      if (type === "boolean") value = raw === "true" ? true : raw === "false" ? false : raw
      else if ((type === "integer" || type === "number") && raw.trim() !== "" && !Number.isNaN(Number(raw))) value = Number(raw)
      errors.push(...this.validator.validate(schema, value, `query.${name}`))
    }
    for (const [name, parameter] of known) {
      if (parameter["required"] === true && !query.has(name)) errors.push(`missing required query parameter '${name}'`)
    }
    return errors
  }

  /** Problems of the body against the operation's requestBody. */
  checkBody(operation: Operation, contentType: string | undefined, text: string): { errors: Array<string>; body: Json } {
    const requestBody = operation.definition["requestBody"]
    if (!isObject(requestBody)) {
      return { errors: text.length > 0 ? [`${operation.operationId} takes no body`] : [], body: null }
    }
    if (text.length === 0) {
      return { errors: requestBody["required"] === true ? ["a body is required"] : [], body: null }
    }
    const content = isObject(requestBody["content"]) ? requestBody["content"] : {}
    const media = content["application/json"]
    if (!isObject(media)) return { errors: ["the operation takes no JSON body"], body: null }
    if (contentType === undefined || !contentType.includes("application/json")) {
      return { errors: [`content-type must be application/json, got ${contentType ?? "none"}`], body: null }
    }
    let body: Json
    try {
      body = parseJson(text)
    } catch {
      return { errors: ["the body is not JSON"], body: null }
    }
    return { errors: this.validator.validate(media["schema"] ?? true, body, "body"), body }
  }

  /** Problems of an answer against the operation's response schema for that status. */
  checkResponse(operation: Operation, status: number, body: Json): Array<string> {
    const responses = isObject(operation.definition["responses"]) ? operation.definition["responses"] : {}
    const response = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses["default"]
    const schema = isObject(response) && isObject(response["content"]) ? response["content"]["application/json"] : undefined
    if (!isObject(schema)) return [`no response ${status} is declared for ${operation.operationId}`]
    return this.validator.validate(schema["schema"] ?? true, body, "response")
  }
}
