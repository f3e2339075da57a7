import { tooManyRequests } from '../errors.js';
import type { QuotaStore } from './quota-store.js';
import { markStoreUp, statusOf, storeError, tableClient } from './table.js';

/** Quota counters in Table Storage: one entity per window, written under its ETag. */
export class TableQuotaStore implements QuotaStore {
  constructor(private readonly tableName = 'quotas') {}

  async update(partition: string, window: string, change: (used: number) => number): Promise<number> {
    const table = await tableClient(this.tableName);
    for (let attempt = 0; attempt < 20; attempt++) {
      let used = 0;
      let etag: string | undefined;
      try {
        const entity = await table.getEntity<{ used: number }>(partition, window);
        used = Number(entity.used);
        etag = entity.etag;
      } catch (error) {
        if (statusOf(error) !== 404) throw storeError(error);
      }
      const next = change(used);
      try {
        if (etag) await table.updateEntity({ partitionKey: partition, rowKey: window, used: next }, 'Merge', { etag });
        else await table.createEntity({ partitionKey: partition, rowKey: window, used: next });
        markStoreUp();
        return next;
      } catch (error) {
        const status = statusOf(error);
        if (status === 412 || status === 409) continue; // another request moved it first: read again
        throw storeError(error);
      }
    }
    throw tooManyRequests('Token quota is under heavy contention; retry shortly.', 1, 'quota_contention');
  }

  async read(partition: string, window: string): Promise<number> {
    const table = await tableClient(this.tableName);
    try {
      return Number((await table.getEntity<{ used: number }>(partition, window)).used);
    } catch (error) {
      if (statusOf(error) === 404) return 0;
      throw storeError(error);
    }
  }
}
