/**
 * The list of Azure OpenAI backends: AZURE_OPENAI_BACKENDS when set, else the one AZURE_OPENAI_ENDPOINT.
 * Every backend serves the same deployment names; they differ in region, quota and price.
 */
import * as z from 'zod/mini';
import '../schemas/locale.js';
import { ConfigError, type Settings } from '../config.js';

export interface BackendConfig {
  /** Shown in health, logs and the x-backend header; never a secret. */
  name: string;
  endpoint: string;
  /** Lower is preferred; a higher priority takes traffic only while every lower one is cooling or open. */
  priority: number;
  /** Share of traffic among backends of the same priority. */
  weight: number;
  apiVersion: string;
}

const entrySchema = z.strictObject({
  endpoint: z.url({ protocol: /^https?$/ }),
  priority: z._default(z.int().check(z.gte(0)), 1),
  weight: z._default(z.number().check(z.positive(), z.lte(1000)), 1),
  apiVersion: z.optional(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/))),
  name: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, . _ - (at most 63)')),
  ),
});

/** Parses AZURE_OPENAI_BACKENDS; a bad entry is named by its index (and name when it has one), never its values. */
export function parseBackends(text: string, defaultApiVersion: string): BackendConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError(
      'Invalid configuration: AZURE_OPENAI_BACKENDS is not valid JSON (expected an array of backends).',
    );
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError(
      'Invalid configuration: AZURE_OPENAI_BACKENDS must be a non-empty JSON array of { endpoint, priority, weight }.',
    );
  }
  const backends = raw.map((entry, index): BackendConfig => {
    const result = entrySchema.safeParse(entry);
    if (!result.success) {
      const named =
        entry && typeof entry === 'object' && typeof (entry as { name?: unknown }).name === 'string'
          ? ` ("${String((entry as { name: string }).name).slice(0, 63)}")`
          : '';
      const problems = result.error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`).join('; ');
      throw new ConfigError(`Invalid configuration: AZURE_OPENAI_BACKENDS[${index}]${named}: ${problems}`);
    }
    const { endpoint, priority, weight, apiVersion, name } = result.data;
    return {
      name: name ?? new URL(endpoint).host,
      endpoint: endpoint.replace(/\/+$/, ''),
      priority,
      weight,
      apiVersion: apiVersion ?? defaultApiVersion,
    };
  });
  const seen = new Set<string>();
  backends.forEach((backend, index) => {
    if (seen.has(backend.name)) {
      throw new ConfigError(
        `Invalid configuration: AZURE_OPENAI_BACKENDS[${index}]: the name "${backend.name}" is used twice; ` +
          'give each backend a distinct name.',
      );
    }
    seen.add(backend.name);
  });
  return backends;
}

/** The configured Azure backends; `routed: false` is the single-endpoint setup of old (no routing state). */
export function azureBackends(settings: Settings): { backends: BackendConfig[]; routed: boolean } {
  if (settings.AZURE_OPENAI_BACKENDS)
    return { backends: parseBackends(settings.AZURE_OPENAI_BACKENDS, settings.AZURE_OPENAI_API_VERSION), routed: true };
  if (!settings.AZURE_OPENAI_ENDPOINT) return { backends: [], routed: false };
  const endpoint = settings.AZURE_OPENAI_ENDPOINT.replace(/\/+$/, '');
  return {
    backends: [
      { name: new URL(endpoint).host, endpoint, priority: 1, weight: 1, apiVersion: settings.AZURE_OPENAI_API_VERSION },
    ],
    routed: false,
  };
}
