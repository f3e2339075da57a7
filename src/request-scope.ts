import { randomUUID } from 'node:crypto';

/**
 * A caller's `x-request-id` is reused when it is a plain token; anything else is replaced by our own. The id is
 * passed along explicitly, not through AsyncLocalStorage: an active AsyncLocalStorage turns on promise hooks for
 * the whole process, which cost several percent of every request's CPU.
 */
export function requestIdFor(incoming: string | null, fallback: string | undefined): string {
  return incoming && /^[A-Za-z0-9._:-]{1,128}$/.test(incoming) ? incoming : fallback || randomUUID();
}
