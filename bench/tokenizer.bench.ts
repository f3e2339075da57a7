/**
 * Tokenizers side by side, in one run, on the same inputs (cl100k_base): this project's engine, js-tiktoken,
 * tiktoken (OpenAI's Rust core as WASM), gpt-tokenizer and @microsoft/tiktokenizer. Then load time and heap
 * per encoding, each in a fresh process, and fairness: small requests' latency while a big one is encoded.
 * Where a library is quadratic on an input and would take over a minute, it is skipped (figures from
 * ../shared/measured.md say how long it took there).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenizer, getRegexByEncoder, getSpecialTokensByEncoder } from '@microsoft/tiktokenizer';
import { encode as gptTokenizerEncode } from 'gpt-tokenizer/encoding/cl100k_base';
import { Tiktoken } from 'js-tiktoken/lite';
import { get_encoding } from 'tiktoken';
import { getEncoding } from '../src/tokens/encodings.js';
import { startStack } from '../test/helpers/stack.js';

const require = createRequire(import.meta.url);
const root = new URL('../', import.meta.url).pathname;
const KB = 1024;

// Real mixed text, not one paragraph repeated: package READMEs and changelogs, this project's docs.
const sources = [
  'node_modules/openai/README.md',
  'node_modules/openai/CHANGELOG.md',
  'node_modules/zod/README.md',
  'node_modules/fast-check/README.md',
  'node_modules/@azure/functions/README.md',
  'node_modules/@azure/identity/README.md',
  'node_modules/@azure/data-tables/README.md',
  'node_modules/typescript/README.md',
  'README.md',
  'docs/api.md',
];
const mixed = sources
  .map((f) => {
    try {
      return readFileSync(`${root}${f}`, 'utf8');
    } catch {
      return '';
    }
  })
  .join('\n')
  .slice(0, 200 * KB);

const inputs: { name: string; text: string }[] = [
  { name: `mixed real text (${Math.round(mixed.length / KB)} KB)`, text: mixed },
  { name: '20 KB of one letter', text: 'a'.repeat(20 * KB) },
  { name: '200 KB of one letter', text: 'a'.repeat(200 * KB) },
  { name: '512 KB of one letter', text: 'a'.repeat(512 * KB) },
  { name: '512 KB random base64', text: randomBytes(384 * KB).toString('base64') },
];

const ranks = require('js-tiktoken/ranks/cl100k_base');
const jsTiktoken = new Tiktoken(ranks.default ?? ranks);
const wasm = get_encoding('cl100k_base');
// @microsoft/tiktokenizer reads a .tiktoken rank file: write one from the same ranks.
const dir = mkdtempSync(join(tmpdir(), 'tiktokenizer-'));
const rankFile = join(dir, 'cl100k_base.tiktoken');
{
  const lines: string[] = [];
  for (const line of (ranks.default ?? ranks).bpe_ranks.split('\n')) {
    if (!line) continue;
    const [, first, ...tokens] = line.split(' ');
    tokens.forEach((t: string, i: number) => lines.push(`${t} ${Number(first) + i}`));
  }
  writeFileSync(rankFile, lines.join('\n'));
}
const microsoft = createTokenizer(rankFile, getSpecialTokensByEncoder('cl100k_base'), getRegexByEncoder('cl100k_base'));
const ours = getEncoding('cl100k_base');

type Encoder = (text: string) => number;
const libraries: { name: string; encode: Encoder; skip: (input: string) => string | null }[] = [
  { name: 'this project', encode: (t) => ours.encode(t).length, skip: () => null },
  {
    name: 'js-tiktoken 1.0.21',
    encode: (t) => jsTiktoken.encode(t).length,
    skip: (n) => (/one letter/.test(n) ? 'quadratic: 52 s for 20 KB in measured.md' : null),
  },
  {
    name: 'tiktoken (WASM)',
    encode: (t) => wasm.encode(t).length,
    skip: (n) => (/(200|512) KB of one letter/.test(n) ? 'quadratic: 67 s for 200 KB in measured.md' : null),
  },
  {
    name: 'gpt-tokenizer',
    encode: (t) => gptTokenizerEncode(t).length,
    skip: (n) => (/(200|512) KB of one letter/.test(n) ? 'quadratic: 32 s for 200 KB in measured.md' : null),
  },
  {
    name: '@microsoft/tiktokenizer',
    encode: (t) => microsoft.encode(t).length,
    skip: (n) => (/(200|512) KB of one letter/.test(n) ? 'quadratic: 1 s for 20 KB, ~100× that for 200 KB' : null),
  },
];

/** A different text of the same kind for each run, so no library's piece cache answers from a previous run. */
function variant(text: string, run: number): string {
  if (/^a+$/.test(text)) return String.fromCharCode(98 + run).repeat(text.length);
  return `${run}${text.slice((run * 7919) % 1000)}${text.slice(0, (run * 7919) % 1000)}`;
}

function time(encode: Encoder, text: string): { ms: number; tokens: number } {
  let best = Infinity;
  let tokens = 0;
  for (let run = 0; run < 3; run++) {
    const input = variant(text, run);
    const start = performance.now();
    tokens = encode(input);
    const ms = performance.now() - start;
    best = Math.min(best, ms);
    if (ms > 1000) break; // one run is enough for slow cases
  }
  return { ms: best, tokens };
}

