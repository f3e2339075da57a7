/**
 * Table Storage access: a connection string locally (Azurite), the table endpoint with managed identity in
 * Azure (no account keys). @azure/data-tables is loaded on first use only, and each table is created once.
 */
import type { TableClient } from '@azure/data-tables';
import { settings } from '../config.js';
import { azureCredential, storageAuthError } from '../azure/credential.js';
import { ApiError, serviceUnavailable } from '../http/errors.js';

const clients = new Map<string, Promise<TableClient>>();

async function createClient(tableName: string): Promise<TableClient> {
  const s = settings();
  const tables = await import('@azure/data-tables');
  let client: TableClient;
  if (s.AZURE_STORAGE_TABLE_ENDPOINT) {
    client = new tables.TableClient(s.AZURE_STORAGE_TABLE_ENDPOINT, tableName, await azureCredential(s));
  } else if (s.AZURE_STORAGE_CONNECTION_STRING) {
    const local = /UseDevelopmentStorage=true|127\.0\.0\.1|localhost/i.test(s.AZURE_STORAGE_CONNECTION_STRING);
    client = tables.TableClient.fromConnectionString(s.AZURE_STORAGE_CONNECTION_STRING, tableName, { allowInsecureConnection: local });
  } else {
    throw serviceUnavailable('Conversation storage is not configured (AZURE_STORAGE_TABLE_ENDPOINT or AZURE_STORAGE_CONNECTION_STRING).', 'store_not_configured');
  }
  try {
    await client.createTable();
  } catch (error) {
    throw storeError(error);
  }
  return client;
}

export function tableClient(tableName: string): Promise<TableClient> {
  let client = clients.get(tableName);
  if (!client) {
    client = createClient(tableName);
    // A failed start (store down) must not stick: the next request tries again.
    client.catch(() => clients.delete(tableName));
    clients.set(tableName, client);
  }
  return client;
}

export function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error ? (error as { statusCode?: number }).statusCode : undefined;
}

/** Storage failures the caller cannot fix: unreachable or failing store → 503. Never echoes connection details. */
export function storeError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const auth = storageAuthError(error);
  if (auth) return auth;
  const status = statusOf(error);
  if (status === 429 || status === 503 || status === 500 || status === undefined) {
    return serviceUnavailable('The conversation store is unavailable; try again shortly.', 'store_unavailable');
  }
  return new ApiError(503, 'service_unavailable', `The conversation store refused the operation (${status}).`, null, 'store_error');
}
