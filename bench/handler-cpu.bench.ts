/**
 * This project's own cost per chat request against the floor (issue 20), in CPU time rather than throughput: both
 * handlers run in one child process (bench/handler-cpu-child.mjs, plain JavaScript) on the same `@azure/functions`
 * HttpRequest/InvocationContext objects the local host builds, 16 requests at a time, against the simulator in its
 * own process (its CPU is not counted). The API comes from the built bundle (what Azure runs) and, for reference,
 * from the sources under tsx (whose transform adds a `__name` call to every closure made per request). The floor
 * reads the body and forwards it through a keep-alive agent; the API validates, resolves the deployment, calls the
 * upstream through its client and relays the answer. CPU per request barely moves when other processes compete
 * for the cores, where requests per second on a shared 2-core machine swing by 2×.
 */
import { spawnSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { DIST_BUNDLE_OPTIONS } from '../scripts/bundle-options.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { pinnedCpus, startSimulatorProcess } from './processes.js';

const root = new URL('../', import.meta.url).pathname;
// Short rounds, many of them: the machine's speed drifts over seconds, and a pair of short neighbouring rounds sees
// the same speed (1,000 × 40 moved the ratio by ±0.01 between runs where 3,000 × 15 moved it by ±0.04).
const N = Number(process.env.BENCH_REQUESTS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const pin = pinnedCpus();

const sim = await startSimulatorProcess(pin?.upstream);
if (!existsSync(`${root}dist/registry.js`) || process.env.BENCH_BUILD === '1')
  spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });

// BENCH_LAYERS=1: also the chat route built up one layer at a time (bench/handler-layers.ts), bundled as dist/ is.
const layersBundle = `${root}.build/handler-layers.mjs`;
if (process.env.BENCH_LAYERS === '1') {
  buildSync({
    ...DIST_BUNDLE_OPTIONS,
    sourcemap: false,
    entryPoints: [`${root}bench/handler-layers.ts`],
    outfile: layersBundle,
    logLevel: 'error',
  });
}

type Rounds = Record<string, number[]> & { floor: number[]; api: number[] };

/** One child process per variant; each alternates floor and API rounds and reports CPU ms per request. */
function measure(source: 'dist' | 'src', env: Record<string, string> = {}): Rounds {
  const args = source === 'src' ? ['--import', 'tsx'] : [];
  const layers = source === 'dist' && process.env.BENCH_LAYERS === '1' ? { HANDLER_LAYERS: layersBundle } : {};
  // BENCH_NODE: another Node.js for the measuring child (e.g. Node 22, what Azure runs).
  const node = process.env.BENCH_NODE ?? process.execPath;
  const command = pin ? ['taskset', '-c', String(pin.measured), node] : [node];
  const child = spawnSync(command[0]!, [...command.slice(1), ...args, 'bench/handler-cpu-child.mjs'], {
    cwd: root,
    env: {
      ...process.env,
      ...layers,
      AZURE_OPENAI_ENDPOINT: sim.url,
      AZURE_OPENAI_API_KEY: 'bench',
      BENCH_REQUESTS: String(N),
      BENCH_ROUNDS: String(ROUNDS),
      API_SOURCE: source,
      ...env,
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = /RESULT (.*)/.exec(child.stdout)?.[1];
  if (!line) throw new Error(`handler-cpu child (${source}) failed: ${child.stdout}`);
  return JSON.parse(line) as Rounds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const report: Record<string, { floorMs: number; apiMs: number; ratio: number; rounds: unknown }> = {};
// Paired rounds (a floor round and the rounds right after it) cancel the machine's slow swings in speed.
const pairedRatio = (results: Rounds, name: string) => median(results.floor.map((f, i) => f / results[name]![i]!));
let layered: Rounds | undefined;
console.log(
  `\n## Chat handler CPU per request, ${N} requests × ${ROUNDS} alternating rounds (medians; the ratio is the median of paired rounds)${pin ? `; measured process on CPU ${pin.measured}, simulator on CPU ${pin.upstream}` : ''}\n`,
);
console.log('| API loaded from | floor ms | this API ms | this API / floor (requests per CPU second) |');
console.log('| --- | ---: | ---: | ---: |');
for (const source of ['dist', 'src'] as const) {
  const results = measure(source);
  const floorMs = median(results.floor);
  const apiMs = median(results.api);
  const ratio = pairedRatio(results, 'api');
  if (source === 'dist' && process.env.BENCH_LAYERS === '1') layered = results;
  report[source] = { floorMs, apiMs, ratio, rounds: results };
  const label = source === 'dist' ? 'dist/ (the bundle Azure runs)' : 'src/ under tsx (`npm start`)';
  console.log(`| ${label} | ${floorMs.toFixed(3)} | ${apiMs.toFixed(3)} | ${ratio.toFixed(2)} |`);
}
if (layered) {
  console.log('\n### The chat route one layer at a time (dist-style bundle of bench/handler-layers.ts, same rounds)\n');
  console.log('| handler | CPU ms / request | floor / this (requests per CPU second) |');
  console.log('| --- | ---: | ---: |');
  for (const name of Object.keys(layered))
    console.log(
      `| ${name === 'api' ? 'the whole chat route (dist/)' : name} | ${median(layered[name]!).toFixed(3)} | ${pairedRatio(layered, name).toFixed(2)} |`,
    );
}
// Streamed chat (`stream: true`, ~30 events an answer) from dist/, against a floor that passes the upstream's event
// stream on as bytes; with a one-line prompt and after 20 turns of history (12 KB of prompt).
const STREAM_N = Number(process.env.BENCH_STREAM_REQUESTS ?? 300);
const STREAM_ROUNDS = Number(process.env.BENCH_STREAM_ROUNDS ?? 20);
console.log(`\n## Streamed chat, CPU per request, dist/, ${STREAM_N} requests × ${STREAM_ROUNDS} alternating rounds\n`);
console.log('| prompt | floor ms | this API ms | this API / floor (requests per CPU second) |');
console.log('| --- | ---: | ---: | ---: |');
for (const history of [0, 20]) {
  const results = measure('dist', {
    BENCH_STREAM: '1',
    BENCH_HISTORY: String(history),
    BENCH_REQUESTS: String(STREAM_N),
    BENCH_ROUNDS: String(STREAM_ROUNDS),
  });
  const floorMs = median(results.floor);
  const apiMs = median(results.api);
  const ratio = pairedRatio(results, 'api');
  report[`stream-history-${history}`] = { floorMs, apiMs, ratio, rounds: results };
  const label = history ? `${history} turns of history (12 KB)` : 'one line';
  console.log(`| ${label} | ${floorMs.toFixed(3)} | ${apiMs.toFixed(3)} | ${ratio.toFixed(2)} |`);
}
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/handler-cpu.json`, JSON.stringify(report, null, 2));
sim.child.kill();
process.exit(0);
