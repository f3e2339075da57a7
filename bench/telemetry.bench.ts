/**
 * What the request telemetry costs (docs/benchmarks.md, "Telemetry"):
 * 1. per request, in-process CPU: open a record, fill it as a chat does, write it (text or JSON line to a no-op
 *    logger), and record its metrics — with no meter (the local default) and with an SDK MeterProvider bound;
 * 2. cold start, fresh processes on the deployed bundle: the entry, the function list (the first request's
 *    import, which now carries the telemetry code), and the lazy metrics export (import + start), which the first
 *    record triggers after its answer.
 * BENCH_BASELINE_DIST=<another build's dist/> times its entry and function list too (e.g. main before telemetry);
 * BENCH_DISTRO_DIR=<a folder with @azure/monitor-opentelemetry installed> times the whole distro's import.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { callerHash } from '../src/telemetry/caller.js';
import { formatRecord, type LogFormat } from '../src/telemetry/format.js';
import { bindMeter, recordMetrics, unbindMeter } from '../src/telemetry/metrics.js';
import { RequestRecord } from '../src/telemetry/record.js';

const root = new URL('../', import.meta.url).pathname;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// 1. Per request.
function chatRequest(format: LogFormat, metrics: boolean, i: number): void {
  const caller = callerHash(`user-${i % 100}`, 'bench-salt');
  const record = new RequestRecord(
    `req-${i}`,
    { function: 'chatCompletions', route: 'v1/chat/completions', method: 'POST', caller },
    (f) => {
      const line = formatRecord(f, format);
      if (line.length === 0) throw new Error('empty');
      if (metrics) recordMetrics(f);
    },
  );
  record.deployment = 'gpt-4o-mini';
  record.quota = 'granted';
  record.upstreamSend('oai-example.openai.azure.com');
  record.upstreamHeaders(200);
  record.upstreamDone();
  record.tokens(120, 45, 'upstream');
  record.answer(200);
}

function perRequest(
  label: string,
  format: LogFormat,
  metrics: boolean,
  n = 100_000,
): { label: string; usPerRequest: number } {
  for (let i = 0; i < 5_000; i++) chatRequest(format, metrics, i);
  const samples: number[] = [];
  for (let round = 0; round < 5; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++) chatRequest(format, metrics, i);
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / n);
  }
  return { label, usPerRequest: median(samples) };
}

class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const results = [
  perRequest('text line, no meter (npm start)', 'text', false),
  perRequest('JSON line, no meter', 'json', false),
];
const provider = new MeterProvider({ readers: [new PullReader()] });
bindMeter(provider.getMeter('bench'));
results.push(perRequest('JSON line + metrics on an SDK MeterProvider (Azure)', 'json', true));
unbindMeter();
const hashStart = process.cpuUsage();
for (let i = 0; i < 20_000; i++) callerHash(`fresh-user-${i}`, 'bench-salt');
const hashUs = (process.cpuUsage(hashStart).user + process.cpuUsage(hashStart).system) / 20_000;
console.log('\nper request (CPU µs, median of 5 × 100k):');
for (const r of results) console.log(`  ${r.label.padEnd(55)} ${r.usPerRequest.toFixed(2)} µs`);
console.log(`  ${'caller hash, uncached (HMAC-SHA256)'.padEnd(55)} ${hashUs.toFixed(2)} µs`);

// 2. Cold start, on the deployed bundle.
if (!existsSync(`${root}dist/index.js`))
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: root, stdio: 'inherit' });

function fresh(script: string, cwd = root): Record<string, number> {
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
    timeout: 60_000,
  });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout.trim().split('\n').at(-1)!);
}

function loadTimes(dist: string, runs = 7) {
  const script = `
    const t0 = performance.now(); await import('${dist}/index.js');
    const t1 = performance.now(); await import('${dist}/registry.js');
    const t2 = performance.now();
    console.log(JSON.stringify({ entry: t1 - t0, registry: t2 - t1 }));
    process.exit(0);`;
  const samples = Array.from({ length: runs }, () => fresh(script));
  return { entry: median(samples.map((s) => s.entry!)), registry: median(samples.map((s) => s.registry!)) };
}

const chunk = readdirSync(`${root}dist`).find((f) => /^azure-monitor-.*\.js$/.test(f));
if (!chunk) throw new Error('no azure-monitor chunk in dist/');
const exportScript = `
  process.env.IDENTITY_ENDPOINT = 'http://127.0.0.1:9/identity';
  await import('${root}dist/registry.js');
  const t0 = performance.now();
  const m = await import('${root}dist/${chunk}');
  const t1 = performance.now();
  await m.startAzureMonitor('InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/', 'bench-client-id');
  const t2 = performance.now();
  console.log(JSON.stringify({ importMs: t1 - t0, startMs: t2 - t1, rssMb: process.memoryUsage().rss / 1048576 }));
  process.exit(0);`;
const exportRuns = Array.from({ length: 7 }, () => fresh(exportScript));
const load = loadTimes(`${root}dist`);
console.log('\ncold start (ms, median of 7 fresh processes):');
console.log(
  `  entry dist/index.js ${load.entry.toFixed(1)}, function list dist/registry.js ${load.registry.toFixed(1)}`,
);
if (process.env.BENCH_BASELINE_DIST) {
  const base = loadTimes(process.env.BENCH_BASELINE_DIST);
  console.log(`  baseline: entry ${base.entry.toFixed(1)}, function list ${base.registry.toFixed(1)}`);
}
console.log(
  `  metrics export (lazy, after the first answer): import ${median(exportRuns.map((r) => r.importMs!)).toFixed(1)}, ` +
    `start ${median(exportRuns.map((r) => r.startMs!)).toFixed(1)}, rss after ${median(exportRuns.map((r) => r.rssMb!)).toFixed(0)} MB`,
);
if (process.env.BENCH_DISTRO_DIR) {
  const distro = Array.from({ length: 5 }, () =>
    fresh(
      `const t0 = performance.now(); await import('@azure/monitor-opentelemetry'); console.log(JSON.stringify({ ms: performance.now() - t0 })); process.exit(0);`,
      process.env.BENCH_DISTRO_DIR,
    ),
  );
  console.log(
    `  for comparison, import of the whole @azure/monitor-opentelemetry distro: ${median(distro.map((d) => d.ms!)).toFixed(1)}`,
  );
}
