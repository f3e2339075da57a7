/** Faults on demand for tests, queued through POST /_sim/faults and consumed by the next data-plane requests. */
export interface Fault {
  kind: '429' | '500' | '503' | 'slow' | 'cut' | 'content_filter' | 'hang';
  count?: number;
  retryAfterMs?: number;
  retryAfterSeconds?: number;
  delayMs?: number;
  afterChunks?: number;
  deployment?: string;
}

export class FaultQueue {
  private queue: (Fault & { remaining: number })[] = [];

  add(fault: Fault): number {
    const remaining = Math.max(1, fault.count ?? 1);
    this.queue.push({ ...fault, remaining });
    return remaining;
  }

  /** The next fault that applies to this deployment, consuming one use of it. */
  take(deployment: string): Fault | undefined {
    const index = this.queue.findIndex((f) => !f.deployment || f.deployment === deployment);
    if (index < 0) return undefined;
    const fault = this.queue[index]!;
    if (--fault.remaining <= 0) this.queue.splice(index, 1);
    return fault;
  }

  clear() {
    this.queue = [];
  }
}

/** A tokens-per-minute budget over a sliding one-minute window, like Azure's deployment quota. */
export class TokenRateLimit {
  private entries: { at: number; tokens: number }[] = [];
  constructor(public tokensPerMinute: number | null = null) {}

  /** Milliseconds until `tokens` fit, or 0 when they fit now (and are then recorded). */
  admit(tokens: number, now = Date.now()): number {
    if (this.tokensPerMinute === null) return 0;
    this.entries = this.entries.filter((e) => now - e.at < 60_000);
    const used = this.entries.reduce((sum, e) => sum + e.tokens, 0);
    if (used + tokens <= this.tokensPerMinute || this.entries.length === 0) {
      this.entries.push({ at: now, tokens });
      return 0;
    }
    return Math.max(1, 60_000 - (now - this.entries[0]!.at));
  }

  remaining(now = Date.now()): number | null {
    if (this.tokensPerMinute === null) return null;
    const used = this.entries.filter((e) => now - e.at < 60_000).reduce((sum, e) => sum + e.tokens, 0);
    return Math.max(0, this.tokensPerMinute - used);
  }
}
