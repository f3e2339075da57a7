/**
 * Which backend a call goes to. Lowest priority number first; weighted random among the available backends
 * of that priority. A 429 cools a backend for its retry-after; 5xx, connection errors and timeouts feed a
 * circuit breaker (N failures within a window open it for a cool-down, then one trial call half-opens it).
 *
 * State is per process (each Functions instance learns on its own) and fixed in size: a few numbers per
 * backend, a ring of the last N failure times and six 10-second count buckets; nothing grows with traffic.
 * With `routed: false` (one AZURE_OPENAI_ENDPOINT, as before backends existed) only the counts are kept:
 * no cool-down or breaker, so one backend behaves exactly as it did.
 */
import type { BackendConfig } from './backends.js';

export interface BreakerOptions {
  /** Failures within `windowMs` that open the circuit. */
  failures: number;
  windowMs: number;
  /** How long an open circuit refuses calls before it lets one trial through. */
  cooldownMs: number;
}

export type BackendState = 'healthy' | 'cooling' | 'open' | 'half-open';
export type Outcome = 'ok' | 'throttled' | 'failed' | 'rejected';

const OUTCOMES: Outcome[] = ['ok', 'throttled', 'failed', 'rejected'];
const BUCKET_MS = 10_000;
const BUCKETS = 6;

/** Outcome counts over the last minute, in six 10-second buckets. */
class RecentCounts {
  private readonly slots = new Float64Array(BUCKETS).fill(-1);
  private readonly counts = new Uint32Array(BUCKETS * OUTCOMES.length);

  add(outcome: number, now: number) {
    const slot = Math.floor(now / BUCKET_MS);
    const i = slot % BUCKETS;
    if (this.slots[i] !== slot) {
      this.slots[i] = slot;
      this.counts.fill(0, i * OUTCOMES.length, (i + 1) * OUTCOMES.length);
    }
    this.counts[i * OUTCOMES.length + outcome]!++;
  }

  sum(now: number): Record<Outcome, number> {
    const slot = Math.floor(now / BUCKET_MS);
    const total = { ok: 0, throttled: 0, failed: 0, rejected: 0 };
    for (let i = 0; i < BUCKETS; i++) {
      if (slot - this.slots[i]! >= BUCKETS) continue;
      OUTCOMES.forEach((name, o) => (total[name] += this.counts[i * OUTCOMES.length + o]!));
    }
    return total;
  }
}

export class Backend {
  coolingUntil = 0;
  breaker: 'closed' | 'open' = 'closed';
  openUntil = 0;
  trialInFlight = false;
  private readonly failureTimes: Float64Array;
  private next = 0;
  private recorded = 0;
  readonly recent = new RecentCounts();

  constructor(
    readonly config: BackendConfig,
    failures: number,
  ) {
    this.failureTimes = new Float64Array(failures);
  }

  get name() {
    return this.config.name;
  }

  /** Records a failure; true when `failures` of them now fall within `windowMs`. */
  failure(now: number, windowMs: number): boolean {
    this.failureTimes[this.next] = now;
    this.next = (this.next + 1) % this.failureTimes.length;
    this.recorded = Math.min(this.recorded + 1, this.failureTimes.length);
    // After the write, `next` points at the oldest of the last N failures.
    return this.recorded === this.failureTimes.length && now - this.failureTimes[this.next]! <= windowMs;
  }

  clearFailures() {
    this.recorded = 0;
  }

  /** When this backend can take a call, by shared state alone (Infinity while a trial call is out). */
  availableAt(): number {
    if (this.breaker === 'open') return this.trialInFlight ? Infinity : Math.max(this.openUntil, this.coolingUntil);
    return this.coolingUntil;
  }
}

export interface BackendStatus {
  name: string;
  priority: number;
  weight: number;
  state: BackendState;
  /** ISO time the cool-down or open circuit ends, for `cooling` and `open`. */
  until?: string;
  /** Outcomes of calls in the last minute. */
  recent: Record<Outcome, number>;
}

export class Router {
  readonly backends: Backend[];
  /** Backends grouped by priority, most preferred group first. */
  private readonly groups: Backend[][];

