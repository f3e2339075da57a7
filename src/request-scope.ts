import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What one request carries down its call tree: the id it answers with, and the ids upstream services gave it. */
export interface RequestScope {
  requestId: string;
  /** `apim-request-id` of each upstream answer (Azure OpenAI's id for a call), to log beside ours. */
  upstreamIds: string[];
}

const storage = new AsyncLocalStorage<RequestScope>();

export const runInRequestScope = <T>(scope: RequestScope, fn: () => T): T => storage.run(scope, fn);

/** Called by the upstream client for every answer; outside a request (tests, tools) it does nothing. */
export function noteUpstreamRequestId(id: string | string[] | undefined): void {
  const value = Array.isArray(id) ? id[0] : id;
  if (value) storage.getStore()?.upstreamIds.push(value.slice(0, 100));
}

/** A caller's `x-request-id` is reused when it is a plain token; anything else is replaced by our own. */
export function requestIdFor(incoming: string | null, fallback: string | undefined): string {
  return incoming && /^[A-Za-z0-9._:-]{1,128}$/.test(incoming) ? incoming : fallback || randomUUID();
}
