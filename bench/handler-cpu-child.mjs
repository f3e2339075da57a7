// The measuring loop of bench/handler-cpu.bench.ts, in plain JavaScript (no tsx transform in the way): the floor
// handler below and this API's chat handler — from the built bundle (dist/registry.js, what Azure runs) or, with
// API_SOURCE=src, from the TypeScript sources under tsx — on the same @azure/functions request objects.
import http from 'node:http';
import { Readable } from 'node:stream';
import functionsLibrary from '@azure/functions';

const { HttpRequest, InvocationContext } = functionsLibrary;
const N = Number(process.env.BENCH_REQUESTS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const upstream = new URL(process.env.AZURE_OPENAI_ENDPOINT);
const registry = process.env.API_SOURCE === 'src' ? '../src/functions/registry.ts' : '../dist/registry.js';
const { functions } = await import(registry);
const api = functions.find((f) => f.name === 'chatCompletions');

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const path = '/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21';
/** The floor: read the body, forward it through a keep-alive agent, answer with the upstream's text. */
async function floor(request) {
  const body = Buffer.from(await request.arrayBuffer());
  const text = await new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'api-key': 'bench', 'content-length': body.length };
    const req = http.request(
      { host: upstream.hostname, port: upstream.port, path, method: 'POST', agent, headers },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  return { status: 200, headers: { 'content-type': 'application/json' }, body: text };
}

/** The floor of a stream: the same, answering with the upstream's event stream itself, its bytes as they come. */
async function streamFloor(request) {
  const body = Buffer.from(await request.arrayBuffer());
  const response = await new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'api-key': 'bench', 'content-length': body.length };
    const req = http.request(
      { host: upstream.hostname, port: upstream.port, path, method: 'POST', agent, headers },
      resolve,
    );
    req.on('error', reject);
    req.end(body);
  });
  return { status: 200, headers: { 'content-type': 'text/event-stream' }, body: Readable.toWeb(response) };
}

// BENCH_STREAM=1: streamed chat (`stream: true`), after BENCH_HISTORY turns of earlier conversation (~600 bytes each).
const STREAM = process.env.BENCH_STREAM === '1';
const history = Array.from({ length: Number(process.env.BENCH_HISTORY ?? 0) }, (_, i) => ({
  role: i % 2 ? 'assistant' : 'user',
  content: `Turn ${i}: the quick brown fox jumps over the lazy dog, again and again. `.repeat(8),
}));
const body = Buffer.from(
  JSON.stringify(
    STREAM
      ? { messages: [...history, { role: 'user', content: 'Tell me a story about a tokenizer.' }], stream: true }
      : { messages: [{ role: 'user', content: 'Knock knock.' }], temperature: 0 },
  ),
);
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
const context = () => new InvocationContext({ invocationId: 'bench', functionName: 'bench', logHandler: () => {} });

async function run(handler) {
  const cpu0 = process.cpuUsage();
  let started = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (started < N) {
        started++;
        const response = await handler(request(), context());
        if (response.status !== 200) throw new Error(`status ${response.status}`);
        if (STREAM) for await (const _ of response.body); // as the host writes it out
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / N;
}

// BENCH_LAYERS: the chat route rebuilt one layer at a time (bench/handler-layers.ts, bundled by the bench), measured
// between the floor and the whole API in the same rounds.
const layers = process.env.HANDLER_LAYERS ? (await import(process.env.HANDLER_LAYERS)).layers : [];
const variants = [['floor', STREAM ? streamFloor : floor], ...layers, ['api', api.handler]];
const results = Object.fromEntries(variants.map(([name]) => [name, []]));
for (const [, handler] of variants) await run(handler);
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, handler] of variants) results[name].push(await run(handler));
}
console.log(`RESULT ${JSON.stringify(results)}`);
agent.destroy();
process.exit(0);
