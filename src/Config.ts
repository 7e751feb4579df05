/**
 * Every setting of the service, read through Effect `Config`. Each group is read once, by the layer
 * that needs it; every default makes the embedded mode (no environment at all) work.
 */
import { Config, ConfigError, Duration, Either, LogLevel, Option, Schema } from "effect"
import { TimeZone } from "./Domain/Chat.js"

/** A duration setting (`"500 millis"`, `"20 seconds"`) with its default; every layer's config reads durations through it. */
export const duration = (name: string, fallback: Duration.DurationInput) =>
  Config.duration(name).pipe(Config.withDefault(Duration.decode(fallback)))

export const ServerConfig = Config.all({
  host: Config.string("HOST").pipe(Config.withDefault("0.0.0.0")),
  port: Config.port("PORT").pipe(Config.withDefault(8000)),
  /** Origins allowed by CORS; `*` allows any. */
  corsOrigins: Config.array(Config.string(), "CORS_ORIGINS").pipe(Config.withDefault(["*"])),
  /** Largest JSON body accepted, in bytes. */
  maxBodyBytes: Config.integer("MAX_BODY_BYTES").pipe(Config.withDefault(1024 * 1024)),
  /** How long SIGTERM waits for in-flight requests before closing them. */
  shutdownTimeout: duration("SHUTDOWN_TIMEOUT", "20 seconds"),
  /** Longest silence while a request's body is arriving; then 408 and the connection is closed. */
  requestBodyTimeout: duration("REQUEST_BODY_TIMEOUT", "30 seconds").pipe(
    Config.validate({
      message: "REQUEST_BODY_TIMEOUT must be positive",
      validation: (d: Duration.Duration) => Duration.greaterThan(d, Duration.zero)
    })
  ),
  /** The whole request, headers and body, must have arrived within this (Node's `requestTimeout`). */
  requestTimeout: duration("REQUEST_TIMEOUT", "5 minutes").pipe(
    Config.validate({
      message: "REQUEST_TIMEOUT must be positive",
      validation: (d: Duration.Duration) => Duration.greaterThan(d, Duration.zero)
    })
  ),
  /** Retry-After (seconds) sent with every 503 and 429. */
  retryAfterSeconds: Config.integer("RETRY_AFTER_SECONDS").pipe(Config.withDefault(1))
})

export const DataDir = Config.string("DATA_DIR").pipe(Config.withDefault(".data"))

export const DatabaseConfig = Config.all({
  /** PostgreSQL URL; without it the embedded PGlite under `DATA_DIR` is used. */
  url: Config.option(Config.redacted("DATABASE_URL")),
  dataDir: DataDir,
  poolSize: Config.integer("DB_POOL_SIZE").pipe(Config.withDefault(10)),
  poolOverflow: Config.integer("DB_POOL_OVERFLOW").pipe(Config.withDefault(5)),
  acquireTimeout: duration("DB_ACQUIRE_TIMEOUT", "10 seconds"),
  recycle: duration("DB_RECYCLE", "1 hour"),
  idleTimeout: duration("DB_IDLE_TIMEOUT", "30 seconds"),
  statementTimeout: duration("DB_STATEMENT_TIMEOUT", "30 seconds"),
  applicationName: Config.string("DB_APPLICATION_NAME").pipe(Config.withDefault("chatsight")),
  /** Apply pending migrations at start-up. */
  migrate: Config.boolean("DB_MIGRATE").pipe(Config.withDefault(true)),
  /**
   * Embedded PGlite's `shared_buffers`: its page cache, held in this process's memory. PostgreSQL's
   * 128MB default is most of an idle embedded server's size; one local user needs far less.
   */
  embeddedSharedBuffers: Config.string("PGLITE_SHARED_BUFFERS").pipe(
    Config.withDefault("16MB"),
    Config.validate({
      message: "PGLITE_SHARED_BUFFERS must be a size such as 16MB (kB, MB or GB)",
      validation: (size: string) => /^[1-9]\d*(kB|MB|GB)$/.test(size)
    })
  )
})

export const LockRetryConfig = Config.all({
  /** Retries of a block whose row lock is taken, before `LockTimeout`. */
  retries: Config.integer("LOCK_RETRY_MAX").pipe(Config.withDefault(8)),
  /** First delay of the exponential backoff; it doubles each retry and is jittered. */
  base: duration("LOCK_RETRY_BASE_DELAY", "50 millis"),
  /** No single delay is longer than this (before jitter). */
  max: duration("LOCK_RETRY_MAX_DELAY", "1 second")
})

/** `production` turns on the guards that refuse development defaults (NODE_ENV, as Node tools read it). */
export const Environment = Config.string("NODE_ENV").pipe(
  Config.withDefault("development"),
  Config.map((value) => value === "production" ? "production" as const : "development" as const)
)

