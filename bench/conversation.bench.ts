/**
 * A conversation turn's cost must not grow with the stored history: per-turn latency with 10 vs 2,000 stored
 * messages, in one run, against Azurite and the simulator (no added latency), and the table operations per
 * turn. Messages are ~300 tokens and the context budget 4,096 tokens, so both conversations send the model
 * the same-sized window (~9 messages) and the upstream's own time is equal: the difference is the turn's work.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { startTurnStack } from './turn-stack.js';

const stack = await startTurnStack();
const { host, proxy, headers } = stack;
const { TableConversationStore } = await import('../src/storage/table-conversation-store.js');
const store = new TableConversationStore();

const sentence = 'The quick brown fox jumps over the lazy dog while the service keeps the history in Table Storage. ';
const long = sentence.repeat(15); // ~300 tokens

async function conversationWith(messages: number): Promise<string> {
  const { id } = (await (
    await fetch(`${host.url}/v1/conversations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ system: 'You are a helpful assistant.' }),
    })
  ).json()) as { id: string };
  // Seeded straight through the store (same rows a turn writes), two messages per transaction.
  for (let i = 0; i < messages / 2; i++) {
    const meta = await store.get('bench-user', id);
    await store.appendTurn(meta, { content: `${i}: ${long}`, tokens: 303 }, { content: `${i}: ${long}`, tokens: 303 });
  }
  return id;
}

const turn = async (id: string) => {
  const start = performance.now();
  const res = await fetch(`${host.url}/v1/conversations/${id}/messages`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ content: long, max_tokens: 64 }),
  });
  const body = (await res.json()) as { history_messages: number };
  if (res.status !== 200) throw new Error(`turn failed: ${res.status}`);
  return { ms: performance.now() - start, history: body.history_messages };
};

const seedStart = performance.now();
const short = await conversationWith(10);
const longConv = await conversationWith(2000);
console.log(`seeded 10 + 2,000 messages in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

for (let i = 0; i < 5; i++) {
  await turn(short);
  await turn(longConv);
}
const results: Record<string, { ms: number[]; ops: number; history: number[] }> = {
  '10 messages': { ms: [], ops: 0, history: [] },
  '2,000 messages': { ms: [], ops: 0, history: [] },
};
for (let i = 0; i < 30; i++) {
  for (const [name, id] of [
    ['10 messages', short],
    ['2,000 messages', longConv],
  ] as const) {
    const before = proxy.requests.length;
    const r = await turn(id);
    results[name]!.ms.push(r.ms);
    results[name]!.history.push(r.history);
    results[name]!.ops += proxy.requests.length - before;
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log('\n| stored history | turns | median ms | p90 ms | history messages sent | table operations per turn |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const [name, r] of Object.entries(results)) {
  const sorted = [...r.ms].sort((a, b) => a - b);
  console.log(
    `| ${name} | ${r.ms.length} | ${median(r.ms).toFixed(1)} | ${sorted[Math.floor(sorted.length * 0.9)]!.toFixed(1)} | ${median(r.history)} | ${(r.ops / r.ms.length).toFixed(1)} |`,
  );
}
const ratio = median(results['2,000 messages']!.ms) / median(results['10 messages']!.ms);
console.log(`\nratio of median turn latency, 2,000 vs 10 messages: ${ratio.toFixed(2)}`);
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(new URL('results/conversation.json', import.meta.url), JSON.stringify({ results, ratio }, null, 2));
await stack.stop();
