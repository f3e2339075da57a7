/**
 * POST /api/v1/tokenize through HTTP (issue 20): the ids path against `count_only`, real text against
 * gpt-tokenizer in-process, and the first large request after start against later ones — on the local host
 * under tsx (what `npm start` runs) and on the built bundle (dist/registry.js served by the same host code
 * compiled to plain JavaScript, no tsx). Time is until the whole answer is received (the client does not parse).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { buildSync } from 'esbuild';
import { encode as gptTokenizerEncode } from 'gpt-tokenizer/encoding/cl100k_base';
import { freePort } from '../dev/ports.js';
import { timedPost } from './measure.js';
import { startListening, type ChildServer } from './processes.js';

const root = new URL('../', import.meta.url).pathname;
const KB = 1024;
const REPS = Number(process.env.BENCH_REPS ?? 3);

if (!existsSync(`${root}dist/registry.js`) || process.env.BENCH_BUILD === '1') {
  spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}
// The local host's code bundled as plain JavaScript (its own copy of the few src/http helpers it uses: the
// app in dist/ then sees no client-gone signal, as in Azure), serving the bundled function list.
mkdirSync(`${root}.build`, { recursive: true });
buildSync({
  entryPoints: [`${root}dev/host.ts`],
  outfile: `${root}.build/bench-host.mjs`,
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  logLevel: 'error',
});
writeFileSync(
  `${root}.build/bench-dist-host.mjs`,
  `import { startLocalHost } from './bench-host.mjs';
// The deployed entry's handlers (each loads its route's module on first use, then warms a tokenizer worker).
const { handlers } = await import('../dist/index.js');
const { functions } = await import('../dist/registry.js');
const host = await startLocalHost({ functions: functions.map((f) => ({ ...f, handler: handlers.get(f.name) })), port: Number(process.env.PORT), log: false });
console.log('Local Functions host listening on ' + host.url);
`,
);

const sources = [
  'node_modules/openai/README.md',
  'node_modules/openai/CHANGELOG.md',
  'node_modules/zod/README.md',
  'node_modules/@azure/identity/README.md',
  'README.md',
  'docs/api.md',
];
const corpus = sources.map((f) => (existsSync(`${root}${f}`) ? readFileSync(`${root}${f}`, 'utf8') : '')).join('\n');
const real138 = corpus.slice(0, 138 * KB);
const real178 = corpus.slice(0, 178 * KB);
const base64 = randomBytes(384 * KB).toString('base64'); // 512 KB of text

type Target = { name: string; start: () => Promise<ChildServer> };

// BENCH_NODE: another Node.js for the servers (e.g. Node 22, what Azure runs).
const startChild = async (args: string[]) =>
  startListening(args, { PORT: String(await freePort()), HOST_LOG: 'false' }, process.env.BENCH_NODE);

const targets: Target[] = [
  { name: 'local host (tsx)', start: () => startChild(['--import', 'tsx', 'dev/host.ts']) },
  { name: 'dist/ (plain node)', start: () => startChild(['.build/bench-dist-host.mjs']) },
];

const agent = new http.Agent({ keepAlive: true });
const post = (url: string, body: unknown) => timedPost(url, JSON.stringify(body), agent);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, Record<string, number>> = {};
const letters = 'bcdefghijklmnopqrstuvwxyz';

for (const target of targets) {
  const r: Record<string, number> = {};
  // First use: a fresh process, its first request a 200K run of one letter (count_only), then later ones.
  const firsts: number[] = [];
  const laters: number[] = [];
  const firstReal: number[] = [];
  const afterFirstAnswer: number[] = [];
  // The route's own cold start, whatever the size: a small request as the very first, against a later small one.
  const firstSmall: number[] = [];
  const laterSmall: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const { url, child } = await target.start();
    firsts.push((await post(`${url}/v1/tokenize`, { text: 'a'.repeat(200 * KB), count_only: true })).ms);
    for (let i = 0; i < 5; i++)
      laters.push((await post(`${url}/v1/tokenize`, { text: letters[i]!.repeat(200 * KB), count_only: true })).ms);
    child.kill();
    // The case the background worker is for: the first large request comes after the instance's first answer.
    const settled = await target.start();
    firstSmall.push((await post(`${settled.url}/v1/tokenize`, { text: 'tiktoken is great!' })).ms);
    laterSmall.push((await post(`${settled.url}/v1/tokenize`, { text: 'tiktoken is good!' })).ms);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    afterFirstAnswer.push(
      (await post(`${settled.url}/v1/tokenize`, { text: 'a'.repeat(200 * KB), count_only: true })).ms,
    );
    settled.child.kill();
    const fresh = await target.start();
    firstReal.push((await post(`${fresh.url}/v1/tokenize`, { text: real178 })).ms);
    fresh.child.kill();
  }
  r.first200kLetter = median(firsts);
  r.later200kLetter = median(laters);
  r.firstReal178 = median(firstReal);
  r.afterFirstAnswer200kLetter = median(afterFirstAnswer);
  r.routeColdMs = median(firstSmall) - median(laterSmall);

  // Warm: ids vs count_only, alternating, medians of 15.
  const { url, child } = await target.start();
  for (const [name, text] of [
    ['real138', real138],
    ['base64_512', base64],
    ['real178', real178],
  ] as const) {
    for (let i = 0; i < 3; i++) await post(`${url}/v1/tokenize`, { text });
    const count: number[] = [];
    const ids: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 15; i++) {
      count.push((await post(`${url}/v1/tokenize`, { text, count_only: true })).ms);
      const res = await post(`${url}/v1/tokenize`, { text });
      if (res.status !== 200) throw new Error(`${target.name}: ${res.status}`);
      ids.push(res.ms);
      bytes = res.bytes;
    }
    r[`${name}_count`] = median(count);
    r[`${name}_ids`] = median(ids);
    r[`${name}_jsonKB`] = bytes / KB;
  }
  child.kill();
  results[target.name] = r;
}

// gpt-tokenizer in this process, on the same 178 KB (warm, median of 15).
const gpt: number[] = [];
for (let i = 0; i < 18; i++) {
  const t = performance.now();
  gptTokenizerEncode(real178);
  if (i >= 3) gpt.push(performance.now() - t);
}
const gptMs = median(gpt);

const f = (n: number) => n.toFixed(1);
console.log('\n| target | input | count_only ms | ids ms | ids / count_only | answer KB |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const [name, r] of Object.entries(results)) {
  for (const [input, label] of [
    ['real138', '138 KB real text'],
    ['base64_512', '512 KB random base64'],
    ['real178', '178 KB real text'],
  ] as const) {
    console.log(
      `| ${name} | ${label} | ${f(r[`${input}_count`]!)} | ${f(r[`${input}_ids`]!)} | ${(r[`${input}_ids`]! / r[`${input}_count`]!).toFixed(2)} | ${f(r[`${input}_jsonKB`]!)} |`,
    );
  }
}
console.log(`\ngpt-tokenizer in-process, 178 KB real text: ${f(gptMs)} ms`);
console.log(
  '\n| target | 178 KB real text ids, warm: × gpt-tokenizer | first request after start: 178 KB real ids ms (× gpt-tokenizer) | first 200K one-letter ms, as the first request | later ones ms | first / later | first 200K one-letter ms, 1 s after a small first request | that / later | route cold start (first small request − a later one), ms | (first − route cold start) / later |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `| ${name} | ${(r.real178_ids! / gptMs).toFixed(2)} | ${f(r.firstReal178!)} (${(r.firstReal178! / gptMs).toFixed(2)}) | ${f(r.first200kLetter!)} | ${f(r.later200kLetter!)} | ${(r.first200kLetter! / r.later200kLetter!).toFixed(2)} | ${f(r.afterFirstAnswer200kLetter!)} | ${(r.afterFirstAnswer200kLetter! / r.later200kLetter!).toFixed(2)} | ${f(r.routeColdMs!)} | ${((r.first200kLetter! - r.routeColdMs!) / r.later200kLetter!).toFixed(2)} |`,
  );
}
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/tokenize-http.json`, JSON.stringify({ results, gptMs }, null, 2));
agent.destroy();
