/** Which database the tests run on, decided once by the global setup and handed to each test file. */
import type {} from "vitest"
export type TestBackend =
  | { readonly kind: "postgres"; readonly adminUrl: string; readonly template: string }
  | { readonly kind: "pglite"; readonly templateFile: string; readonly reason: string }

declare module "vitest" {
  export interface ProvidedContext {
    readonly backend: TestBackend
  }
}

/** The server's URL with another database name. */
export const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}
