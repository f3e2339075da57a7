import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';

// Settings are read once per process: set the limits before anything reads them.
process.env.QUOTA_TOKENS_PER_MINUTE = '100';
process.env.QUOTA_TOKENS_PER_DAY = '1000';

const { reserveTokens, settleTokens, usageOf, useQuotaStore, windowAt, quotasEnabled } =
  await import('../../src/quotas/quota.js');
const { MemoryQuotaStore } = await import('../../src/storage/memory-quota-store.js');
const { ownerKey } = await import('../../src/storage/keys.js');
const { ApiError } = await import('../../src/errors.js');

const MINUTE = 60_000;
const DAY = 86_400_000;
/** 15.5 s into minute 3 of day 20 000 (UTC). */
const NOW = 20_000 * DAY + 3 * MINUTE + 15_500;

let store: InstanceType<typeof MemoryQuotaStore>;
beforeEach(() => {
  mock.timers.enable({ apis: ['Date'], now: NOW });
  store = new MemoryQuotaStore();
  useQuotaStore(store);
});
afterEach(() => mock.timers.reset());

const used = async (user: string | null) => {
  const usage = await usageOf(user);
  return { minute: usage.minute.used, day: usage.day.used };
};
/** Puts `tokens` on a user's counter for the current window of `kind`, as earlier calls would have. */
const preload = (user: string, kind: 'minute' | 'day', tokens: number) =>
  store.update(`q_${ownerKey(user)}`, windowAt(kind, Date.now()).rowKey, () => tokens);

/** The 429 a reservation is refused with. */
async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    assert.equal(error.status, 429);
    return error;
  }
  assert.fail('the reservation was granted');
}

describe('quota windows', () => {
  it('cut time into UTC minutes and days, each resetting at its end', () => {
    assert.deepEqual(windowAt('minute', 0), { rowKey: 'm_0', resetsAt: MINUTE });
    assert.deepEqual(windowAt('minute', MINUTE - 1), { rowKey: 'm_0', resetsAt: MINUTE });
    assert.deepEqual(windowAt('minute', MINUTE), { rowKey: 'm_1', resetsAt: 2 * MINUTE });
    assert.deepEqual(windowAt('day', NOW), { rowKey: 'd_20000', resetsAt: 20_001 * DAY });
    assert.deepEqual(windowAt('minute', NOW), {
      rowKey: `m_${20_000 * 1440 + 3}`,
      resetsAt: 20_000 * DAY + 4 * MINUTE,
    });
  });

  it('are on when either limit is set', () => {
    assert.equal(quotasEnabled(), true);
  });

  it('report usage, remaining and reset per window', async () => {
    await reserveTokens('alice', 30);
    assert.deepEqual(await usageOf('alice'), {
      object: 'usage',
      user: 'alice',
      minute: { limit: 100, used: 30, remaining: 70, resets_at: (20_000 * DAY + 4 * MINUTE) / 1000 },
      day: { limit: 1000, used: 30, remaining: 970, resets_at: (20_001 * DAY) / 1000 },
    });
  });

  it('start a new minute empty while the day keeps counting', async () => {
    await reserveTokens('alice', 80);
    mock.timers.tick(MINUTE);
    assert.deepEqual(await used('alice'), { minute: 0, day: 80 });
    assert.equal((await reserveTokens('alice', 100))?.reserved, 100);
  });
});