  constructor(
    configs: BackendConfig[],
    private readonly options: { routed: boolean; breaker: BreakerOptions; random?: () => number },
  ) {
    this.backends = configs.map((config) => new Backend(config, Math.max(1, options.breaker.failures)));
    const priorities = [...new Set(configs.map((c) => c.priority))].sort((a, b) => a - b);
    this.groups = priorities.map((p) => this.backends.filter((b) => b.config.priority === p));
  }

  get routed() {
    return this.options.routed;
  }

  /**
   * The backend for the next call, or undefined when none can take one now. `notBefore` holds this call's
   * own exclusions (a backend that just failed it, until its backoff or retry-after has passed).
   */
  pick(now: number, notBefore?: ReadonlyMap<Backend, number>): Backend | undefined {
    const random = this.options.random ?? Math.random;
    for (const group of this.groups) {
      let total = 0;
      for (const b of group) if (this.canTake(b, now, notBefore)) total += b.config.weight;
      if (total === 0) continue;
      let point = random() * total;
      let chosen: Backend | undefined;
      for (const b of group) {
        if (!this.canTake(b, now, notBefore)) continue;
        chosen = b;
        point -= b.config.weight;
        if (point < 0) break;
      }
      if (chosen!.breaker === 'open') chosen!.trialInFlight = true; // the one trial call of a half-open circuit
      return chosen;
    }
    return undefined;
  }

  /** Milliseconds until some backend can take this call (0 if one can now; Infinity if only trials are out). */
  waitMs(now: number, notBefore?: ReadonlyMap<Backend, number>): number {
    let earliest = Infinity;
    for (const b of this.backends)
      earliest = Math.min(earliest, Math.max(this.sharedAvailableAt(b), notBefore?.get(b) ?? 0));
    return Math.max(0, earliest - now);
  }

  /** Whether any backend is cooling from a 429 now (as opposed to open or merely failing). */
  anyCooling(now: number): boolean {
    return this.options.routed && this.backends.some((b) => b.coolingUntil > now);
  }

  succeeded(b: Backend, now: number) {
    b.recent.add(0, now);
    if (b.breaker === 'open') {
      b.breaker = 'closed';
      b.trialInFlight = false;
      b.clearFailures();
    }
  }

  /** A 429: the backend cools for `retryAfterMs`; returns the cool-down end (for this call's own wait). */
  throttled(b: Backend, retryAfterMs: number, now: number): number {
    b.recent.add(1, now);
    this.release(b);
    const until = now + retryAfterMs;
    if (this.options.routed) b.coolingUntil = Math.max(b.coolingUntil, until);
    return until;
  }

  /** A 5xx, connection error or timeout. Returns true when this failure opened the circuit. */
  failed(b: Backend, now: number): boolean {
    b.recent.add(2, now);
    if (!this.options.routed) return false;
    const { windowMs, cooldownMs } = this.options.breaker;
    if (b.breaker === 'open' || b.failure(now, windowMs)) {
      // A failed trial re-opens at once; a closed circuit opens on its N-th failure within the window.
      b.breaker = 'open';
      b.openUntil = now + cooldownMs;
      b.trialInFlight = false;
      return true;
    }
    return false;
  }

  /** A client error (400, 404 …): says nothing of the backend's health. */
  rejected(b: Backend, now: number) {
    b.recent.add(3, now);
    this.release(b);
  }

  /** The call ended without an answer that says anything (the caller left): a trial may be tried again. */
  release(b: Backend) {
    b.trialInFlight = false;
  }

  status(now: number): BackendStatus[] {
    return this.backends.map((b) => {
      const base = { name: b.name, priority: b.config.priority, weight: b.config.weight, recent: b.recent.sum(now) };
      if (b.breaker === 'open') {
        return b.openUntil > now
          ? { ...base, state: 'open' as const, until: new Date(b.openUntil).toISOString() }
          : { ...base, state: 'half-open' as const };
      }
      if (b.coolingUntil > now)
        return { ...base, state: 'cooling' as const, until: new Date(b.coolingUntil).toISOString() };
      return { ...base, state: 'healthy' as const };
    });
  }

  private sharedAvailableAt(b: Backend): number {
    return this.options.routed ? b.availableAt() : 0;
  }

  private canTake(b: Backend, now: number, notBefore?: ReadonlyMap<Backend, number>): boolean {
    if (notBefore !== undefined && (notBefore.get(b) ?? 0) > now) return false;
    return !this.options.routed || b.availableAt() <= now;
  }
}
