/**
 * Headers that authenticate an upstream call. Which kind a deployment uses is the provider's choice
 * (providers.ts); this file only makes them. Tokens are cached and refreshed five minutes before they
 * expire; they are never logged.
 */
import type { TokenCredential } from '@azure/identity';
import { COGNITIVE_SERVICES_SCOPE } from '../azure/credential.js';

export { COGNITIVE_SERVICES_SCOPE };
const REFRESH_MARGIN_MS = 5 * 60_000;

/** Fixed headers come back as they are (no promise, no microtask per call); token headers once one is at hand. */
export type AuthHeaders = () => Record<string, string> | Promise<Record<string, string>>;

/** A credential made on first use (so @azure/identity, which is large, loads only when a token is needed). The
 * default is the app's one credential selection, src/azure/credential.ts (shared with Table Storage). */
export type CredentialSource = () => Promise<TokenCredential>;

/** `authorization: Bearer <token>` from a credential; one refresh at a time, shared by concurrent calls. */
export function bearerTokenAuth(source: CredentialSource, scope = COGNITIVE_SERVICES_SCOPE): AuthHeaders {
  let credential: Promise<TokenCredential> | undefined;
  let cached: { headers: Record<string, string>; expiresAt: number } | undefined;
  let refreshing: Promise<{ headers: Record<string, string>; expiresAt: number }> | undefined;
  const refresh = async () => {
    refreshing ??= (async () => {
      credential ??= source();
      const token = await (await credential).getToken(scope);
      if (!token) throw new Error('the credential returned no token');
      return { headers: { authorization: `Bearer ${token.token}` }, expiresAt: token.expiresOnTimestamp };
    })().finally(() => (refreshing = undefined));
    cached = await refreshing;
    return cached.headers;
  };
  // A fresh token is handed out as it is; only a refresh is asynchronous.
  return () => (cached && Date.now() <= cached.expiresAt - REFRESH_MARGIN_MS ? cached.headers : refresh());
}

/** Fixed headers (an api-key, or none). */
export function staticAuth(headers: Record<string, string>): AuthHeaders {
  return () => headers;
}
