/**
 * The nesting check that runs on every request body before JSON.parse (src/http/request.ts): it must agree with
 * the depth of the parsed value on any JSON text, strings full of quotes, backslashes and brackets included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jsonDepthExceeds } from '../../src/http/request.js';

/** Nesting depth of arrays/objects in a parsed value (the reference). */
const depthOf = (value: unknown): number =>
  value !== null && typeof value === 'object'
    ? 1 + Math.max(0, ...Object.values(value as Record<string, unknown>).map(depthOf))
    : 0;

// Strings that look like JSON structure from inside: quotes, escapes, brackets.
const tricky = fc
  .array(fc.constantFrom('"', '\\', '[', ']', '{', '}', 'a', '\\"', '\\\\', 'é', '\n'), { maxLength: 12 })
  .map((parts) => parts.join(''));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tricky,
    fc.integer(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(tricky, tie('value'), { maxKeys: 3 }),
  ),
}));

describe('jsonDepthExceeds', () => {
  it('agrees with the parsed value on any JSON text, at every limit', () => {
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 8 }), fc.boolean(), (v, limit, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined);
        assert.equal(jsonDepthExceeds(text, limit), depthOf(v) > limit, text);
      }),
      { numRuns: 2000 },
    );
  });

  it('finds deep nesting behind a string that ends in escaped backslashes', () => {
    const text = `{"a":"x\\\\\\\\","b":${'['.repeat(70)}${']'.repeat(70)}}`;
    assert.equal(depthOf(JSON.parse(text)), 71);
    assert.equal(jsonDepthExceeds(text, 64), true);
    assert.equal(jsonDepthExceeds(`{"a":"${'\\"['.repeat(100)}"}`, 64), false);
  });
});
