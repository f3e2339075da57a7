/**
 * Credentials for the upstream. Azure: managed identity through @azure/identity (a user-assigned identity when
 * AZURE_CLIENT_ID is set; DefaultAzureCredential elsewhere, e.g. a developer's `az login`), or an api-key only
 * when one is configured. Tokens are cached and refreshed five minutes before they expire; they are never logged.
 */
import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../config.js';

export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';
const REFRESH_MARGIN_MS = 5 * 60_000;

export type AuthHeaders = () => Promise<Record<string, string>>;

async function createCredential(settings: Settings): Promise<TokenCredential> {
  // Loaded on first use only: @azure/identity is large and most cold starts (tokenize, health) never need it.
  const identity = await import('@azure/identity');
  if (settings.AZURE_CLIENT_ID) return new identity.ManagedIdentityCredential({ clientId: settings.AZURE_CLIENT_ID });
  if (process.env.IDENTITY_ENDPOINT || process.env.MSI_ENDPOINT) return new identity.ManagedIdentityCredential();
  return new identity.DefaultAzureCredential();
}

export function bearerTokenAuth(settings: Settings, scope = COGNITIVE_SERVICES_SCOPE): AuthHeaders {
  let credential: Promise<TokenCredential> | undefined;
  let cached: { token: string; expiresAt: number } | undefined;
  let refreshing: Promise<{ token: string; expiresAt: number }> | undefined;
  return async () => {
    if (!cached || Date.now() > cached.expiresAt - REFRESH_MARGIN_MS) {
      // One refresh at a time: concurrent requests wait for the same token.
      refreshing ??= (async () => {
        credential ??= createCredential(settings);
        const token = await (await credential).getToken(scope);
        if (!token) throw new Error('the credential returned no token');
        return { token: token.token, expiresAt: token.expiresOnTimestamp };
      })().finally(() => (refreshing = undefined));
      cached = await refreshing;
    }
    return { authorization: `Bearer ${cached.token}` };
  };
}

export function upstreamAuth(settings: Settings): AuthHeaders {
  if (settings.OPENAI_BASE_URL) {
    const headers: Record<string, string> = settings.OPENAI_API_KEY ? { authorization: `Bearer ${settings.OPENAI_API_KEY}` } : {};
    return async () => headers;
  }
  if (settings.AZURE_OPENAI_API_KEY) {
    const headers = { 'api-key': settings.AZURE_OPENAI_API_KEY };
    return async () => headers;
  }
  return bearerTokenAuth(settings);
}
