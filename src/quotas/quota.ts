/**
 * Per-user token quotas (QUOTA_TOKENS_PER_MINUTE / QUOTA_TOKENS_PER_DAY; 0 turns one off), kept in a QuotaStore
 * (Table Storage) so every instance enforces the same budget. A call reserves its worst case before it goes
 * upstream — never more than the caller has left, and the answer is capped to what was reserved — and settles to
 * the real usage after.
 */
import { settings } from '../config.js';
import { tooManyRequests } from '../errors.js';
import { ownerKey } from '../storage/keys.js';
import type { QuotaStore } from '../storage/quota-store.js';
import { TableQuotaStore } from '../storage/table-quota-store.js';

export const QUOTAS_TABLE = 'quotas';
const ANONYMOUS = 'anonymous';

type WindowKind = 'minute' | 'day';
export interface QuotaWindow {
  kind: WindowKind;
  limit: number;
  rowKey: string;
  resetsAt: number;
}

/** The minute and day windows that contain `now`, with their row keys and when they reset (ms). */
export function windowAt(kind: WindowKind, now: number): { rowKey: string; resetsAt: number } {
  const span = kind === 'minute' ? 60_000 : 86_400_000;
  const index = Math.floor(now / span);
  return { rowKey: `${kind === 'minute' ? 'm' : 'd'}_${index}`, resetsAt: (index + 1) * span };
}

function activeWindows(now = Date.now()): QuotaWindow[] {
  const s = settings();
  const all: QuotaWindow[] = [
    { kind: 'minute', limit: s.QUOTA_TOKENS_PER_MINUTE, ...windowAt('minute', now) },
    { kind: 'day', limit: s.QUOTA_TOKENS_PER_DAY, ...windowAt('day', now) },
  ];
  return all.filter((w) => w.limit > 0);
}

let store: QuotaStore | undefined;
const quotaStore = () => (store ??= new TableQuotaStore(QUOTAS_TABLE));
/** Swaps the store (tests of the quota rules against the in-memory store). */
export function useQuotaStore(replacement: QuotaStore): void {
  store = replacement;
}

export function quotasEnabled(): boolean {
  const s = settings();
  return s.QUOTA_TOKENS_PER_MINUTE > 0 || s.QUOTA_TOKENS_PER_DAY > 0;
}
const partitionOf = (userId: string | null) => `q_${ownerKey(userId ?? ANONYMOUS)}`;

export interface Reservation {
  partition: string;
  rows: string[];
  /** Tokens held: between the minimum and the wanted amount asked for. */
  reserved: number;
  settled: boolean;
}

/**
 * Reserves up to `wanted` tokens in every active window — as many as the tightest window has left — or throws
 * 429 when fewer than `minimum` are left (undoing what it had reserved). Null when quotas are off.
 */
export async function reserveTokens(
  userId: string | null,
  wanted: number,
  minimum = wanted,
): Promise<Reservation | null> {
  const active = activeWindows();
  if (active.length === 0) return null;
  const partition = partitionOf(userId);
  const held: { window: QuotaWindow; tokens: number }[] = [];
  let grant = wanted;
  try {
    for (const window of active) {
      await quotaStore().update(partition, window.rowKey, (used) => {
        const room = window.limit - used;
        if (room < minimum) {
          throw tooManyRequests(
            `Token quota exceeded: ${used} of ${window.limit} tokens used this ${window.kind}; this request needs at least ${minimum}.`,
            (window.resetsAt - Date.now()) / 1000,
            'quota_exceeded',
          );
        }
        grant = Math.min(grant, room);
        return used + grant;
      });
      held.push({ window, tokens: grant });
    }
  } catch (error) {
    await Promise.all(held.map((h) => give(partition, h.window.rowKey, h.tokens).catch(() => undefined)));
    throw error;
  }
  // An earlier window may hold more than a later, tighter one granted: give the difference back.
  await Promise.all(
    held.filter((h) => h.tokens > grant).map((h) => give(partition, h.window.rowKey, h.tokens - grant)),
  );
  return { partition, rows: active.map((w) => w.rowKey), reserved: grant, settled: false };
}

const give = (partition: string, rowKey: string, tokens: number) =>
  quotaStore().update(partition, rowKey, (used) => Math.max(0, used - tokens));

/** Replaces the reservation with what was really used (0 when the call never reached the model). */
export async function settleTokens(reservation: Reservation | null, used: number): Promise<void> {
  if (!reservation || reservation.settled) return;
  reservation.settled = true;
  const delta = used - reservation.reserved;
  if (delta === 0) return;
  await Promise.all(
    reservation.rows.map((rowKey) =>
      quotaStore().update(reservation.partition, rowKey, (current) => Math.max(0, current + delta)),
    ),
  ).catch(() => undefined);
}

export async function usageOf(userId: string | null) {
  const s = settings();
  const now = Date.now();
  const read = async (kind: WindowKind, limit: number) => {
    const window = windowAt(kind, now);
    const used = limit > 0 ? await quotaStore().read(partitionOf(userId), window.rowKey) : 0;
    return {
      limit: limit || null,
      used,
      remaining: limit ? Math.max(0, limit - used) : null,
      resets_at: Math.floor(window.resetsAt / 1000),
    };
  };
  return {
    object: 'usage',
    user: userId ?? ANONYMOUS,
    minute: await read('minute', s.QUOTA_TOKENS_PER_MINUTE),
    day: await read('day', s.QUOTA_TOKENS_PER_DAY),
  };
}
