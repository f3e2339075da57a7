/**
 * The tokenizer engine against the reference encoders: js-tiktoken (whose rank files are the source of our
 * tables) and tiktoken (OpenAI's Rust core as WASM), on generated and real text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { Tiktoken } from 'js-tiktoken/lite';
import { get_encoding, type Tiktoken as WasmTiktoken } from 'tiktoken';
import { ENCODING_NAMES, getEncoding, type EncodingName } from '../src/tokens/encodings.js';
import { BytePairEncoder, buildRankIndex } from '../src/tokens/bpe.js';
import { decodeTable, parseJsTiktokenRanks } from '../src/tokens/table-format.js';
import { countChatTokens } from '../src/tokens/chat.js';

const require = createRequire(import.meta.url);
const jsRanks = (name: EncodingName) => {
  const source = require(`js-tiktoken/ranks/${name}`);
  return source.default ?? source;
};
const js = new Map<EncodingName, Tiktoken>(ENCODING_NAMES.map((n) => [n, new Tiktoken(jsRanks(n))]));
const wasm = new Map<EncodingName, WasmTiktoken>(ENCODING_NAMES.map((n) => [n, get_encoding(n)]));
after(() => wasm.forEach((e) => e.free()));

const viaWasm = (name: EncodingName, text: string) => Array.from(wasm.get(name)!.encode(text, [], []));
const viaJs = (name: EncodingName, text: string) => js.get(name)!.encode(text, [], []);

// Text that stresses the pre-tokenizer and the merge: scripts, emoji with joiners, whitespace runs, digits,
// contractions.
const fragment = fc.oneof(
  fc.constantFrom(
    '\u0085',
    '\u3000',
    '\u00a0',
    'a',
    'the',
    ' ',
    '  ',
    '\n',
    '\r\n',
    '\t',
    "'s",
    "'LL",
    "don't",
    '123',
    '4567',
    ',',
    '...',
    '!?',
    '😀',
    '👩‍👩‍👧',
    '🇺🇸',
    'é',
    'e\u0301',
    '语言',
    'Grüße',
    'Привет',
    'مرحبا',
    'नमस्ते',
    '<|endoftext|>',
    '\u200d',
    '\ufeff',
    'ǅ',
    'ﬁ',
    'ß',
    '\u0000',
  ),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.integer({ min: 1, max: 200 }).map((n) => 'z'.repeat(n)),
  fc.integer({ min: 1, max: 60 }).map((n) => ' '.repeat(n)),
);
const text = fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join(''));

describe('rank tables', () => {
  for (const name of ENCODING_NAMES) {
    it(`${name}: the built table holds exactly js-tiktoken's ranks and pattern`, () => {
      const source = jsRanks(name);
      const expected = parseJsTiktokenRanks(source, name);
      const table = decodeTable(readFileSync(new URL(`../src/tokens/tables/${name}.bin`, import.meta.url)));
      assert.equal(table.header.count, expected.header.count);
      assert.equal(table.header.patStr, source.pat_str);
      assert.deepEqual(table.header.specialTokens, source.special_tokens);
      for (let rank = 0; rank < table.header.count; rank++) {
        const got = table.bytes.subarray(table.offsets[rank], table.offsets[rank + 1]);
        const want = expected.tokens[rank] ?? new Uint8Array();
        assert.equal(Buffer.compare(Buffer.from(got), Buffer.from(want)), 0, `rank ${rank}`);
      }
    });

    it(`${name}: the hash index shipped in the table finds every rank, as one built at load would`, () => {
      const table = decodeTable(readFileSync(new URL(`../src/tokens/tables/${name}.bin`, import.meta.url)));
      assert.ok(table.index, 'the built table carries its index');
      assert.deepEqual(table.index, buildRankIndex(table.offsets, table.bytes, table.header.count));
      const encoder = new BytePairEncoder(table);
      for (let rank = 0; rank < table.header.count; rank++) {
        const token = encoder.tokenBytes(rank);
        if (token) assert.equal(encoder.rankOf(token, 0, token.length), rank, `rank ${rank}`);
      }
    });
  }

  it('a table in the earlier format (TKT1, no index) still loads, its index built at load', () => {
    const table = decodeTable(readFileSync(new URL('../src/tokens/tables/r50k_base.bin', import.meta.url)));
    const { indexSize: _, ...header } = table.header;
    const headerBytes = Buffer.from(JSON.stringify(header));
    const offsetsStart = Math.ceil((8 + headerBytes.length) / 4) * 4;
    const v1 = Buffer.alloc(offsetsStart + 4 * table.offsets.length + table.bytes.length);
    v1.write('TKT1', 0, 'latin1');
    v1.writeUInt32LE(headerBytes.length, 4);
    headerBytes.copy(v1, 8);
    table.offsets.forEach((offset, i) => v1.writeUInt32LE(offset, offsetsStart + 4 * i));
    Buffer.from(table.bytes).copy(v1, offsetsStart + 4 * table.offsets.length);
    const old = decodeTable(v1);
    assert.equal(old.index, undefined);
    assert.deepEqual(old.offsets, table.offsets);
    const text = 'Hello world, 1234 tokens ✓';
    assert.deepEqual(new BytePairEncoder(old).count, new BytePairEncoder(table).count);
    assert.deepEqual(
      Array.from(text, (c) => new BytePairEncoder(old).rankOf(Buffer.from(c), 0, Buffer.byteLength(c))),
      Array.from(text, (c) => new BytePairEncoder(table).rankOf(Buffer.from(c), 0, Buffer.byteLength(c))),
    );
  });
});

describe('exact ids', () => {
  for (const name of ENCODING_NAMES) {
    it(`${name}: equal to js-tiktoken and tiktoken (WASM) on generated text; decode(encode(x)) = x`, () => {
      const ours = getEncoding(name);
      fc.assert(
        fc.property(text, (t) => {
          const ids = ours.encode(t);
          assert.deepEqual(ids, viaWasm(name, t));
          // js-tiktoken runs the pattern with JavaScript's \s (U+FEFF in, U+0085 out), unlike tiktoken; elsewhere it
          // agrees.
          if (!/[\ufeff\u0085]/.test(t)) assert.deepEqual(ids, viaJs(name, t));
          assert.equal(ours.count(t), ids.length);
          assert.equal(ours.decode(ids), new TextDecoder().decode(new TextEncoder().encode(t)));
        }),
        { numRuns: Number(process.env.TOKENS_FUZZ_RUNS ?? 300) },
      );
    });
  }

  it("equal on a corpus of real text (package READMEs, this project's docs)", () => {
    const files = [
      'node_modules/openai/README.md',
      'node_modules/zod/README.md',
      'node_modules/@azure/functions/README.md',
      'node_modules/fast-check/README.md',
      'docs/api.md',
      'README.md',
    ];
    const corpus = files.map((f) => readFileSync(new URL(`../${f}`, import.meta.url), 'utf8')).join('\n');
    assert.ok(corpus.length > 20_000);
    for (const name of ENCODING_NAMES) assert.deepEqual(getEncoding(name).encode(corpus), viaWasm(name, corpus), name);
  });

  it('equal on long hostile pieces (one letter, one digit run, whitespace, base64), which take the heap merge', () => {
    const b64 = Buffer.from(Array.from({ length: 6000 }, (_, i) => (i * 7919) % 251)).toString('base64');
    for (const input of [
      'a'.repeat(20_000),
      'ab'.repeat(5000),
      '1'.repeat(3000),
      ' '.repeat(5000) + 'x',
      b64,
      'é'.repeat(4000),
      '语'.repeat(3000),
    ]) {
      for (const name of ENCODING_NAMES)
        assert.deepEqual(getEncoding(name).encode(input), viaWasm(name, input), `${name} ${input.slice(0, 8)}…`);
    }
  });

  it('handles special tokens as text unless allowed', () => {
    const cl = getEncoding('cl100k_base');
    const s = 'a<|endoftext|>b<|fim_prefix|>';
    assert.deepEqual(cl.encode(s), viaWasm('cl100k_base', s));
    assert.deepEqual(cl.encode(s, 'all'), Array.from(wasm.get('cl100k_base')!.encode(s, 'all')));
    assert.deepEqual(
      cl.encode(s, ['<|endoftext|>']),
      Array.from(wasm.get('cl100k_base')!.encode(s, ['<|endoftext|>'], [])),
    );
    assert.equal(cl.decode([100257]), '<|endoftext|>');
    assert.ok(cl.isValidToken(100257));
    assert.ok(!cl.isValidToken(100256 + 1000));
  });
});

describe('chat prompt counts per model family', () => {
  const messages = [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Knock knock.' },
    { role: 'assistant', content: "Who's there?" },
    { role: 'user', content: 'Orange.', name: 'bob' },
  ];
  // OpenAI cookbook: 3 tokens per message, +1 per name, +3 priming the reply, plus role/content/name tokens.
  for (const name of ['cl100k_base', 'o200k_base'] as const) {
    it(name, () => {
      const expected =
        3 +
        messages.reduce(
          (sum, m) =>
            sum +
            3 +
            viaWasm(name, m.role).length +
            viaWasm(name, m.content).length +
            (m.name ? 1 + viaWasm(name, m.name).length : 0),
          0,
        );
      assert.equal(countChatTokens(getEncoding(name), messages), expected);
    });
  }
});
