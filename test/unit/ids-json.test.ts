import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IdList } from '../../src/tokens/bpe.js';
import { idsToJson } from '../../src/tokens/ids-json.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('idsToJson', () => {
  it('writes what JSON.stringify writes, at every digit count', () => {
    const edges = [0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000, 999999, 1000000, 123456789, 2 ** 31 - 1];
    assert.equal(text(idsToJson([])), '[]');
    assert.equal(text(idsToJson(edges)), JSON.stringify(edges));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 })), (ids) => {
        assert.equal(text(idsToJson(ids)), JSON.stringify(ids));
        assert.equal(text(idsToJson(Uint32Array.from(ids))), JSON.stringify(ids));
      }),
    );
  });
});

describe('IdList', () => {
  it('keeps every id in order as it grows past its capacity', () => {
    fc.assert(
      fc.property(fc.nat({ max: 64 }), fc.array(fc.nat({ max: 2 ** 32 - 1 }), { maxLength: 500 }), (capacity, ids) => {
        const list = new IdList(capacity);
        for (const id of ids) list.push(id);
        assert.deepEqual(Array.from(list.view()), ids);
      }),
    );
  });
});
