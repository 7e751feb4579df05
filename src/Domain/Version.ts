/** The service's version, from package.json: reported by `/`, `/health`, traces and the OpenAPI document. */
import packageJson from "../../package.json" with { type: "json" }

export const version: string = packageJson.version
