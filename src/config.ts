import * as z from 'zod/mini';
import './schemas/locale.js';

/** Comma-separated list → trimmed, non-empty items. */
const list = z.pipe(
  z.string(),
  z.transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  ),
);

const bool = z.pipe(
  z.enum(['true', 'false', '1', '0', 'yes', 'no', '']),
  z.transform((v) => v === 'true' || v === '1' || v === 'yes'),
);

const positiveInt = z.coerce.number().check(z.int(), z.positive());
const nonNegativeInt = z.coerce.number().check(z.int(), z.nonnegative());

/**
 * Every setting the app reads, in one schema. Names are environment variables
 * (app settings in Azure, `Values` in local.settings.json). The infra checks
 * compare this list with what the Bicep sets, so add settings only here.
 */
export const settingsSchema = z.object({
  // Upstream: Azure OpenAI data plane. Unset locally → `npm start` points it at the simulator.
  AZURE_OPENAI_ENDPOINT: z.optional(z.url()),
  /**
   * Several backends serving the same deployments: a JSON array of { endpoint, priority, weight, apiVersion?, name? }
   * (validated at first use, see src/upstream/backends.ts). Set → it replaces AZURE_OPENAI_ENDPOINT.
   */
  AZURE_OPENAI_BACKENDS: z.optional(z.string().check(z.minLength(1))),
  /** Only where managed identity does not apply (the simulator, a key-only resource). */
  AZURE_OPENAI_API_KEY: z.optional(z.string().check(z.minLength(1))),
  AZURE_OPENAI_API_VERSION: z._default(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/)), '2024-10-21'),
  /**
   * Deployment names per capability, comma-separated; the first is the default. Each name is also the `model` alias
   * callers use.
   */
  AZURE_OPENAI_CHAT_DEPLOYMENTS: z._default(list, ['gpt-4o-mini']),
  AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS: z._default(list, ['gpt-35-turbo-instruct']),
  AZURE_OPENAI_EMBEDDINGS_DEPLOYMENTS: z._default(list, ['text-embedding-3-small']),
  /** An OpenAI-compatible server instead of Azure (e.g. a local Ollama at http://127.0.0.1:11434/v1). */
  OPENAI_BASE_URL: z.optional(z.url()),
  OPENAI_API_KEY: z.optional(z.string().check(z.minLength(1))),
  /** Client id of the user-assigned managed identity (set by infra). */
  AZURE_CLIENT_ID: z.optional(z.string().check(z.minLength(1))),

  // Upstream reliability.
  UPSTREAM_TIMEOUT_MS: z._default(positiveInt, 60_000),
  UPSTREAM_MAX_RETRIES: z._default(nonNegativeInt, 3),
  UPSTREAM_RETRY_DEADLINE_MS: z._default(positiveInt, 30_000),
  STREAM_IDLE_TIMEOUT_MS: z._default(positiveInt, 30_000),
  /**
   * Circuit breaker per backend (with AZURE_OPENAI_BACKENDS): this many 5xx/connection failures within the window open
   * it.
   */
  UPSTREAM_BREAKER_FAILURES: z._default(positiveInt, 5),
  UPSTREAM_BREAKER_WINDOW_MS: z._default(positiveInt, 10_000),
  /** How long an open circuit refuses calls before one trial call may close it again. */
  UPSTREAM_BREAKER_COOLDOWN_MS: z._default(positiveInt, 30_000),
  /** `debug` logs every routing decision (which backend, and why another was skipped). */
  LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),

  // Conversation storage: a connection string locally (Azurite), the table endpoint with managed identity in Azure.
  AZURE_STORAGE_CONNECTION_STRING: z.optional(z.string().check(z.minLength(1))),
  AZURE_STORAGE_TABLE_ENDPOINT: z.optional(z.url()),
  CONVERSATIONS_TABLE_NAME: z._default(z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/)), 'conversations'),
  /** Overrides the model's context window for conversation trimming (tests, or a smaller budget). */
  CONVERSATION_CONTEXT_TOKENS: z.optional(positiveInt),
  /** Most conversations one user may keep; creating more answers 403 until some are deleted. */
  CONVERSATIONS_PER_USER: z._default(positiveInt, 1000),

  // Caller identity and browser access.
  /** Trust App Service authentication headers (x-ms-client-principal-*). True locally and behind Easy Auth only. */
  TRUST_PRINCIPAL_HEADERS: z._default(bool, false),
  CORS_ALLOWED_ORIGINS: z._default(list, []),
  /** Also allow any loopback origin (http://localhost:*, 127.0.0.1, [::1]): `npm start` sets it; never in Azure. */
  CORS_ALLOW_LOOPBACK: z._default(bool, false),
  MAX_REQUEST_BODY_BYTES: z._default(positiveInt, 4 * 1024 * 1024),

  // Per-user token quotas; 0 turns a limit off.
  QUOTA_TOKENS_PER_MINUTE: z._default(nonNegativeInt, 0),
  QUOTA_TOKENS_PER_DAY: z._default(nonNegativeInt, 0),

  // Telemetry (docs/telemetry.md).
  /** One record per request through the Functions logger: a readable line (`text`) or JSON lines (`json`, Azure). */
  LOG_FORMAT: z._default(z.enum(['text', 'json']), 'text'),
  /** Salt of the caller hash in records and metrics; set per deployment so hashes are stable but not guessable. */
  TELEMETRY_CALLER_SALT: z._default(z.string().check(z.minLength(1)), 'local-development'),
  /** Set by the function app module (it is also the host's): turns the metrics export to Azure Monitor on. */
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.optional(z.string().check(z.minLength(1))),
});

export type Settings = z.infer<typeof settingsSchema>;
export const settingNames = Object.keys(settingsSchema.shape) as (keyof Settings)[];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Deployment lists set but empty mean "none" (infra leaves an optional capability off so), not the local default. */
const EMPTY_MEANS_NONE = new Set<string>([
  'AZURE_OPENAI_CHAT_DEPLOYMENTS',
  'AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS',
  'AZURE_OPENAI_EMBEDDINGS_DEPLOYMENTS',
]);

/** Validates the environment once; the message names each bad setting but never echoes its value. */
export function parseSettings(env: Record<string, string | undefined>): Settings {
  const input: Record<string, string> = {};
  for (const name of settingNames) {
    const value = env[name];
    if (value !== undefined && (value !== '' || EMPTY_MEANS_NONE.has(name))) input[name] = value;
  }
  const result = settingsSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

let cached: Settings | undefined;

export function settings(): Settings {
  cached ??= parseSettings(process.env);
  return cached;
}
