import { z } from 'zod';
import { settings } from '../config.js';
import { defineFunction, json } from '../http/handler.js';
import { probeStore } from '../storage/table.js';

export const healthResponseSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  upstream: z.object({ kind: z.enum(['azure-openai', 'openai-compatible', 'none']), host: z.string().nullable(), auth: z.string() }),
  store: z.object({
    kind: z.enum(['connection-string', 'table-endpoint', 'none']),
    host: z.string().nullable(),
    state: z.enum(['ok', 'down', 'unconfigured']).describe('From a probe made at most every 5 s; `down` also fails fast.'),
  }),
});

const hostOf = (url: string | undefined) => (url ? new URL(url).host : null);

/** Which upstream and store this instance uses; hosts only, never keys or connection-string secrets. */
export async function describeDeployment(): Promise<z.infer<typeof healthResponseSchema>> {
  const s = settings();
  const upstream = s.OPENAI_BASE_URL
    ? { kind: 'openai-compatible' as const, host: hostOf(s.OPENAI_BASE_URL), auth: s.OPENAI_API_KEY ? 'api-key' : 'none' }
    : s.AZURE_OPENAI_ENDPOINT
      ? { kind: 'azure-openai' as const, host: hostOf(s.AZURE_OPENAI_ENDPOINT), auth: s.AZURE_OPENAI_API_KEY ? 'api-key' : 'managed-identity' }
      : { kind: 'none' as const, host: null, auth: 'none' };
  const tableHost = s.AZURE_STORAGE_CONNECTION_STRING?.match(/TableEndpoint=([^;]+)/i)?.[1];
  const where = s.AZURE_STORAGE_TABLE_ENDPOINT
    ? { kind: 'table-endpoint' as const, host: hostOf(s.AZURE_STORAGE_TABLE_ENDPOINT) }
    : s.AZURE_STORAGE_CONNECTION_STRING
      ? { kind: 'connection-string' as const, host: tableHost ? hostOf(tableHost) : null }
      : { kind: 'none' as const, host: null };
  const state = where.kind === 'none' ? ('unconfigured' as const) : await probeStore(s.CONVERSATIONS_TABLE_NAME);
  const store = { ...where, state };
  const status = upstream.kind === 'none' || state !== 'ok' ? 'degraded' : 'ok';
  return { status, upstream, store };
}

export const healthFunctions = [
  defineFunction({
    name: 'health',
    route: 'v1/health',
    methods: ['GET'],
    docs: { summary: 'Whether the service can serve, and which upstream and store it uses.', tags: ['service'], responses: { 200: healthResponseSchema } },
    async handle() {
      return json(200, await describeDeployment());
    },
  }),
];