export const AuthConfig = Config.all({
  environment: Environment,
  /** JWKS of a hosted identity provider; takes precedence over the HS256 secret. */
  jwksUrl: Config.option(Config.url("AUTH_JWKS_URL")),
  /** HS256 secret; without it (and without a JWKS URL) a dev secret is created under `DATA_DIR`. */
  jwtSecret: Config.option(Config.redacted("AUTH_JWT_SECRET")),
  issuer: Config.string("AUTH_ISSUER").pipe(Config.withDefault("chatsight-dev")),
  audience: Config.string("AUTH_AUDIENCE").pipe(Config.withDefault("chatsight")),
  /**
   * Tokens that verified are remembered this long (never past their `exp`), so a client's next request
   * skips the signature check; 0 turns it off. The account's standing is still read on every request.
   */
  verifiedTokenTtl: duration("AUTH_VERIFIED_TOKEN_TTL", "60 seconds"),
  /** How many verified tokens are remembered at most (least recently used go first). */
  verifiedTokenCapacity: Config.integer("AUTH_VERIFIED_TOKEN_CACHE").pipe(
    Config.withDefault(10_000),
    Config.validate({ message: "AUTH_VERIFIED_TOKEN_CACHE must be 0 or more", validation: (n: number) => n >= 0 })
  ),
  dataDir: DataDir
})

export const CreditsConfig = Config.all({
  welcomeCredits: Config.integer("WELCOME_CREDITS").pipe(Config.withDefault(10))
})

export const TelemetryConfig = Config.all({
  otlpEndpoint: Config.option(Config.string("OTEL_EXPORTER_OTLP_ENDPOINT")),
  serviceName: Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault("chatsight")),
  logLevel: Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info)),
  /** `json` (one object a line, for collectors) or `pretty` (for a terminal). */
  logFormat: Config.literal("json", "pretty")("LOG_FORMAT").pipe(Config.withDefault("json" as const))
})

export const IngestConfig = Config.all({
  /** Largest upload, and largest chat text once unzipped, in bytes. */
  maxUploadBytes: Config.integer("UPLOAD_MAX_BYTES").pipe(Config.withDefault(100 * 1024 * 1024)),
  /** A gap this long between messages starts a new conversation (statistics). */
  silenceThresholdMinutes: Config.number("SILENCE_THRESHOLD_MINUTES").pipe(Config.withDefault(240)),
  /** Messages per INSERT statement when storing a chat. */
  insertBatchSize: Config.integer("INGEST_INSERT_BATCH").pipe(Config.withDefault(5000)),
  /** Worker threads that parse exports (each works on at most two exports at a time: see ParserThreads.ts). */
  threads: Config.integer("INGEST_THREADS").pipe(
    Config.withDefault(1),
    Config.validate({ message: "INGEST_THREADS must be at least 1", validation: (n) => n >= 1 })
  ),
  /** The time zone the written times are read in when an upload names none (for UTC readings). */
  defaultTimeZone: Config.string("INGEST_DEFAULT_TIME_ZONE").pipe(
    Config.withDefault("UTC"),
    Config.validate({ message: "INGEST_DEFAULT_TIME_ZONE must be an IANA time zone", validation: Schema.is(TimeZone) })
  )
})

/** The background job runner. */
export const WorkerConfig = Config.all({
  /** Jobs run at once by one instance. */
  concurrency: Config.integer("WORKER_CONCURRENCY").pipe(
    Config.withDefault(2),
    Config.validate({ message: "WORKER_CONCURRENCY must be at least 1", validation: (n) => n >= 1 })
  ),
  /** How long an idle runner fiber waits before looking for due jobs again. */
  pollInterval: duration("WORKER_POLL_INTERVAL", "1 second"),
  /** How long a claim holds without renewal; renewed every third of it while the job runs. */
  lease: duration("WORKER_LEASE", "60 seconds").pipe(
    Config.validate({
      message: "WORKER_LEASE must be positive",
      validation: (d: Duration.Duration) => Duration.greaterThan(d, Duration.zero)
    })
  ),
  /** On shutdown, how long running jobs may take to finish before they are returned to the queue. */
  shutdownGrace: duration("WORKER_SHUTDOWN_GRACE", "20 seconds"),
  /** Names this instance in `locked_by`; unique per process by default. */
  instanceId: Config.option(Config.string("WORKER_INSTANCE_ID")),
  /** First delay before retrying a failed job; it doubles each attempt, jittered. */
  backoffBase: duration("WORKER_BACKOFF_BASE", "1 second"),
  /** The longest delay between attempts. */
  backoffMax: duration("WORKER_BACKOFF_MAX", "10 minutes")
})

/** A rate limit: `limit` requests per `window` for each subject, written `N/<duration>` (e.g. `30/1 minute`). */
export interface RatePolicy {
  readonly name: string
  readonly limit: number
  readonly window: Duration.Duration
}