const results: Record<string, Record<string, string>> = {};
console.log('\n## Encode time, cl100k_base (best of 3 runs, each on a fresh variant of the input, ms)\n');
console.log(`| input | ${libraries.map((l) => l.name).join(' | ')} |`);
console.log(`| --- | ${libraries.map(() => '---:').join(' | ')} |`);
for (const input of inputs) {
  // Warm each library once on this kind of input (JIT), on a small slice.
  for (const lib of libraries) if (!lib.skip(input.name)) lib.encode(input.text.slice(0, 2000).replace(/a/g, 'z'));
  const cells = libraries.map((lib) => {
    const why = lib.skip(input.name);
    if (why) return `skipped (${why})`;
    const { ms } = time(lib.encode, input.text);
    return ms.toFixed(ms < 10 ? 1 : 0);
  });
  results[input.name] = Object.fromEntries(libraries.map((l, i) => [l.name, cells[i]!]));
  console.log(`| ${input.name} | ${cells.join(' | ')} |`);
}
wasm.free();

// Load: a fresh process per library and encoding; time from import to the first encode done, and the memory it keeps.
const loaders: Record<string, (encoding: string) => string> = {
  'this project': (e) =>
    `const { getEncoding } = await import('${root}src/tokens/encodings.ts'); const enc = getEncoding('${e}'); enc.encode('hello world');`,
  'js-tiktoken': (e) =>
    `const { Tiktoken } = await import('js-tiktoken/lite'); const r = (await import('js-tiktoken/ranks/${e}')).default; const enc = new Tiktoken(r); enc.encode('hello world');`,
  'tiktoken (WASM)': (e) =>
    `const { get_encoding } = await import('tiktoken'); const enc = get_encoding('${e}'); enc.encode('hello world');`,
  'gpt-tokenizer': (e) => `const { encode } = await import('gpt-tokenizer/encoding/${e}'); encode('hello world');`,
};
console.log('\n## Load: import to first encode, fresh process (median of 3), and memory kept (heap + array buffers)\n');
console.log('| library | encoding | load ms | memory MB |');
console.log('| --- | --- | ---: | ---: |');
const loadResults: unknown[] = [];
for (const [lib, code] of Object.entries(loaders)) {
  for (const encoding of lib === 'this project'
    ? ['cl100k_base', 'o200k_base', 'p50k_base', 'r50k_base']
    : ['cl100k_base', 'o200k_base']) {
    const runs: { ms: number; mb: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const script = `globalThis.gc(); const m0 = process.memoryUsage(); const t0 = performance.now(); ${code(encoding)} const ms = performance.now() - t0; globalThis.gc(); const m1 = process.memoryUsage();
        console.log(JSON.stringify({ ms, mb: (m1.heapUsed + m1.arrayBuffers - m0.heapUsed - m0.arrayBuffers) / 1048576 }));`;
      const args =
        lib === 'this project'
          ? ['--import', 'tsx', '--expose-gc', '--input-type=module', '-e', script]
          : ['--expose-gc', '--input-type=module', '-e', script];
      const out = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
      runs.push(JSON.parse(out.stdout.trim().split('\n').at(-1)!));
    }
    runs.sort((a, b) => a.ms - b.ms);
    const median = runs[1]!;
    loadResults.push({ lib, encoding, ...median });
    console.log(`| ${lib} | ${encoding} | ${median.ms.toFixed(0)} | ${median.mb.toFixed(1)} |`);
  }
}

// Fairness: small tokenize requests to the API while one 512 KB single-letter request is being encoded.
const stack = await startStack({
  name: 'bench-tokenizer',
  env: { HOST_LOG: 'false', MAX_REQUEST_BODY_BYTES: String(2 * 1024 * 1024) },
});
const small = JSON.stringify({ text: 'Knock knock. Who is there?', count_only: true });
const post = (body: string) =>
  fetch(`${stack.url}/v1/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
    (r) => r.text(),
  );
for (let i = 0; i < 50; i++) await post(small);
const idle: number[] = [];
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  await post(small);
  idle.push(performance.now() - t);
}
const bigStart = performance.now();
const big = post(JSON.stringify({ text: 'a'.repeat(512 * KB), count_only: true })).then(
  () => performance.now() - bigStart,
);
const during: number[] = [];
await new Promise((r) => setTimeout(r, 5));
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  await post(small);
  during.push(performance.now() - t);
}
const bigMs = await big;
await stack.stop();
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
console.log('\n## Fairness (HTTP, local host)\n');
console.log(
  `512 KB one-letter count request: ${bigMs.toFixed(0)} ms. Small requests idle: p50 ${pct(idle, 0.5).toFixed(1)} ms, max ${Math.max(...idle).toFixed(1)} ms; during the big one: p50 ${pct(during, 0.5).toFixed(1)} ms, max ${Math.max(...during).toFixed(1)} ms.`,
);

mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(
  `${root}bench/results/tokenizer.json`,
  JSON.stringify({ encode: results, load: loadResults, fairness: { bigMs, idle, during } }, null, 2),
);
