/**
 * Where token-quota counters live. A counter is one number per (partition, window); `update` is an atomic
 * read-modify-write, so concurrent requests on every instance see one consistent figure.
 */
export interface QuotaStore {
  /**
   * Replaces the counter with `change(current)` atomically (retrying lost races) and returns the new value.
   * `change` may throw to refuse; the counter is then left as it was. A missing counter reads as 0.
   */
  update(partition: string, window: string, change: (used: number) => number): Promise<number>;
  read(partition: string, window: string): Promise<number>;
}