const ratePolicy = (name: string, variable: string, fallback: string) =>
  Config.string(variable).pipe(
    Config.withDefault(fallback),
    Config.mapOrFail((text): Either.Either<RatePolicy, ConfigError.ConfigError> => {
      const [count = "", span = ""] = text.split("/")
      const limit = Number(count.trim())
      const window = Duration.decodeUnknown(span.trim())
      return Number.isSafeInteger(limit) && limit >= 1 && Option.isSome(window) && Duration.greaterThan(window.value, Duration.zero)
        ? Either.right({ name, limit, window: window.value })
        : Either.left(ConfigError.InvalidData([variable], `${variable} must be N/<duration>, e.g. 30/1 minute; got "${text}"`))
    })
  )

/** Rate limits per user on costly routes and per client address on public ones; off with RATE_LIMITS=false. */
export const RateLimitConfig = Config.all({
  enabled: Config.boolean("RATE_LIMITS").pipe(Config.withDefault(true)),
  /** Take the client address from X-Forwarded-For (behind a load balancer you trust), not the socket. */
  trustProxy: Config.boolean("TRUST_PROXY").pipe(Config.withDefault(false)),
  uploads: ratePolicy("uploads", "RATE_LIMIT_UPLOADS", "30/1 hour"),
  questions: ratePolicy("questions", "RATE_LIMIT_QUESTIONS", "30/1 minute"),
  public: ratePolicy("public", "RATE_LIMIT_PUBLIC", "120/1 minute")
})

/**
 * Payment providers. A provider is on when all its settings are present; otherwise its routes answer 503
 * naming what is missing. The API URLs point the SDKs elsewhere (the local doubles in `test/`).
 */
export const PaymentsConfig = Config.all({
  stripe: Config.all({
    secretKey: Config.option(Config.redacted("STRIPE_SECRET_KEY")),
    webhookSecret: Config.option(Config.redacted("STRIPE_WEBHOOK_SECRET")),
    apiUrl: Config.option(Config.url("STRIPE_API_URL"))
  }),
  razorpay: Config.all({
    keyId: Config.option(Config.string("RAZORPAY_KEY_ID")),
    keySecret: Config.option(Config.redacted("RAZORPAY_KEY_SECRET")),
    webhookSecret: Config.option(Config.redacted("RAZORPAY_WEBHOOK_SECRET")),
    apiUrl: Config.option(Config.url("RAZORPAY_API_URL"))
  }),
  /** Where Stripe's Checkout sends the buyer after paying, and after giving up (`{ORDER_ID}` is replaced). */
  successUrl: Config.string("PAYMENTS_SUCCESS_URL").pipe(
    Config.withDefault("http://localhost:8000/?payment=success&order_id={ORDER_ID}")
  ),
  cancelUrl: Config.string("PAYMENTS_CANCEL_URL").pipe(
    Config.withDefault("http://localhost:8000/?payment=cancelled&order_id={ORDER_ID}")
  ),
  /** A provider call slower than this fails the order creation (503) or the reconciliation of one order. */
  providerTimeout: duration("PAYMENTS_PROVIDER_TIMEOUT", "20 seconds"),
  /** How often reconciliation runs, and how old an order still waiting must be before the provider is asked. */
  reconcileInterval: duration("PAYMENTS_RECONCILE_INTERVAL", "5 minutes"),
  reconcileAfter: duration("PAYMENTS_RECONCILE_AFTER", "15 minutes"),
  /** An event left unapplied this long (its delivery died midway, or it waits for its payment) is applied by reconciliation. */
  retryEventsAfter: duration("PAYMENTS_RETRY_EVENTS_AFTER", "1 minute"),
  /** An order nobody paid is expired this long after its creation (Stripe's sessions expire after 24 h). */
  expireAfter: duration("PAYMENTS_EXPIRE_AFTER", "25 hours")
})

/** Data exports: how long a ready archive is served before it is deleted. */
export const ExportsConfig = Config.all({
  retention: duration("EXPORT_RETENTION", "24 hours").pipe(
    Config.validate({
      message: "EXPORT_RETENTION must be positive",
      validation: (d: Duration.Duration) => Duration.greaterThan(d, Duration.zero)
    })
  )
})

/** Housekeeping: retention, and the sweeps that finish purges whatever happened to their jobs. */
export const MaintenanceConfig = Config.all({
  /** When set, chats untouched for this many days are deleted and purged. */
  retentionDays: Config.option(Config.integer("DATA_RETENTION_DAYS").pipe(
    Config.validate({ message: "DATA_RETENTION_DAYS must be at least 1", validation: (days) => days >= 1 })
  )),
  /** How often the sweep runs (one run per interval across instances). */
  interval: duration("MAINTENANCE_INTERVAL", "10 minutes"),
  /** A deleted chat, or an erasure, still not purged this long after it was asked for is purged by the sweep. */
  purgeWithin: duration("PURGE_SWEEP_AFTER", "15 minutes")
})
