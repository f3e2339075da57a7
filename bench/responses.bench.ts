/**
 * Responses API turns must not grow with the chain: turn latency after a 1,000-response chain vs a 5-response
 * chain, in one run, against Azurite and the simulator (no added latency), plus table operations per turn and
 * the added time to the first streamed byte of /responses over /chat/completions at one connection.
 * Inputs are ~600 tokens and the context budget 4,096 tokens with `truncation: "auto"`, so both chains send the
 * model the same 5 previous responses: the upstream's work is equal and the difference is the turn's own.
 */
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { startTurnStack } from './turn-stack.js';

const stack = await startTurnStack();
const { host, proxy, simulator, headers } = stack;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

const sentence = 'The quick brown fox jumps over the lazy dog while the service keeps the history in Table Storage. ';
const long = sentence.repeat(30); // ~600 tokens

function post(path: string, body: unknown): Promise<{ status: number; ms: number; ttfb: number; text: string }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.request(`${host.url}${path}`, { method: 'POST', headers, agent }, (res) => {
      let ttfb = 0;
      let text = '';
      res.on('data', (chunk: Buffer) => {
        ttfb ||= performance.now() - start;
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start, ttfb, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function turn(previous: string | null, input = long) {
  const res = await post('/v1/responses', {
    input,
    previous_response_id: previous,
    truncation: 'auto',
    max_output_tokens: 64,
  });
  if (res.status !== 200) throw new Error(`turn failed: ${res.status} ${res.text.slice(0, 200)}`);
  return { ms: res.ms, id: (JSON.parse(res.text) as { id: string }).id };
}

async function chain(length: number): Promise<string> {
  let id: string | null = null;
  for (let i = 0; i < length; i++) id = (await turn(id, `${i}: ${long}`)).id;
  return id!;
}

const seedStart = performance.now();
const short = await chain(5);
const longChain = await chain(1000);
console.log(`seeded chains of 5 and 1,000 responses in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

for (let i = 0; i < 5; i++) {
  await turn(short);
  await turn(longChain);
}
const results: Record<string, { ms: number[]; ops: number }> = {
  '5 responses': { ms: [], ops: 0 },
  '1,000 responses': { ms: [], ops: 0 },
};
for (let i = 0; i < 30; i++) {
  for (const [name, id] of [
    ['5 responses', short],
    ['1,000 responses', longChain],
  ] as const) {
    const before = proxy.requests.length;
    results[name]!.ms.push((await turn(id)).ms);
    results[name]!.ops += proxy.requests.length - before;
  }
}
// What the model was sent on the last turn of each chain (user + assistant messages: two per previous response).
const log = (
  (await (await fetch(`${simulator.url}/_sim/requests`)).json()) as { data: { body: { messages: unknown[] } }[] }
).data;
const sent = log.slice(-2).map((entry) => (entry.body.messages.length - 1) / 2);
console.log(`previous responses sent to the model on the last turn: 5-chain ${sent[0]}, 1,000-chain ${sent[1]}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
console.log('\n| chain before the turn | turns | median ms | p90 ms | table operations per turn |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, r] of Object.entries(results)) {
  console.log(
    `| ${name} | ${r.ms.length} | ${median(r.ms).toFixed(1)} | ${p90(r.ms).toFixed(1)} | ${(r.ops / r.ms.length).toFixed(1)} |`,
  );
}
const ratio = median(results['1,000 responses']!.ms) / median(results['5 responses']!.ms);
console.log(`\nratio of median turn latency, 1,000 vs 5 responses: ${ratio.toFixed(2)} (goal ≤ 1.2)`);

// Time to the first streamed byte at one connection: /responses (store: false, no history) vs /chat/completions.
const ttfb: Record<string, number[]> = { '/v1/chat/completions': [], '/v1/responses': [] };
for (let i = 0; i < 220; i++) {
  const chat = await post('/v1/chat/completions', {
    messages: [{ role: 'user', content: 'Knock knock.' }],
    stream: true,
  });
  const resp = await post('/v1/responses', { input: 'Knock knock.', stream: true, store: false });
  if (i < 20) continue; // warm-up
  ttfb['/v1/chat/completions']!.push(chat.ttfb);
  ttfb['/v1/responses']!.push(resp.ttfb);
}
const added = median(ttfb['/v1/responses']!) - median(ttfb['/v1/chat/completions']!);
console.log('\n| streamed route | requests | median time to first byte ms | p90 ms |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, xs] of Object.entries(ttfb))
  console.log(`| ${name} | ${xs.length} | ${median(xs).toFixed(2)} | ${p90(xs).toFixed(2)} |`);
console.log(`\nadded time to first byte of /responses: ${added.toFixed(2)} ms (goal ≤ 1 ms)`);

mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('results/responses.json', import.meta.url),
  JSON.stringify({ results, ratio, ttfb: { added } }, null, 2),
);
agent.destroy();
await stack.stop();
