/**
 * Several backends (issue 19). End to end: backend A (priority 1) in front of backend B (priority 2), A behind
 * a proxy that answers 429 to every second request it gets, against the same setup with A healthy — the
 * success rate, the added p50, and the app's CPU per request. Then the router alone, in process: the CPU of
 * one routing decision. Everything on loopback; simulators, proxy and app are each their own process.
 */
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { freePort } from '../dev/ports.js';
import { Router } from '../src/upstream/router.js';
import { startApp, type AppProcess } from '../test/helpers/stack.js';
import { cpuMs, timedPost } from './measure.js';
import { startListening as startChild, startSimulatorProcess } from './processes.js';

const root = new URL('../', import.meta.url).pathname;
const CONNECTIONS = 8;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const RUNS = 3;

const [simA, simB] = await Promise.all([startSimulatorProcess(), startSimulatorProcess()]);
const proxy = async (failEvery: number, retryAfterMs = 1) =>
  startChild(['bench/flaky-proxy.mjs'], {
    UPSTREAM: simA.url,
    PORT: String(await freePort()),
    FAIL_EVERY: String(failEvery),
    RETRY_AFTER_MS: String(retryAfterMs),
  });
// Worst case: `retry-after-ms: 1`, so A is asked again at once and half the calls pay a failover. Azure-like:
// `retry-after-ms: 1000`, so A cools for a second after each 429 (and answers half of what it is then asked).
const [healthyA, flakyA, coolingA] = await Promise.all([proxy(0), proxy(2), proxy(2, 1000)]);
const SETUPS = ['A healthy', 'A 429 on half, retry-after 1 ms', 'A 429 on half, retry-after 1 s'] as const;

const appFor = (a: string, name: string) =>
  startApp(
    {
      AZURE_OPENAI_BACKENDS: JSON.stringify([
        { name: 'a', endpoint: a, priority: 1 },
        { name: 'b', endpoint: simB.url, priority: 2 },
      ]),
      AZURE_OPENAI_API_KEY: 'bench',
      HOST_LOG: 'false',
    },
    name,
  );
const apps: Record<string, AppProcess> = {
  [SETUPS[0]]: await appFor(healthyA.url, 'bench-backends-healthy'),
  [SETUPS[1]]: await appFor(flakyA.url, 'bench-backends-flaky'),
  [SETUPS[2]]: await appFor(coolingA.url, 'bench-backends-cooling'),
};

const body = JSON.stringify({ messages: [{ role: 'user', content: 'Knock knock.' }], temperature: 0 });
const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
const request = async (url: string) => {
  const r = await timedPost(url, body, agent);
  return { ...r, backend: String(r.headers['x-backend']) };
};

async function load(name: string, seconds: number, connections = CONNECTIONS) {
  const app = apps[name]!;
  const latencies: number[] = [];
  const backends: Record<string, number> = {};
  let ok = 0;
  const cpuBefore = cpuMs(app.process.pid!);
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const r = await request(`${app.url}/v1/chat/completions`);
        if (r.status === 200) ok++;
        backends[r.backend] = (backends[r.backend] ?? 0) + 1;
        latencies.push(r.ms);
      }
    }),
  );
  const cpuPerRequest = (cpuMs(app.process.pid!) - cpuBefore) / latencies.length;
  latencies.sort((x, y) => x - y);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
  return {
    requests: latencies.length,
    success: ok / latencies.length,
    p50: at(0.5),
    p99: at(0.99),
    cpuPerRequest,
    backends,
  };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
type Run = Awaited<ReturnType<typeof load>>;
const results: Record<string, Record<string, Run[]>> = {};
for (const connections of [1, CONNECTIONS]) {
  const key = `${connections} connection${connections > 1 ? 's' : ''}`;
  results[key] = Object.fromEntries(SETUPS.map((name) => [name, []]));
  for (const name of Object.keys(apps)) await load(name, 1, connections); // warm-up
  for (let run = 0; run < RUNS; run++)
    for (const name of Object.keys(apps)) results[key][name]!.push(await load(name, SECONDS, connections));
}

console.log(
  `\n## A (priority 1) answering 429 to half its requests, B (priority 2) healthy; ${SECONDS} s × ${RUNS} runs, alternating\n`,
);
console.log('| connections | setup | run | requests | success | p50 ms | p99 ms | app CPU ms/request | answered by |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
const summary: Record<string, Record<string, { addedP50: number; addedCpu: number; success: number }>> = {};
for (const [key, byName] of Object.entries(results)) {
  for (const [name, runs] of Object.entries(byName)) {
    runs.forEach((r, i) => {
      const split = Object.entries(r.backends)
        .map(([b, n]) => `${b} ${((n / r.requests) * 100).toFixed(0)}%`)
        .join(', ');
      console.log(
        `| ${key} | ${name} | ${i + 1} | ${r.requests} | ${(r.success * 100).toFixed(2)}% | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.cpuPerRequest.toFixed(3)} | ${split} |`,
      );
    });
  }
  const healthy = byName[SETUPS[0]]!;
  summary[key] = {};
  for (const name of SETUPS.slice(1)) {
    const flaky = byName[name]!;
    const s = {
      addedP50: median(flaky.map((r) => r.p50)) - median(healthy.map((r) => r.p50)),
      addedCpu: median(flaky.map((r) => r.cpuPerRequest)) - median(healthy.map((r) => r.cpuPerRequest)),
      success: Math.min(...flaky.map((r) => r.success)),
    };
    summary[key][name] = s;
    console.log(
      `\n${key}, ${name}: success ${(s.success * 100).toFixed(2)}% (lowest run); ` +
        `added p50 ${s.addedP50.toFixed(2)} ms; added app CPU ${s.addedCpu.toFixed(3)} ms/request (medians)`,
    );
  }
  console.log('');
}

// The router alone: one decision (pick + outcome) with three backends over two priorities, healthy, and with
// the preferred backend throttled on every second call (a cool-down of 0 ms, so it is asked again at once).
function routerCpu(label: string, throttleEvery: number) {
  const configs = [
    { name: 'a', endpoint: 'https://a.example.com', priority: 1, weight: 2, apiVersion: '2024-10-21' },
    { name: 'b', endpoint: 'https://b.example.com', priority: 1, weight: 1, apiVersion: '2024-10-21' },
    { name: 'c', endpoint: 'https://c.example.com', priority: 2, weight: 1, apiVersion: '2024-10-21' },
  ];
  const router = new Router(configs, { routed: true, breaker: { failures: 5, windowMs: 10_000, cooldownMs: 30_000 } });
  const n = 1_000_000;
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const now = Date.now();
    const backend = router.pick(now)!;
    if (throttleEvery && i % throttleEvery === 0) router.throttled(backend, 0, now);
    else router.succeeded(backend, now);
  }
  const used = process.cpuUsage(start);
  const msPer = (used.user + used.system) / 1000 / n;
  console.log(`router, ${label}: ${(msPer * 1000).toFixed(3)} µs CPU per decision (${n.toLocaleString()} decisions)`);
  return msPer;
}
console.log('## Routing CPU, in process\n');
const routing = { healthy: routerCpu('all healthy', 0), throttled: routerCpu('every second call throttled', 2) };

mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/backends.json`, JSON.stringify({ results, summary, routing }, null, 2));
agent.destroy();
await Promise.all(Object.values(apps).map((app) => app.stop()));
for (const child of [simA, simB, healthyA, flakyA, coolingA]) child.child.kill();
