import type { QuotaStore } from './quota-store.js';

/** Quota counters in this process's memory: for unit tests and the store contract suite, never for production. */
export class MemoryQuotaStore implements QuotaStore {
  private readonly counters = new Map<string, number>();

  async update(partition: string, window: string, change: (used: number) => number): Promise<number> {
    const key = `${partition}\u0000${window}`;
    const next = change(this.counters.get(key) ?? 0);
    this.counters.set(key, next);
    return next;
  }

  async read(partition: string, window: string): Promise<number> {
    return this.counters.get(`${partition}\u0000${window}`) ?? 0;
  }
}
