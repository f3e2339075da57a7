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
import { freePort } from '../dev/ports.js';
import { timedPost } from './measure.js';
import { startListening, type ChildServer } from './processes.js';

const root = new URL('../', import.meta.url).pathname;
const KB = 1024;
const REPS = Number(process.env.BENCH_REPS ?? 5);
const WARM_PROCESSES = 3;

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
// The first and the later requests carry the same text: the engine's cost depends on the letter (a warm 200K run
// of `a` makes 25,600 tokens and takes ~15% longer than one of `b`, 51,200 tokens; `f` ~25% longer), so comparing a
// first `a` with later `b`…`f`, as this bench did until the fifth pass, counted that difference as a cold worker.
const LARGE = 'a'.repeat(200 * KB);

/** first / the median of five later requests of the same text, in the same process (processes differ by ±20%). */
const firstOverLater = async (url: string) => {
  const first = (await post(`${url}/v1/tokenize`, { text: LARGE, count_only: true })).ms;
  const later: number[] = [];
  for (let i = 0; i < 5; i++) later.push((await post(`${url}/v1/tokenize`, { text: LARGE, count_only: true })).ms);
  return { first, later: median(later), ratio: first / median(later) };
};

for (const target of targets) {
  const r: Record<string, number> = {};
  // First use: a fresh process, its first request a 200K run of one letter (count_only), then later ones.
  const veryFirst: { first: number; later: number; ratio: number }[] = [];
  const afterFirstAnswer: typeof veryFirst = [];
  const firstReal: number[] = [];
  // The route's own cold start, whatever the size: a small request as the very first, against a later small one.
  const firstSmall: number[] = [];
  const laterSmall: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const { url, child } = await target.start();
    veryFirst.push(await firstOverLater(url));
    child.kill();
    // The case the background worker is for: the first large request comes after the instance's first answer.
    const settled = await target.start();
    firstSmall.push((await post(`${settled.url}/v1/tokenize`, { text: 'tiktoken is great!' })).ms);
    laterSmall.push((await post(`${settled.url}/v1/tokenize`, { text: 'tiktoken is good!' })).ms);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    afterFirstAnswer.push(await firstOverLater(settled.url));
    settled.child.kill();
    const fresh = await target.start();
    firstReal.push((await post(`${fresh.url}/v1/tokenize`, { text: real178 })).ms);
    fresh.child.kill();
  }
  r.first200kLetter = median(veryFirst.map((x) => x.first));
  r.later200kLetter = median([...veryFirst, ...afterFirstAnswer].map((x) => x.later));
  r.firstOverLater = median(veryFirst.map((x) => x.ratio));
  r.firstReal178 = median(firstReal);
  r.afterFirstAnswer200kLetter = median(afterFirstAnswer.map((x) => x.first));
  r.afterFirstAnswerOverLater = median(afterFirstAnswer.map((x) => x.ratio));
  r.routeColdMs = median(firstSmall) - median(laterSmall);

  // Warm: ids vs count_only, alternating, medians of 15 per process; three processes, the median of each figure.
  const perProcess: Record<string, number>[] = [];
  for (let p = 0; p < WARM_PROCESSES; p++) {
    const one: Record<string, number> = {};
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
      one[`${name}_count`] = median(count);
      one[`${name}_ids`] = median(ids);
      one[`${name}_ratio`] = median(ids) / median(count);
      one[`${name}_jsonKB`] = bytes / KB;
    }
    child.kill();
    perProcess.push(one);
  }
  for (const key of Object.keys(perProcess[0]!)) r[key] = median(perProcess.map((one) => one[key]!));
  results[target.name] = r;
}

// gpt-tokenizer in-process on the servers' Node.js (BENCH_NODE), on the same 178 KB: warm, median of 15 in each of
// three processes, the median of those (a process runs the same code ±20% faster or slower than another).
writeFileSync(`${root}.build/real178.txt`, real178);
const gptChild = `import { readFileSync } from 'node:fs';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
const text = readFileSync('.build/real178.txt', 'utf8');
const ms = [];
for (let i = 0; i < 18; i++) { const t = performance.now(); encode(text); if (i >= 3) ms.push(performance.now() - t); }
console.log(ms.sort((a, b) => a - b)[7]);`;
const gptRuns = [0, 1, 2].map(() => {
  const run = spawnSync(process.env.BENCH_NODE ?? process.execPath, ['--input-type=module', '-e', gptChild], {
    cwd: root,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`gpt-tokenizer child: ${run.stderr}`);
  return Number(run.stdout.trim());
});
const gptMs = median(gptRuns);

const f = (n: number) => n.toFixed(1);
console.log('\n| target | input | count_only ms | ids ms | ids / count_only (same process) | answer KB |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
for (const [name, r] of Object.entries(results)) {
  for (const [input, label] of [
    ['real138', '138 KB real text'],
    ['base64_512', '512 KB random base64'],
    ['real178', '178 KB real text'],
  ] as const) {
    console.log(
      `| ${name} | ${label} | ${f(r[`${input}_count`]!)} | ${f(r[`${input}_ids`]!)} | ${r[`${input}_ratio`]!.toFixed(2)} | ${f(r[`${input}_jsonKB`]!)} |`,
    );
  }
}
console.log(
  `\ngpt-tokenizer in-process, 178 KB real text: ${f(gptMs)} ms (three processes: ${gptRuns.map(f).join(', ')})`,
);
console.log(
  '\n| target | 178 KB real text ids, warm: × gpt-tokenizer | first request after start: 178 KB real ids ms (× gpt-tokenizer) | first 200K one-letter ms, as the first request | later ones ms | first / later (same process) | first 200K one-letter ms, 1 s after a small first request | that / later (same process) | route cold start (first small request − a later one), ms | (first − route cold start) / later |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `| ${name} | ${(r.real178_ids! / gptMs).toFixed(2)} | ${f(r.firstReal178!)} (${(r.firstReal178! / gptMs).toFixed(2)}) | ${f(r.first200kLetter!)} | ${f(r.later200kLetter!)} | ${r.firstOverLater!.toFixed(2)} | ${f(r.afterFirstAnswer200kLetter!)} | ${r.afterFirstAnswerOverLater!.toFixed(2)} | ${f(r.routeColdMs!)} | ${((r.first200kLetter! - r.routeColdMs!) / r.later200kLetter!).toFixed(2)} |`,
  );
}
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/tokenize-http.json`, JSON.stringify({ results, gptMs }, null, 2));
agent.destroy();
