/**
 * Credentials for the upstream. Azure: the shared credential of src/azure/credential.ts (managed identity in Azure,
 * DefaultAzureCredential for a developer's `az login`), or an api-key only when one is configured. Tokens are cached
 * and refreshed five minutes before they expire; they are never logged.
 */
import type { Settings } from '../config.js';
import { azureCredential, COGNITIVE_SERVICES_SCOPE } from '../azure/credential.js';

export { COGNITIVE_SERVICES_SCOPE };
const REFRESH_MARGIN_MS = 5 * 60_000;

export type AuthHeaders = () => Promise<Record<string, string>>;

export function bearerTokenAuth(settings: Settings, scope = COGNITIVE_SERVICES_SCOPE): AuthHeaders {
  let cached: { token: string; expiresAt: number } | undefined;
  let refreshing: Promise<{ token: string; expiresAt: number }> | undefined;
  return async () => {
    if (!cached || Date.now() > cached.expiresAt - REFRESH_MARGIN_MS) {
      // One refresh at a time: concurrent requests wait for the same token.
      refreshing ??= (async () => {
        const token = await (await azureCredential(settings)).getToken(scope);
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
