import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PROPERTY_CHARS, packText, splitText, unpackText } from '../../src/storage/text-chunks.js';

const EMOJI = '\u{1F600}'; // one code point, two UTF-16 code units
/** A lone surrogate: half of a pair without its other half. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const roundTrip = (text: string) => unpackText('content', packText('content', text));

describe('text chunks for Table Storage properties', () => {
  it('keeps each property within the 32K code-unit limit of a Table string', () => {
    // Azure Table Storage: a String property is up to 64 KiB, i.e. 32K UTF-16 code units.
    assert.equal(MAX_PROPERTY_CHARS, 32_000);
  });

  it('stores an empty text as zero parts and reads it back', () => {
    assert.deepEqual(splitText(''), []);
    assert.deepEqual(packText('content', ''), { contentParts: 0 });
    assert.equal(roundTrip(''), '');
  });

  it('splits exactly at the limit', () => {
    assert.deepEqual(
      splitText('a'.repeat(MAX_PROPERTY_CHARS)).map((p) => p.length),
      [MAX_PROPERTY_CHARS],
    );
    assert.deepEqual(
      splitText('a'.repeat(MAX_PROPERTY_CHARS + 1)).map((p) => p.length),
      [MAX_PROPERTY_CHARS, 1],
    );
    assert.deepEqual(
      splitText('a'.repeat(2 * MAX_PROPERTY_CHARS + 5)).map((p) => p.length),
      [32_000, 32_000, 5],
    );
  });

  it('names the properties after the prefix', () => {
    const entity = packText('content', 'x'.repeat(MAX_PROPERTY_CHARS) + 'yz');
    assert.deepEqual(Object.keys(entity), ['contentParts', 'content0', 'content1']);
    assert.equal(entity.contentParts, 2);
    assert.equal(entity.content1, 'yz');
  });

  it('never cuts a surrogate pair that straddles the limit', () => {
    const text = 'a'.repeat(MAX_PROPERTY_CHARS - 1) + EMOJI + 'b';
    const parts = splitText(text);
    assert.deepEqual(parts, ['a'.repeat(MAX_PROPERTY_CHARS - 1), EMOJI + 'b']);
    assert.equal(roundTrip(text), text);
  });

  it('keeps a pair that ends exactly at the limit in the first part', () => {
    const text = 'a'.repeat(MAX_PROPERTY_CHARS - 2) + EMOJI + 'b';
    assert.deepEqual(splitText(text), ['a'.repeat(MAX_PROPERTY_CHARS - 2) + EMOJI, 'b']);
  });

  it('leaves every part well-formed for a text of astral characters only', () => {
    const text = EMOJI.repeat(40_001) + 'é';
    const parts = splitText(text);
    assert.deepEqual(
      parts.map((p) => p.length),
      [32_000, 32_000, 16_002 + 1],
    );
    for (const part of parts) assert.doesNotMatch(part, LONE_SURROGATE, 'a part holds half a surrogate pair');
    assert.equal(parts.join(''), text);
    assert.equal(roundTrip(text), text);
  });

  it('reads back byte for byte whatever the text holds', () => {
    const text = ('line\r\n\u0000\t' + EMOJI + 'ü\u200d').repeat(9_000);
    assert.equal(roundTrip(text), text);
  });

  it('reads a row without the properties as empty text, and a missing part as empty', () => {
    assert.equal(unpackText('content', {}), '');
    assert.equal(unpackText('content', { contentParts: 2, content0: 'ab' }), 'ab');
    assert.equal(unpackText('system', { contentParts: 1, content0: 'other prefix' }), '');
  });
});
