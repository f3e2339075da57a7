/**
 * Deadlines for upstream calls on one shared clock instead of a Node timer each. A whole answer set two timers per
 * call (until its headers, until the end of its body) and cleared both milliseconds later, nearly always long
 * before they could fire; making, arming and clearing a Node timer is a measurable share of a request's CPU
 * (docs/benchmarks.md, issue 20). Deadlines of a second or more are checked by one interval every TICK_MS and fire
 * between `ms` and `ms + TICK_MS` after they were set (later only while the event loop is blocked), never early;
 * shorter ones (only tests ask for them) keep a timer of their own, to the millisecond. undici makes the same trade
 * for its socket timeouts (its lib/util/timers.js: a shared 500 ms tick for timeouts of a second or more, native
 * timers below). The shared clock never keeps the process alive: a request's socket does, wherever a deadline
 * matters.
 */
export const TICK_MS = 250;
/** Below this a deadline gets its own timer: a tick's lateness would be a large share of it. */
export const SHARED_FROM_MS = 1000;

export interface Deadline {
  /** The deadline no longer fires (idempotent; harmless after it fired). */
  cancel(): void;
}

class SharedDeadline implements Deadline {
  constructor(
    readonly at: number,
    public fire: (() => void) | undefined,
  ) {}
  cancel(): void {
    this.fire = undefined;
  }
}

class OwnTimer implements Deadline {
  private readonly timer: NodeJS.Timeout;
  constructor(fire: () => void, ms: number) {
    this.timer = setTimeout(fire, ms);
  }
  cancel(): void {
    clearTimeout(this.timer);
  }
}

/** Pending deadlines, cancelled ones included until the next tick drops them (a cancel is one field write). */
let pending: SharedDeadline[] = [];
let ticker: NodeJS.Timeout | undefined;

function tick(): void {
  const now = performance.now();
  const due: (() => void)[] = [];
  const kept: SharedDeadline[] = [];
  for (const deadline of pending) {
    const fire = deadline.fire;
    if (!fire) continue;
    if (deadline.at <= now) {
      deadline.fire = undefined;
      due.push(fire);
    } else kept.push(deadline);
  }
  pending = kept;
  if (kept.length === 0) {
    clearInterval(ticker);
    ticker = undefined;
  }
  for (const fire of due) {
    try {
      fire();
    } catch {
      // A deadline's action (destroying a request) must not stop the others from firing.
    }
  }
}

/** Calls `fire` once `ms` have passed, unless cancelled first. */
export function deadline(ms: number, fire: () => void): Deadline {
  if (ms < SHARED_FROM_MS) return new OwnTimer(fire, ms);
  // Unreferenced: a pending deadline never keeps the process alive (its request's socket does).
  ticker ??= setInterval(tick, TICK_MS).unref();
  const entry = new SharedDeadline(performance.now() + ms, fire);
  pending.push(entry);
  return entry;
}

/** Deadlines waiting on the shared clock, cancelled ones not yet dropped included (tests). */
export const pendingDeadlines = (): number => pending.length;
