/**
 * The API's own overhead on the model path: non-streamed chat through this API (local host) vs a bare Node
 * pass-through proxy in front of the same simulator (no added latency), in one run; then the extra time to
 * the first streamed byte. Everything on loopback; the load generator is this process, each server its own.
 */
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { freePort } from '../dev/ports.js';
import { startApp } from '../test/helpers/stack.js';
import { cpuMs, timedPost } from './measure.js';
import { startListening as startChild, startSimulatorProcess } from './processes.js';

const root = new URL('../', import.meta.url).pathname;
const CONNECTIONS = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const RUNS = 3;

const sim = await startSimulatorProcess();
const bare = await startChild(['bench/bare-proxy.mjs'], { UPSTREAM: sim.url, PORT: String(await freePort()) });
const floorHost = await startChild(['--import', 'tsx', 'bench/floor-host.ts'], {
  UPSTREAM: sim.url,
  PORT: String(await freePort()),
});
const app = await startApp(
  { AZURE_OPENAI_ENDPOINT: sim.url, AZURE_OPENAI_API_KEY: 'bench', HOST_LOG: 'false' },
  'bench-proxy',
);

const body = JSON.stringify({ messages: [{ role: 'user', content: 'Knock knock.' }], temperature: 0 });
const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
const request = (url: string, payload = body) => timedPost(url, payload, agent);

async function load(url: string, seconds: number, pid?: number) {
  const cpuBefore = pid ? cpuMs(pid) : 0;
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const r = await request(url);
        if (r.status !== 200) errors++;
        latencies.push(r.ms);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
  const cpuPerRequest = pid ? (cpuMs(pid) - cpuBefore) / latencies.length : NaN;
  return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors, cpuPerRequest };
}

const targets = {
  'bare proxy': `${bare.url}/api/v1/chat/completions`,
  'floor (@azure/functions, local host)': `${floorHost.url}/v1/chat/completions`,
  'this API': `${app.url}/v1/chat/completions`,
};
const pids: Record<keyof typeof targets, number> = {
  'bare proxy': bare.child.pid!,
  'floor (@azure/functions, local host)': floorHost.child.pid!,
  'this API': app.process.pid!,
};
for (const url of Object.values(targets)) await load(url, 2);
const runs: Record<string, { rps: number; p50: number; p99: number; errors: number; cpuPerRequest: number }[]> =
  Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
for (let run = 0; run < RUNS; run++)
  for (const [name, url] of Object.entries(targets))
    runs[name]!.push(await load(url, SECONDS, pids[name as keyof typeof targets]));

console.log(`\n## Non-streamed chat, ${CONNECTIONS} connections, ${SECONDS} s × ${RUNS} runs (alternating)\n`);
console.log('| target | run | requests/s | p50 ms | p99 ms | server CPU ms per request | errors |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [name, list] of Object.entries(runs))
  list.forEach((r, i) =>
    console.log(
      `| ${name} | ${i + 1} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.cpuPerRequest.toFixed(3)} | ${r.errors} |`,
    ),
  );
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rps = (name: keyof typeof targets) => median(runs[name]!.map((r) => r.rps));
const ratio = rps('this API') / rps('bare proxy');
const floorRatio = rps('this API') / rps('floor (@azure/functions, local host)');
const floorToBare = rps('floor (@azure/functions, local host)') / rps('bare proxy');
const addedP50 = median(runs['this API']!.map((r) => r.p50)) - median(runs['bare proxy']!.map((r) => r.p50));
console.log(
  `\nthroughput ratio (median) this API / bare proxy: ${ratio.toFixed(2)}; added p50 at ${CONNECTIONS} connections: ${addedP50.toFixed(2)} ms`,
);
console.log(`this API / floor: ${floorRatio.toFixed(2)}; floor / bare proxy: ${floorToBare.toFixed(2)}`);
const cpu = (name: keyof typeof targets) => median(runs[name]!.map((r) => r.cpuPerRequest));
const cpuRatio = cpu('floor (@azure/functions, local host)') / cpu('this API');
const cpuRatioBare = cpu('bare proxy') / cpu('this API');
console.log(
  `server CPU per request (median): bare ${cpu('bare proxy').toFixed(3)} ms, floor ${cpu('floor (@azure/functions, local host)').toFixed(3)} ms, this API ${cpu('this API').toFixed(3)} ms`,
);
console.log(
  `CPU efficiency (requests per CPU second, relative): this API / floor ${cpuRatio.toFixed(2)}, this API / bare proxy ${cpuRatioBare.toFixed(2)}`,
);

// One connection: added latency per request without queueing, and time to first streamed byte.
const single = async (url: string, payload: string, n: number) => {
  const xs: { ms: number; ttfb: number }[] = [];
  for (let i = 0; i < n; i++) xs.push(await request(url, payload));
  return { p50: median(xs.map((x) => x.ms)), ttfb: median(xs.map((x) => x.ttfb)) };
};
const streamBody = JSON.stringify({ messages: [{ role: 'user', content: 'Count to 10.' }], stream: true });
const oneBare = await single(targets['bare proxy'], body, 300);
const oneApi = await single(targets['this API'], body, 300);
const streamBare = await single(targets['bare proxy'], streamBody, 200);
const streamApi = await single(targets['this API'], streamBody, 200);
console.log(`\n## One connection (median)\n`);
console.log(
  `non-streamed chat p50: bare ${oneBare.p50.toFixed(2)} ms, this API ${oneApi.p50.toFixed(2)} ms (added ${(oneApi.p50 - oneBare.p50).toFixed(2)} ms)`,
);
console.log(
  `streamed chat, time to first byte: bare ${streamBare.ttfb.toFixed(2)} ms, this API ${streamApi.ttfb.toFixed(2)} ms (added ${(streamApi.ttfb - streamBare.ttfb).toFixed(2)} ms)`,
);

mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(
  `${root}bench/results/proxy.json`,
  JSON.stringify(
    { runs, ratio, floorRatio, floorToBare, cpuRatio, cpuRatioBare, addedP50, oneBare, oneApi, streamBare, streamApi },
    null,
    2,
  ),
);
agent.destroy();
await app.stop();
sim.child.kill();
bare.child.kill();
floorHost.child.kill();
