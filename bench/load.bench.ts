/**
 * A mixed workload at a fixed concurrency for a bounded time (loopback only): chat, streamed chat, embeddings,
 * tokenize and conversation turns against the local host + simulator + Azurite. Reports 5xx (goal: none),
 * conversation messages lost (every acknowledged turn must be in the history afterwards), the app's memory
 * over the run, and throughput and latency by kind.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { startStack } from '../test/helpers/stack.js';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 120);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 16);
const stack = await startStack({ azurite: true, simulator: true, name: 'bench-load', env: { HOST_LOG: 'false' } });
const rss = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${stack.app.process.pid}/status`, 'utf8'))![1]) / 1024;

const users = Array.from({ length: 8 }, (_, i) => `load-user-${i}`);
const conversations = new Map<string, string[]>();
for (const user of users) {
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${stack.url}/v1/conversations`, {
      method: 'POST',
      headers: { 'x-ms-client-principal-id': user, 'content-type': 'application/json' },
      body: '{}',
    });
    ids.push(((await res.json()) as { id: string }).id);
  }
  conversations.set(user, ids);
}
const acknowledged: { user: string; conversation: string; userMessageId: string }[] = [];

type Kind = 'chat' | 'chat-stream' | 'embeddings' | 'tokenize' | 'turn';
const kinds: Kind[] = ['chat', 'chat-stream', 'embeddings', 'tokenize', 'turn'];
const stats = Object.fromEntries(
  kinds.map((k) => [k, { latencies: [] as number[], status: new Map<number, number>() }]),
) as Record<Kind, { latencies: number[]; status: Map<number, number> }>;

async function one(kind: Kind, worker: number, i: number) {
  const user = users[(worker + i) % users.length]!;
  const headers = { 'x-ms-client-principal-id': user, 'content-type': 'application/json' };
  const start = performance.now();
  let res: Response;
  switch (kind) {
    case 'chat':
      res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ messages: [{ role: 'user', content: `question ${i}` }] }),
      });
      break;
    case 'chat-stream':
      res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          messages: [{ role: 'user', content: 'Count to 20' }],
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      break;
    case 'embeddings':
      res = await fetch(`${stack.url}/v1/embeddings`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ input: [`text ${i}`, 'another text'], encoding_format: 'base64' }),
      });
      break;
    case 'tokenize':
      res = await fetch(`${stack.url}/v1/tokenize`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ text: `The quick brown fox ${i} jumps over the lazy dog.` }),
      });
      break;
    case 'turn': {
      const conversation = conversations.get(user)![i % 2]!;
      res = await fetch(`${stack.url}/v1/conversations/${conversation}/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ content: `turn ${worker}-${i}`, max_tokens: 30 }),
      });
      const text = await res.text();
      if (res.status === 200)
        acknowledged.push({
          user,
          conversation,
          userMessageId: (JSON.parse(text) as { user_message_id: string }).user_message_id,
        });
      record(kind, res.status, start);
      return;
    }
  }
  await res.text();
  record(kind, res.status, start);
}
function record(kind: Kind, status: number, start: number) {
  stats[kind].latencies.push(performance.now() - start);
  stats[kind].status.set(status, (stats[kind].status.get(status) ?? 0) + 1);
}

const memory: { s: number; rssMb: number }[] = [];
const began = performance.now();
const sampler = setInterval(
  () => memory.push({ s: Math.round((performance.now() - began) / 1000), rssMb: rss() }),
  5000,
);
const end = began + SECONDS * 1000;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async (_, worker) => {
    for (let i = 0; performance.now() < end; i++) await one(kinds[(worker + i) % kinds.length]!, worker, i);
  }),
);
clearInterval(sampler);

// Every acknowledged turn must be in its conversation's history.
let lost = 0;
const byConversation = new Map<string, Set<string>>();
for (const [user, ids] of conversations) {
  for (const id of ids) {
    const seen = new Set<string>();
    let cursor = '';
    for (;;) {
      const res = await fetch(
        `${stack.url}/v1/conversations/${id}/messages?order=asc&limit=100${cursor ? `&after=${cursor}` : ''}`,
        { headers: { 'x-ms-client-principal-id': user } },
      );
      const page = (await res.json()) as { data: { id: string }[]; has_more: boolean; last_id: string };
      page.data.forEach((m) => seen.add(m.id));
      if (!page.has_more) break;
      cursor = page.last_id;
    }
    byConversation.set(id, seen);
  }
}
for (const a of acknowledged) if (!byConversation.get(a.conversation)!.has(a.userMessageId)) lost++;

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;
console.log(`\n${SECONDS} s, ${CONCURRENCY} concurrent clients, mixed workload\n`);
console.log('| kind | requests | per second | p50 ms | p99 ms | statuses |');
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
let serverErrors = 0;
for (const kind of kinds) {
  const s = stats[kind];
  for (const [status, n] of s.status) if (status >= 500) serverErrors += n;
  console.log(
    `| ${kind} | ${s.latencies.length} | ${(s.latencies.length / SECONDS).toFixed(0)} | ${pct(s.latencies, 0.5).toFixed(1)} | ${pct(s.latencies, 0.99).toFixed(1)} | ${[...s.status].map(([k, v]) => `${k}×${v}`).join(', ')} |`,
  );
}
console.log(
  `\n5xx: ${serverErrors}; acknowledged turns: ${acknowledged.length}, lost: ${lost} (409s are refused turns that stored nothing)`,
);
console.log(`app RSS (MB) every 5 s: ${memory.map((m) => m.rssMb.toFixed(0)).join(' ')}`);
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('results/load.json', import.meta.url),
  JSON.stringify(
    {
      seconds: SECONDS,
      concurrency: CONCURRENCY,
      stats: Object.fromEntries(
        kinds.map((k) => [
          k,
          {
            n: stats[k].latencies.length,
            p50: pct(stats[k].latencies, 0.5),
            p99: pct(stats[k].latencies, 0.99),
            status: Object.fromEntries(stats[k].status),
          },
        ]),
      ),
      serverErrors,
      acknowledged: acknowledged.length,
      lost,
      memory,
    },
    null,
    2,
  ),
);
await stack.stop();
if (serverErrors > 0 || lost > 0) process.exitCode = 1;
