import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messagePage } from '../../src/conversations/pages.js';
import { ApiError } from '../../src/errors.js';

// Messages of a conversation are msg_1 … msg_count; a page is the seq range [from, to] (empty when to < from).
const page = (count: number, query: Parameters<typeof messagePage>[1]) => messagePage(count, query);

describe('messagePage, oldest first (asc)', () => {
  it('starts at msg_1 and has more while the page ends before the last message', () => {
    assert.deepEqual(page(5, { limit: 2, order: 'asc' }), { from: 1, to: 2, hasMore: true });
    assert.deepEqual(page(5, { limit: 5, order: 'asc' }), { from: 1, to: 5, hasMore: false });
    assert.deepEqual(page(5, { limit: 20, order: 'asc' }), { from: 1, to: 5, hasMore: false });
  });

  it('continues after a cursor, exclusive of it', () => {
    assert.deepEqual(page(5, { limit: 2, order: 'asc', after: 'msg_2' }), { from: 3, to: 4, hasMore: true });
    assert.deepEqual(page(5, { limit: 2, order: 'asc', after: 'msg_3' }), { from: 4, to: 5, hasMore: false });
    assert.deepEqual(page(5, { limit: 2, order: 'asc', after: 'msg_4' }), { from: 5, to: 5, hasMore: false });
  });

  it('pages backwards before a cursor, and has more while older messages remain', () => {
    assert.deepEqual(page(5, { limit: 2, order: 'asc', before: 'msg_5' }), { from: 3, to: 4, hasMore: true });
    assert.deepEqual(page(5, { limit: 2, order: 'asc', before: 'msg_3' }), { from: 1, to: 2, hasMore: false });
    assert.deepEqual(page(5, { limit: 5, order: 'asc', before: 'msg_2' }), { from: 1, to: 1, hasMore: false });
  });

  it('answers an empty page past either end', () => {
    assert.deepEqual(page(5, { limit: 2, order: 'asc', after: 'msg_5' }), { from: 6, to: 5, hasMore: false });
    assert.deepEqual(page(5, { limit: 2, order: 'asc', after: 'msg_99' }), { from: 100, to: 5, hasMore: false });
    assert.deepEqual(page(5, { limit: 2, order: 'asc', before: 'msg_1' }), { from: 1, to: 0, hasMore: false });
    assert.deepEqual(page(0, { limit: 2, order: 'asc' }), { from: 1, to: 0, hasMore: false });
  });
});

describe('messagePage, newest first (desc)', () => {
  it('starts at the newest message and has more while older ones remain', () => {
    assert.deepEqual(page(5, { limit: 2, order: 'desc' }), { from: 4, to: 5, hasMore: true });
    assert.deepEqual(page(5, { limit: 5, order: 'desc' }), { from: 1, to: 5, hasMore: false });
    assert.deepEqual(page(5, { limit: 9, order: 'desc' }), { from: 1, to: 5, hasMore: false });
    assert.deepEqual(page(0, { limit: 2, order: 'desc' }), { from: 1, to: 0, hasMore: false });
  });

  it('continues after a cursor towards older messages', () => {
    assert.deepEqual(page(5, { limit: 2, order: 'desc', after: 'msg_4' }), { from: 2, to: 3, hasMore: true });
    assert.deepEqual(page(5, { limit: 2, order: 'desc', after: 'msg_3' }), { from: 1, to: 2, hasMore: false });
    assert.deepEqual(page(5, { limit: 2, order: 'desc', after: 'msg_1' }), { from: 1, to: 0, hasMore: false });
  });

  it('pages back towards newer messages before a cursor', () => {
    assert.deepEqual(page(5, { limit: 2, order: 'desc', before: 'msg_2' }), { from: 3, to: 4, hasMore: true });
    assert.deepEqual(page(5, { limit: 2, order: 'desc', before: 'msg_3' }), { from: 4, to: 5, hasMore: false });
    assert.deepEqual(page(5, { limit: 2, order: 'desc', before: 'msg_5' }), { from: 6, to: 5, hasMore: false });
  });

  it('walks every message exactly once, page by page, in both orders', () => {
    for (const count of [0, 1, 6, 7]) {
      for (const order of ['asc', 'desc'] as const) {
        const seen: number[] = [];
        let after: string | undefined;
        for (let guard = 0; guard < 20; guard++) {
          const { from, to, hasMore } = page(count, { limit: 3, order, after });
          const seqs = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
          if (order === 'desc') seqs.reverse();
          seen.push(...seqs);
          if (!hasMore) break;
          after = `msg_${seqs.at(-1)}`;
        }
        const all = Array.from({ length: count }, (_, i) => i + 1);
        assert.deepEqual(seen, order === 'asc' ? all : all.reverse(), `${count} messages, ${order}`);
      }
    }
  });
});

describe('messagePage cursors', () => {
  for (const [name, value] of [
    ['after', 'msg_x'],
    ['after', 'conv_1'],
    ['before', 'msg_'],
    ['before', 'msg_12345678901'],
    ['after', ' msg_1'],
  ] as const) {
    it(`refuses ${name}=${JSON.stringify(value)} with a 400 naming '${name}'`, () => {
      assert.throws(
        () => page(5, { limit: 2, order: 'asc', [name]: value }),
        (error: unknown) => {
          assert.ok(error instanceof ApiError);
          assert.deepEqual(error.toBody(), {
            error: {
              message: `'${name}' must be a message id such as msg_12.`,
              type: 'invalid_request_error',
              param: name,
              code: 'invalid_value',
            },
          });
          assert.equal(error.status, 400);
          return true;
        },
      );
    });
  }
});
