import * as z from 'zod/mini';
import { settings } from '../config.js';
import { defineFunction, json } from '../http/handler.js';
import { probeStore } from '../storage/table.js';
import { upstream as upstreamClient } from '../upstream/index.js';

const backendSchema = z.object({
  name: z.string(),
  priority: z.int(),
  weight: z.number(),
  state: z.enum(['healthy', 'cooling', 'open', 'half-open']),
  until: z
    .optional(z.string())
    .register(z.globalRegistry, { description: 'When the cool-down or open circuit ends (ISO time).' }),
  recent: z
    .object({ ok: z.int(), throttled: z.int(), failed: z.int(), rejected: z.int() })
    .register(z.globalRegistry, { description: 'Call outcomes in the last minute, on this instance.' }),
});

export const healthResponseSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  upstream: z.object({
    kind: z.enum(['azure-openai', 'openai-compatible', 'none']),
    host: z.nullable(z.string()),
    auth: z.string(),
    backends: z.array(backendSchema).register(z.globalRegistry, {
      description: "This instance's view of each backend: routing state is per instance.",
    }),
  }),
  store: z.object({
    kind: z.enum(['connection-string', 'table-endpoint', 'none']),
    host: z.nullable(z.string()),
    state: z
      .enum(['ok', 'down', 'unconfigured'])
      .register(z.globalRegistry, { description: 'From a probe made at most every 5 s; `down` also fails fast.' }),
  }),
});

const hostOf = (url: string | undefined) => (url ? new URL(url).host : null);

/** Which upstream and store this instance uses; hosts only, never keys or connection-string secrets. */
export async function describeDeployment(): Promise<z.infer<typeof healthResponseSchema>> {
  const s = settings();
  const upstream = upstreamClient().describe();
  const tableHost = s.AZURE_STORAGE_CONNECTION_STRING?.match(/TableEndpoint=([^;]+)/i)?.[1];
  const where = s.AZURE_STORAGE_TABLE_ENDPOINT
    ? { kind: 'table-endpoint' as const, host: hostOf(s.AZURE_STORAGE_TABLE_ENDPOINT) }
    : s.AZURE_STORAGE_CONNECTION_STRING
      ? { kind: 'connection-string' as const, host: tableHost ? hostOf(tableHost) : null }
      : { kind: 'none' as const, host: null };
  const state = where.kind === 'none' ? ('unconfigured' as const) : await probeStore(s.CONVERSATIONS_TABLE_NAME);
  const store = { ...where, state };
  // Degraded too when no backend is healthy right now (all cooling, or with open circuits).
  const noBackendFree = upstream.backends.length > 0 && upstream.backends.every((b) => b.state !== 'healthy');
  const status = upstream.kind === 'none' || state !== 'ok' || noBackendFree ? 'degraded' : 'ok';
  return { status, upstream, store };
}

export const healthFunctions = [
  defineFunction({
    name: 'health',
    route: 'v1/health',
    methods: ['GET'],
    docs: {
      summary: 'Whether the service can serve, and which upstream and store it uses.',
      tags: ['service'],
      responses: { 200: healthResponseSchema },
    },
    async handle() {
      return json(200, await describeDeployment());
    },
  }),
];
