/**
 * Per-user token quotas (QUOTA_TOKENS_PER_MINUTE / QUOTA_TOKENS_PER_DAY; 0 turns one off), kept in Table
 * Storage so every instance enforces the same budget. A call reserves its worst case (prompt tokens +
 * max_tokens) before it goes upstream and settles to the real usage after. Each window is one entity
 * updated under its ETag, so concurrent requests on any instance cannot overspend it.
 */
import { settings } from '../config.js';
import { tooManyRequests } from '../http/errors.js';
import { ownerKey } from '../conversations/store.js';
import { statusOf, storeError, tableClient } from '../conversations/table.js';

export const QUOTAS_TABLE = 'quotas';
/** Reserved for an answer whose request names no max_tokens; settled to the real figure afterwards. */
export const DEFAULT_ANSWER_RESERVE = 1024;
const ANONYMOUS = 'anonymous';

type WindowKind = 'minute' | 'day';
interface Window {
  kind: WindowKind;
  limit: number;
  rowKey: string;
  resetsAt: number;
}

function minuteWindow(now = Date.now()) {
  const minute = Math.floor(now / 60_000);
  return { rowKey: `m_${minute}`, resetsAt: (minute + 1) * 60_000 };
}
function dayWindow(now = Date.now()) {
  const day = Math.floor(now / 86_400_000);
  return { rowKey: `d_${day}`, resetsAt: (day + 1) * 86_400_000 };
}

function windows(now = Date.now()): Window[] {
  const s = settings();
  const all: Window[] = [
    { kind: 'minute', limit: s.QUOTA_TOKENS_PER_MINUTE, ...minuteWindow(now) },
    { kind: 'day', limit: s.QUOTA_TOKENS_PER_DAY, ...dayWindow(now) },
  ];
  return all.filter((w) => w.limit > 0);
}

export const quotasEnabled = () => windows().length > 0;
const partitionOf = (userId: string | null) => `q_${ownerKey(userId ?? ANONYMOUS)}`;

export interface Reservation {
  partition: string;
  rows: string[];
  reserved: number;
  settled: boolean;
}

/** Adds `delta` to a window row under its ETag, retrying lost races; `limit` refuses growth past it. */
async function adjust(partition: string, window: { rowKey: string; limit?: number; resetsAt?: number }, delta: number): Promise<void> {
  const table = await tableClient(QUOTAS_TABLE);
  for (let attempt = 0; attempt < 20; attempt++) {
    let used = 0;
    let etag: string | undefined;
    try {
      const entity = await table.getEntity<{ used: number }>(partition, window.rowKey);
      used = Number(entity.used);
      etag = entity.etag;
    } catch (error) {
      if (statusOf(error) !== 404) throw storeError(error);
    }
    const next = Math.max(0, used + delta);
    if (delta > 0 && window.limit !== undefined && next > window.limit) {
      throw tooManyRequests(
        `Token quota exceeded: ${used} of ${window.limit} tokens used in this ${window.rowKey.startsWith('m_') ? 'minute' : 'day'}; this request needs up to ${delta}.`,
        ((window.resetsAt ?? Date.now()) - Date.now()) / 1000,
        'quota_exceeded',
      );
    }
    try {
      if (etag) await table.updateEntity({ partitionKey: partition, rowKey: window.rowKey, used: next }, 'Merge', { etag });
      else await table.createEntity({ partitionKey: partition, rowKey: window.rowKey, used: next });
      return;
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 409) continue; // another request moved it first: read again
      throw storeError(error);
    }
  }
  throw tooManyRequests('Token quota is under heavy contention; retry shortly.', 1, 'quota_contention');
}

/** Reserves `tokens` in every active window, or throws 429 (undoing what it had reserved). */
export async function reserveTokens(userId: string | null, tokens: number): Promise<Reservation | null> {
  const active = windows();
  if (active.length === 0) return null;
  const partition = partitionOf(userId);
  const done: Window[] = [];
  try {
    for (const window of active) {
      await adjust(partition, window, tokens);
      done.push(window);
    }
  } catch (error) {
    await Promise.all(done.map((w) => adjust(partition, { rowKey: w.rowKey }, -tokens).catch(() => undefined)));
    throw error;
  }
  return { partition, rows: active.map((w) => w.rowKey), reserved: tokens, settled: false };
}

/** Replaces the reservation with what was really used (0 when the call never reached the model). */
export async function settleTokens(reservation: Reservation | null, used: number): Promise<void> {
  if (!reservation || reservation.settled) return;
  reservation.settled = true;
  const delta = used - reservation.reserved;
  if (delta === 0) return;
  await Promise.all(reservation.rows.map((rowKey) => adjust(reservation.partition, { rowKey }, delta))).catch(() => undefined);
}

export async function usageOf(userId: string | null) {
  const s = settings();
  const table = quotasEnabled() ? await tableClient(QUOTAS_TABLE) : undefined;
  const read = async (kind: WindowKind, limit: number) => {
    const window = kind === 'minute' ? minuteWindow() : dayWindow();
    let used = 0;
    if (table && limit > 0) {
      try {
        used = Number((await table.getEntity<{ used: number }>(partitionOf(userId), window.rowKey)).used);
      } catch (error) {
        if (statusOf(error) !== 404) throw storeError(error);
      }
    }
    return { limit: limit || null, used, remaining: limit ? Math.max(0, limit - used) : null, resets_at: Math.floor(window.resetsAt / 1000) };
  };
  return { object: 'usage', user: userId ?? ANONYMOUS, minute: await read('minute', s.QUOTA_TOKENS_PER_MINUTE), day: await read('day', s.QUOTA_TOKENS_PER_DAY) };
}
