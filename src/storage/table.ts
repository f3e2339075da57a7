/**
 * Table Storage plumbing shared by every store: a connection string locally (Azurite), the table endpoint with
 * managed identity in Azure (no account keys). @azure/data-tables is loaded on first use only, and each table is
 * created once. Knows nothing of conversations or quotas.
 */
import type { TableClient } from '@azure/data-tables';
import { settings } from '../config.js';
import { azureCredential, storageAuthError } from '../azure/credential.js';
import { ApiError, serviceUnavailable } from '../errors.js';

const clients = new Map<string, Promise<TableClient>>();

/**
 * After the store was found unreachable, requests fail at once for a while instead of each waiting on SDK
 * retries; one request every TRIAL_EVERY_MS still goes through as a trial, and any success ends the outage.
 */
const FAIL_FAST_MS = 5_000;
const TRIAL_EVERY_MS = 500;
let downUntil = 0;
let lastTrial = 0;

function markDown(): void {
  downUntil = Date.now() + FAIL_FAST_MS;
}

/** Records that the store answered: the outage, if any, is over. */
export function markStoreUp(): void {
  downUntil = 0;
}

/** Fails fast (503) while the store is known to be down, but for the occasional trial request. */
export function assertStoreUp(now = Date.now()): void {
  if (now >= downUntil) return;
  if (now - lastTrial >= TRIAL_EVERY_MS) {
    lastTrial = now;
    return;
  }
  throw serviceUnavailable('The store is unavailable; try again shortly.', 'store_unavailable');
}

let probe: { at: number; result: Promise<'ok' | 'down'> } | undefined;
/** Whether the store answers, asked at most every few seconds (health checks must stay cheap). */
export function probeStore(tableName: string): Promise<'ok' | 'down'> {
  const now = Date.now();
  if (probe && now - probe.at < FAIL_FAST_MS) return probe.result;
  const result = (async () => {
    try {
      const table = await tableClient(tableName);
      await table.getEntity('health', 'probe').catch((error: unknown) => {
        if (statusOf(error) !== 404) throw error;
      });
      markStoreUp();
      return 'ok' as const;
    } catch (error) {
      storeError(error);
      return 'down' as const;
    }
  })();
  probe = { at: now, result };
  return result;
}

async function createClient(tableName: string): Promise<TableClient> {
  const s = settings();
  const tables = await import('@azure/data-tables');
  // Fewer, shorter SDK retries than its default (~7 s against a dead store): callers get a 503 quickly.
  const retryOptions = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1_000 };
  let client: TableClient;
  if (s.AZURE_STORAGE_TABLE_ENDPOINT) {
    const credential = await azureCredential(s);
    client = new tables.TableClient(s.AZURE_STORAGE_TABLE_ENDPOINT, tableName, credential, { retryOptions });
  } else if (s.AZURE_STORAGE_CONNECTION_STRING) {
    const local = /UseDevelopmentStorage=true|127\.0\.0\.1|localhost/i.test(s.AZURE_STORAGE_CONNECTION_STRING);
    client = tables.TableClient.fromConnectionString(s.AZURE_STORAGE_CONNECTION_STRING, tableName, {
      allowInsecureConnection: local,
      retryOptions,
    });
  } else {
    throw serviceUnavailable(
      'Storage is not configured (AZURE_STORAGE_TABLE_ENDPOINT or AZURE_STORAGE_CONNECTION_STRING).',
      'store_not_configured',
    );
  }
  try {
    await client.createTable();
    markStoreUp();
  } catch (error) {
    throw storeError(error);
  }
  return client;
}

export function tableClient(tableName: string): Promise<TableClient> {
  assertStoreUp();
  let client = clients.get(tableName);
  if (!client) {
    client = createClient(tableName);
    // A failed start (store down) must not stick: the next request tries again.
    client.catch(() => clients.delete(tableName));
    clients.set(tableName, client);
  }
  return client;
}

/** Runs one storage operation: failures become 503s (and start fail-fast), successes end an outage. */
export async function storeCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    const result = await operation();
    markStoreUp();
    return result;
  } catch (error) {
    throw storeError(error);
  }
}

export function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error
    ? (error as { statusCode?: number }).statusCode
    : undefined;
}

/** Storage failures the caller cannot fix: unreachable or failing store → 503. Never echoes connection details. */
export function storeError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const auth = storageAuthError(error);
  if (auth) return auth;
  const status = statusOf(error);
  if (status === 429 || status === 503 || status === 500 || status === undefined) {
    markDown();
    return serviceUnavailable('The store is unavailable; try again shortly.', 'store_unavailable');
  }
  return serviceUnavailable(`The store refused the operation (${status}).`, 'store_error');
}

/** A range filter over one partition's RowKeys, inclusive. */
export async function rowRangeFilter(partitionKey: string, from: string, to: string): Promise<string> {
  const { odata } = await import('@azure/data-tables');
  return odata`PartitionKey eq ${partitionKey} and RowKey ge ${from} and RowKey le ${to}`;
}

export async function partitionFilter(partitionKey: string): Promise<string> {
  const { odata } = await import('@azure/data-tables');
  return odata`PartitionKey eq ${partitionKey}`;
}

/** Runs `work` over `items` with at most `limit` in flight: fan-outs that depend on stored data stay bounded. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
