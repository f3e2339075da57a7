/**
 * This project's own cost per chat request against the floor (issue 20), in CPU time rather than throughput: both
 * handlers run in this process on the same `@azure/functions` HttpRequest/InvocationContext objects the local host
 * builds, 16 requests at a time, against the simulator in its own process (its CPU is not counted). The floor
 * reads the body and forwards it through a keep-alive agent; the API validates, resolves the deployment, calls the
 * upstream through its client and relays the answer. CPU per request barely moves when other processes compete
 * for the cores, where requests per second on a shared 2-core machine swing by 2×.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import functionsLibrary, { type HttpResponseInit } from '@azure/functions';

const { HttpRequest, InvocationContext } = functionsLibrary;
const root = new URL('../', import.meta.url).pathname;
const N = Number(process.env.BENCH_REQUESTS ?? 3000);
const ROUNDS = 5;

const sim = await new Promise<{ url: string; kill: () => void }>((resolve, reject) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/simulator/main.ts'], {
    cwd: root,
    env: { ...process.env, SIMULATOR_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let seen = '';
  child.stdout.on('data', (c: Buffer) => {
    seen += c;
    const m = /listening on (http:\/\/\S+)/.exec(seen);
    if (m) resolve({ url: m[1]!, kill: () => child.kill() });
  });
  child.once('exit', (code) => reject(new Error(`simulator exited ${code}: ${seen}`)));
});
process.env.AZURE_OPENAI_ENDPOINT = sim.url;
process.env.AZURE_OPENAI_API_KEY = 'bench';
const { functions } = await import('../src/functions/registry.js');
const api = functions.find((f) => f.name === 'chatCompletions')!;

const upstream = new URL(sim.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
type Handler = (
  request: InstanceType<typeof HttpRequest>,
  context: InstanceType<typeof InvocationContext>,
) => Promise<HttpResponseInit>;
const floor: Handler = async (request) => {
  const body = Buffer.from(await request.arrayBuffer());
  const text = await new Promise<string>((resolve, reject) => {
    const path = '/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21';
    const req = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'api-key': 'bench', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  return { status: 200, headers: { 'content-type': 'application/json' }, body: text };
};

const body = Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: 'Knock knock.' }], temperature: 0 }));
// As dev/host.ts builds them for each call.
const request = () =>
  new HttpRequest({
    method: 'POST',
    url: 'http://127.0.0.1/api/v1/chat/completions',
    headers: { 'content-type': 'application/json', 'content-length': String(body.length), host: '127.0.0.1' },
    query: {},
    params: {},
    body: { bytes: body },
  });
const context = () =>
  new InvocationContext({ invocationId: 'bench', functionName: 'bench', logHandler: () => undefined });

async function run(handler: Handler) {
  const cpu0 = process.cpuUsage();
  let started = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (started < N) {
        started++;
        const response = await handler(request(), context());
        if (response.status !== 200) throw new Error(`status ${response.status}`);
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / N;
}

const results: Record<'floor' | 'api', number[]> = { floor: [], api: [] };
await run(floor);
await run(api.handler);
for (let round = 0; round < ROUNDS; round++) {
  results.floor.push(await run(floor));
  results.api.push(await run(api.handler));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const floorMs = median(results.floor);
const apiMs = median(results.api);
console.log(`\n## Chat handler CPU per request, ${N} requests × ${ROUNDS} alternating rounds (median)\n`);
console.log(
  `floor ${floorMs.toFixed(3)} ms, this API ${apiMs.toFixed(3)} ms; this API / floor (requests per CPU second): ${(floorMs / apiMs).toFixed(2)}`,
);
console.log(
  `rounds: floor ${results.floor.map((x) => x.toFixed(3)).join(' ')}; API ${results.api.map((x) => x.toFixed(3)).join(' ')}`,
);
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(
  `${root}bench/results/handler-cpu.json`,
  JSON.stringify({ results, floorMs, apiMs, ratio: floorMs / apiMs }, null, 2),
);
agent.destroy();
sim.kill();
process.exit(0);
