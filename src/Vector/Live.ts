/**
 * The `Vector` layer the configuration asks for: VECTOR_BACKEND=postgres (default, pgvector in our own
 * database) or qdrant (QDRANT_URL and friends, see Vector/Qdrant.ts).
 */
import type { SqlClient } from "@effect/sql"
import { Config, type ConfigError, Effect, Layer } from "effect"
import type { Vector } from "../Vector.js"
import { VectorPostgres } from "./Postgres.js"
import { VectorQdrant } from "./Qdrant.js"

export const VectorBackend = Config.literal("postgres", "qdrant")("VECTOR_BACKEND").pipe(
  Config.withDefault("postgres" as const)
)

export const VectorLive: Layer.Layer<Vector, ConfigError.ConfigError, SqlClient.SqlClient> = Layer.unwrapEffect(
  Effect.map(VectorBackend, (backend) => backend === "qdrant" ? VectorQdrant : VectorPostgres)
)
