/**
 * One provider per kind of upstream, chosen once from the settings: it owns the URL of a call, its wire body,
 * its authentication, how its errors read, and how health describes it. Adding a kind of upstream means
 * adding one function here that returns an UpstreamProvider.
 */
import type { Settings } from '../config.js';
import { azureCredential } from '../azure/credential.js';
import { bearerTokenAuth, staticAuth, type AuthHeaders, type CredentialSource } from './auth.js';
import { azureBackends, type BackendConfig } from './backends.js';
import { failureOf, UpstreamError, type WireError } from './errors.js';
import type { IncomingHttpHeaders } from 'node:http';

export type Capability = 'chat' | 'completions' | 'embeddings';
export type ProviderKind = 'azure-openai' | 'openai-compatible' | 'none';

const PATHS: Record<Capability, string> = {
  chat: 'chat/completions',
  completions: 'completions',
  embeddings: 'embeddings',
};

export interface UpstreamProvider {
  kind: ProviderKind;
  /** What health reports of authentication: a kind, never a key or token. */
  authKind: 'api-key' | 'managed-identity' | 'none';
  /** Where calls can go; routing between several needs `routed` (state per backend). */
  backends: BackendConfig[];
  routed: boolean;
  auth: AuthHeaders;
  /** The URL of a call to one backend (the same object each time for the same arguments). */
  url(backend: BackendConfig, capability: Capability, deployment: string): URL;
  /** The body as this upstream wants it: Azure names the deployment in the URL, OpenAI in `model`. */
  wireBody(deployment: string, body: Record<string, unknown>): Record<string, unknown>;
  /** A non-2xx answer as an UpstreamError. */
  failure(status: number, headers: IncomingHttpHeaders, text: string): UpstreamError;
}

export interface ProviderDependencies {
  /** The credential for managed identity; the default picks one from AZURE_CLIENT_ID and the platform. */
  credential?: CredentialSource;
}

/** A per-backend cache of URLs: the deployments are a short configured list, so this stays small. */
function urlCache(build: (backend: BackendConfig, capability: Capability, deployment: string) => URL) {
  // Nested maps, not one string key: building and hashing a key string per request cost more than the lookups.
  const cache = new Map<BackendConfig, Map<Capability, Map<string, URL>>>();
  let size = 0;
  return (backend: BackendConfig, capability: Capability, deployment: string) => {
    let byCapability = cache.get(backend);
    if (!byCapability) cache.set(backend, (byCapability = new Map<Capability, Map<string, URL>>()));
    let byDeployment = byCapability.get(capability);
    if (!byDeployment) byCapability.set(capability, (byDeployment = new Map<string, URL>()));
    let url = byDeployment.get(deployment);
    if (!url) {
      url = build(backend, capability, deployment);
      if (size < 1000) {
        byDeployment.set(deployment, url);
        size++;
      }
    }
    return url;
  };
}

/** Azure's content-filter refusal: the error code, or its inner ResponsibleAIPolicyViolation code. */
const azureContentFilter = (e: WireError) =>
  e.code === 'content_filter' || e.innererror?.code === 'ResponsibleAIPolicyViolation';

export function azureOpenAiProvider(settings: Settings, deps: ProviderDependencies = {}): UpstreamProvider {
  const { backends, routed } = azureBackends(settings);
  const apiKey = settings.AZURE_OPENAI_API_KEY;
  return {
    kind: 'azure-openai',
    authKind: apiKey ? 'api-key' : 'managed-identity',
    backends,
    routed,
    // One token scope covers every Azure OpenAI resource, so one credential serves all backends.
    auth: apiKey
      ? staticAuth({ 'api-key': apiKey })
      : bearerTokenAuth(deps.credential ?? (() => azureCredential(settings))),
    url: urlCache((backend, capability, deployment) => {
      const url = new URL(
        `${backend.endpoint}/openai/deployments/${encodeURIComponent(deployment)}/${PATHS[capability]}`,
      );
      url.searchParams.set('api-version', backend.apiVersion);
      return url;
    }),
    wireBody: (_deployment, body) => body,
    failure: (status, headers, text) => failureOf(status, headers, text, azureContentFilter),
  };
}

export function openAiCompatibleProvider(settings: Settings): UpstreamProvider {
  const base = settings.OPENAI_BASE_URL!.replace(/\/+$/, '');
  const backend: BackendConfig = { name: new URL(base).host, endpoint: base, priority: 1, weight: 1, apiVersion: '' };
  return {
    kind: 'openai-compatible',
    authKind: settings.OPENAI_API_KEY ? 'api-key' : 'none',
    backends: [backend],
    routed: false,
    auth: staticAuth(settings.OPENAI_API_KEY ? { authorization: `Bearer ${settings.OPENAI_API_KEY}` } : {}),
    url: urlCache((b, capability) => new URL(`${b.endpoint}/${PATHS[capability]}`)),
    wireBody: (deployment, body) => Object.assign({}, body, { model: deployment }), // (not a spread: Node 20)
    failure: (status, headers, text) => failureOf(status, headers, text, (e) => e.code === 'content_filter'),
  };
}

/** No upstream configured: every call answers that, and health says degraded. */
export function noProvider(): UpstreamProvider {
  const missing = () => new UpstreamError('not_configured', 'No model endpoint is configured (AZURE_OPENAI_ENDPOINT).');
  return {
    kind: 'none',
    authKind: 'none',
    backends: [],
    routed: false,
    auth: staticAuth({}),
    url: () => {
      throw missing();
    },
    wireBody: (_deployment, body) => body,
    failure: () => missing(),
  };
}

/** The provider the settings describe; an OpenAI-compatible base URL wins over Azure, as it always has. */
export function chooseProvider(settings: Settings, deps: ProviderDependencies = {}): UpstreamProvider {
  if (settings.OPENAI_BASE_URL) return openAiCompatibleProvider(settings);
  if (settings.AZURE_OPENAI_BACKENDS || settings.AZURE_OPENAI_ENDPOINT) return azureOpenAiProvider(settings, deps);
  return noProvider();
}
