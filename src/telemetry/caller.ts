import { createHmac } from 'node:crypto';

export const ANONYMOUS_CALLER = 'anonymous';

const cache = new Map<string, string>();

/**
 * A caller's stable pseudonym for telemetry: HMAC-SHA256 of the principal id under a per-deployment salt,
 * 16 base64url characters (96 bits). The same user always gets the same value (dashboards can group by it, an
 * operator who knows an id can find its rows by hashing it), but the logs alone do not reveal who it is.
 */
export function callerHash(principalId: string | null | undefined, salt: string): string {
  if (!principalId) return ANONYMOUS_CALLER;
  const key = `${salt}\u0000${principalId}`;
  let hash = cache.get(key);
  if (!hash) {
    hash = createHmac('sha256', salt).update(principalId).digest('base64url').slice(0, 16);
    if (cache.size > 10_000) cache.clear();
    cache.set(key, hash);
  }
  return hash;
}
