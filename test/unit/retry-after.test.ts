import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { retryAfterMs } from '../../src/upstream/errors.js';

// Azure OpenAI sends `retry-after-ms` and `retry-after` (seconds) on 429s; RFC 9110 §10.2.3 also allows an HTTP-date.
const NOW = Date.parse('2025-01-15T12:00:00Z');
beforeEach(() => mock.timers.enable({ apis: ['Date'], now: NOW }));
afterEach(() => mock.timers.reset());

describe('retryAfterMs', () => {
  it('reads retry-after-ms as milliseconds, ahead of retry-after', () => {
    assert.equal(retryAfterMs({ 'retry-after-ms': '1500' }), 1500);
    assert.equal(retryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '9' }), 1500);
    assert.equal(retryAfterMs({ 'retry-after-ms': '0' }), 0);
    assert.equal(retryAfterMs({ 'retry-after-ms': '12.5' }), 12.5);
  });

  it('reads retry-after seconds as milliseconds', () => {
    assert.equal(retryAfterMs({ 'retry-after': '2' }), 2000);
    assert.equal(retryAfterMs({ 'retry-after': '0.25' }), 250);
    assert.equal(retryAfterMs({ 'retry-after': '0' }), 0);
  });

  it('falls back to retry-after when retry-after-ms is not a usable number', () => {
    assert.equal(retryAfterMs({ 'retry-after-ms': 'soon', 'retry-after': '3' }), 3000);
    assert.equal(retryAfterMs({ 'retry-after-ms': '-5', 'retry-after': '3' }), 3000);
  });

  it('reads an HTTP-date as the time left until then, never negative', () => {
    assert.equal(retryAfterMs({ 'retry-after': 'Wed, 15 Jan 2025 12:00:07 GMT' }), 7000);
    assert.equal(retryAfterMs({ 'retry-after': 'Wed, 15 Jan 2025 11:59:00 GMT' }), 0);
  });

  it('is undefined without a usable header', () => {
    assert.equal(retryAfterMs({}), undefined);
    assert.equal(retryAfterMs({ 'retry-after': 'later' }), undefined);
    assert.equal(retryAfterMs({ 'retry-after-ms': 'x' }), undefined);
  });

  // Found by these tests, then fixed in src/upstream/errors.ts.
  it('ignores an empty or negative retry-after', () => {
    assert.equal(retryAfterMs({ 'retry-after': '' }), undefined);
    assert.equal(retryAfterMs({ 'retry-after-ms': '', 'retry-after': '4' }), 4000);
    assert.equal(retryAfterMs({ 'retry-after': '-3' }), undefined);
  });
});
