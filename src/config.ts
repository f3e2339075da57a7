import { z } from 'zod';

/** Comma-separated list → trimmed, non-empty items. */
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();

/**
 * Every setting the app reads, in one schema. Names are environment variables
 * (app settings in Azure, `Values` in local.settings.json). The infra checks
 * compare this list with what the Bicep sets, so add settings only here.
 */
export const settingsSchema = z.object({
  // Upstream: Azure OpenAI data plane. Unset locally → `npm start` points it at the simulator.
  AZURE_OPENAI_ENDPOINT: z.url().optional(),
  /**
   * Several backends serving the same deployments: a JSON array of { endpoint, priority, weight, apiVersion?, name? }
   * (validated at first use, see src/upstream/backends.ts). Set → it replaces AZURE_OPENAI_ENDPOINT.
   */
  AZURE_OPENAI_BACKENDS: z.string().min(1).optional(),
  /** Only where managed identity does not apply (the simulator, a key-only resource). */
  AZURE_OPENAI_API_KEY: z.string().min(1).optional(),
  AZURE_OPENAI_API_VERSION: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/)
    .default('2024-10-21'),
  /**
   * Deployment names per capability, comma-separated; the first is the default. Each name is also the `model` alias
   * callers use.
   */
  AZURE_OPENAI_CHAT_DEPLOYMENTS: list.default(['gpt-4o-mini']),
  AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS: list.default(['gpt-35-turbo-instruct']),
  AZURE_OPENAI_EMBEDDINGS_DEPLOYMENTS: list.default(['text-embedding-3-small']),
  /** An OpenAI-compatible server instead of Azure (e.g. a local Ollama at http://127.0.0.1:11434/v1). */
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  /** Client id of the user-assigned managed identity (set by infra). */
  AZURE_CLIENT_ID: z.string().min(1).optional(),

  // Upstream reliability.
  UPSTREAM_TIMEOUT_MS: positiveInt.default(60_000),
  UPSTREAM_MAX_RETRIES: nonNegativeInt.default(3),
  UPSTREAM_RETRY_DEADLINE_MS: positiveInt.default(30_000),
  STREAM_IDLE_TIMEOUT_MS: positiveInt.default(30_000),
  /**
   * Circuit breaker per backend (with AZURE_OPENAI_BACKENDS): this many 5xx/connection failures within the window open
   * it.
   */
  UPSTREAM_BREAKER_FAILURES: positiveInt.default(5),
  UPSTREAM_BREAKER_WINDOW_MS: positiveInt.default(10_000),
  /** How long an open circuit refuses calls before one trial call may close it again. */
  UPSTREAM_BREAKER_COOLDOWN_MS: positiveInt.default(30_000),
  /** `debug` logs every routing decision (which backend, and why another was skipped). */
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),

  // Conversation storage: a connection string locally (Azurite), the table endpoint with managed identity in Azure.
  AZURE_STORAGE_CONNECTION_STRING: z.string().min(1).optional(),
  AZURE_STORAGE_TABLE_ENDPOINT: z.url().optional(),
  CONVERSATIONS_TABLE_NAME: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/)
    .default('conversations'),
  /** Overrides the model's context window for conversation trimming (tests, or a smaller budget). */
  CONVERSATION_CONTEXT_TOKENS: positiveInt.optional(),
  /** Most conversations one user may keep; creating more answers 403 until some are deleted. */
  CONVERSATIONS_PER_USER: positiveInt.default(1000),

  // Caller identity and browser access.
  /** Trust App Service authentication headers (x-ms-client-principal-*). True locally and behind Easy Auth only. */
  TRUST_PRINCIPAL_HEADERS: bool.default(false),
  CORS_ALLOWED_ORIGINS: list.default([]),
  /** Also allow any loopback origin (http://localhost:*, 127.0.0.1, [::1]): `npm start` sets it; never in Azure. */
  CORS_ALLOW_LOOPBACK: bool.default(false),
  MAX_REQUEST_BODY_BYTES: positiveInt.default(4 * 1024 * 1024),

  // Per-user token quotas; 0 turns a limit off.
  QUOTA_TOKENS_PER_MINUTE: nonNegativeInt.default(0),
  QUOTA_TOKENS_PER_DAY: nonNegativeInt.default(0),

  // Telemetry (docs/telemetry.md).
  /** One record per request through the Functions logger: a readable line (`text`) or JSON lines (`json`, Azure). */
  LOG_FORMAT: z.enum(['text', 'json']).default('text'),
  /** Salt of the caller hash in records and metrics; set per deployment so hashes are stable but not guessable. */
  TELEMETRY_CALLER_SALT: z.string().min(1).default('local-development'),
  /** Set by the function app module (it is also the host's): turns the metrics export to Azure Monitor on. */
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().min(1).optional(),
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