describe('reserveTokens', () => {
  it('holds what was asked in every window', async () => {
    const reservation = await reserveTokens('alice', 30);
    assert.deepEqual(reservation, {
      partition: `q_${ownerKey('alice')}`,
      rows: [windowAt('minute', NOW).rowKey, windowAt('day', NOW).rowKey],
      reserved: 30,
      settled: false,
    });
    assert.deepEqual(await used('alice'), { minute: 30, day: 30 });
  });

  it('keeps users apart, and counts callers without identity as one anonymous user', async () => {
    await reserveTokens('alice', 40);
    await reserveTokens(null, 7);
    assert.deepEqual(await used('bob'), { minute: 0, day: 0 });
    assert.deepEqual(await used(null), { minute: 7, day: 7 });
    assert.deepEqual(await used('anonymous'), { minute: 7, day: 7 });
    assert.equal((await usageOf(null)).user, 'anonymous');
  });

  it('grants up to what is left when at least the minimum is', async () => {
    await reserveTokens('alice', 30);
    const reservation = await reserveTokens('alice', 500, 10);
    assert.equal(reservation?.reserved, 70);
    assert.deepEqual(await used('alice'), { minute: 100, day: 100 });
  });

  it('grants exactly the minimum when that is all that is left', async () => {
    await preload('alice', 'minute', 90);
    assert.equal((await reserveTokens('alice', 50, 10))?.reserved, 10);
    assert.deepEqual(await used('alice'), { minute: 100, day: 10 });
  });

  it('refuses with 429 and the seconds until the window resets when less than the minimum is left', async () => {
    await preload('alice', 'minute', 95);
    const error = await refusal(reserveTokens('alice', 50, 6));
    assert.deepEqual(error.toBody().error, {
      message: 'Token quota exceeded: 95 of 100 tokens used this minute; this request needs at least 6.',
      type: 'rate_limit_error',
      param: null,
      code: 'quota_exceeded',
    });
    // 44.5 s to the end of the minute, rounded up.
    assert.deepEqual(error.headers, { 'retry-after': '45' });
    assert.deepEqual(await used('alice'), { minute: 95, day: 0 });
  });

  it('asks for the whole request as the minimum unless told otherwise', async () => {
    await preload('alice', 'minute', 71);
    await refusal(reserveTokens('alice', 30));
    assert.equal((await reserveTokens('alice', 29))?.reserved, 29);
  });

  it('gives back what an earlier window held beyond what a tighter later one granted', async () => {
    await preload('alice', 'day', 980);
    const reservation = await reserveTokens('alice', 50, 1);
    assert.equal(reservation?.reserved, 20);
    assert.deepEqual(await used('alice'), { minute: 20, day: 1000 });
  });

  it('undoes an earlier window when a later one refuses, answering when that one resets', async () => {
    await preload('alice', 'minute', 40);
    await preload('alice', 'day', 995);
    const error = await refusal(reserveTokens('alice', 50, 10));
    assert.equal(
      error.message,
      'Token quota exceeded: 995 of 1000 tokens used this day; this request needs at least 10.',
    );
    assert.deepEqual(error.headers, { 'retry-after': String(Math.ceil((20_001 * DAY - NOW) / 1000)) });
    assert.deepEqual(await used('alice'), { minute: 40, day: 995 });
  });
});

describe('settleTokens', () => {
  it('replaces the reservation with the real usage in every window', async () => {
    await preload('alice', 'day', 500);
    const reservation = await reserveTokens('alice', 60);
    await settleTokens(reservation, 12);
    assert.deepEqual(await used('alice'), { minute: 12, day: 512 });
    assert.equal(reservation?.settled, true);
  });

  it('settles once: a second settlement changes nothing', async () => {
    const reservation = await reserveTokens('alice', 60);
    await settleTokens(reservation, 12);
    await settleTokens(reservation, 0);
    await settleTokens(reservation, 60);
    assert.deepEqual(await used('alice'), { minute: 12, day: 12 });
  });

  it('gives everything back for a call that never reached the model', async () => {
    const reservation = await reserveTokens('alice', 60);
    await settleTokens(reservation, 0);
    assert.deepEqual(await used('alice'), { minute: 0, day: 0 });
  });

  it('charges more than reserved when the model used more', async () => {
    const reservation = await reserveTokens('alice', 10);
    await settleTokens(reservation, 25);
    assert.deepEqual(await used('alice'), { minute: 25, day: 25 });
  });

  it('settles into the windows it reserved in, even after the minute turned', async () => {
    const reservation = await reserveTokens('alice', 60);
    mock.timers.tick(MINUTE);
    await settleTokens(reservation, 5);
    assert.deepEqual(await used('alice'), { minute: 0, day: 5 });
    assert.equal(await store.read(`q_${ownerKey('alice')}`, windowAt('minute', NOW).rowKey), 5);
  });

  it('never takes a counter below zero', async () => {
    const reservation = await reserveTokens('alice', 60);
    await preload('alice', 'minute', 10);
    await settleTokens(reservation, 0);
    assert.deepEqual(await used('alice'), { minute: 0, day: 0 });
  });

  it('does nothing without a reservation (quotas off)', async () => {
    await settleTokens(null, 99);
    assert.deepEqual(await used('alice'), { minute: 0, day: 0 });
  });
});
