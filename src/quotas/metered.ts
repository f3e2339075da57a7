import type { StreamAccounting } from '../services/model-stream.js';
import { reserveTokens, settleTokens, type Reservation } from './quota.js';

/** Runs a model call inside a quota reservation, settled to the call's real usage (0 if it failed). */
export async function metered<T>(caller: string | null, estimate: number, call: () => Promise<T>, usedOf: (result: T) => number | undefined): Promise<T> {
  const reservation = await reserveTokens(caller, estimate);
  try {
    const result = await call();
    await settleTokens(reservation, usedOf(result) ?? estimate);
    return result;
  } catch (error) {
    await settleTokens(reservation, 0);
    throw error;
  }
}

/**
 * Accounting for a streamed answer: settles to the counted usage when the stream completes; a stream that
 * breaks or is abandoned is charged its prompt (the model read it) and nothing more.
 */
export function meteredStream(reservation: Reservation | null, promptTokens: number, then?: StreamAccounting): StreamAccounting {
  return {
    async onComplete(usage, texts) {
      await settleTokens(reservation, usage.total_tokens);
      await then?.onComplete?.(usage, texts);
    },
    async onAbandon() {
      await settleTokens(reservation, promptTokens);
      await then?.onAbandon?.();
    },
  };
}

/** Starts a stream inside a reservation; if it cannot start, the reservation is released. */
export async function startMetered<T>(caller: string | null, estimate: number, start: () => Promise<T>): Promise<{ reservation: Reservation | null; started: T }> {
  const reservation = await reserveTokens(caller, estimate);
  try {
    return { reservation, started: await start() };
  } catch (error) {
    await settleTokens(reservation, 0);
    throw error;
  }
}
