/**
 * Service-side abuse probes (issue 14, items 2, 3, 4, 5 and 10), through HTTP against a real Azurite and the
 * simulator. Each probe failed on the code before the fix (eb24ea5); what each proves is in docs/security.md.
 * Storage cost and fail-fast are asserted by counting the requests that reach Azurite (a counting proxy sits
 * between the app and Azurite), never by timing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import { startAzurite, azuriteConnectionString, type Azurite } from '../dev/azurite.js';
import { startSimulator, type RequestLogEntry, type Simulator } from '../dev/simulator/server.js';
import { getEncoding } from '../src/tokens/encodings.js';
import { startCountingProxy, type CountingProxy } from './helpers/counting-proxy.js';
import {
  awayFromMinuteEnd,
  isErrorShape,
  requestJson,
  SIMULATOR_TEST_KEY,
  startApp,
  type AppProcess,
} from './helpers/stack.js';

// gpt-4o-mini, the default chat deployment, counts in o200k_base.
const o200k = getEncoding('o200k_base');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let storeDir: string;
let azurite: Azurite;
let proxy: CountingProxy;
let simulator: Simulator;
const apps: AppProcess[] = [];

/** The app on the shared Azurite (through the counting proxy) and the shared simulator, with these settings. */
async function app(env: Record<string, string>, name: string, upstream = simulator): Promise<string> {
  const started = await startApp(
    {
      TRUST_PRINCIPAL_HEADERS: 'true',
      AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(proxy.port),
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: SIMULATOR_TEST_KEY,
      ...env,
    },
    `abuse-${name}`,
  );
  apps.push(started);
  return started.url;
}

interface Answer {
  status: number;
  json: any;
  text: string;
}

const call = (base: string, method: string, path: string, user: string, body?: unknown): Promise<Answer> =>
  requestJson(`${base}${path}`, method, body, { 'x-ms-client-principal-id': user });

const usage = async (base: string, user: string) => (await call(base, 'GET', '/v1/usage', user)).json;

/** Waits (bounded) until `probe` returns something; a wait, not a timed assertion: slow machines only wait longer. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await sleep(100);
  }
}

/** Starts a batch inside one quota minute (windows are aligned to the clock), so its spend is all in one window. */
const inOneQuotaMinute = () => awayFromMinuteEnd(12_000);

const simRequests = async (sim: Simulator): Promise<RequestLogEntry[]> =>
  ((await (await fetch(`${sim.url}/_sim/requests`)).json()) as { data: RequestLogEntry[] }).data;

const table = (name: string) =>
  TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });

/** The rows of a table that match an OData filter, read straight from Azurite (not through the proxy). */
async function rowsOf<T extends object = Record<string, unknown>>(tableName: string, filter: string): Promise<T[]> {
  const rows: T[] = [];
  for await (const row of table(tableName).listEntities<T>({ queryOptions: { filter } })) rows.push(row);
  return rows;
}

const turn = (base: string, user: string, id: string, content: string) =>
  call(base, 'POST', `/v1/conversations/${id}/messages`, user, { content });

before(async () => {
  storeDir = mkdtempSync(`${tmpdir()}/abuse-azurite-`);
  azurite = await startAzurite({ location: storeDir });
  proxy = await startCountingProxy(azurite.port);
  simulator = await startSimulator();
});

after(async () => {
  await Promise.all(apps.map((a) => a.stop()));
  await Promise.all([azurite?.stop(), proxy?.close(), simulator?.close()]);
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
});

describe('abandoned streams (issue 14 item 2)', () => {
  const STREAMS = 6;
  const CUT_AT_CHARS = 1500;
  const question = { messages: [{ role: 'user', content: 'Please count to 1000.' }] };
  let base: string;
  let slowSimulator: Simulator;

  before(async () => {
    // ~1,000 chunks 10 ms apart: a client that leaves after 1,500 characters leaves well before the end.
    slowSimulator = await startSimulator({ tokenDelayMs: 10 });
    const env = { QUOTA_TOKENS_PER_MINUTE: '10000000', CONVERSATIONS_TABLE_NAME: 'streams' };
    base = await app(env, 'streams', slowSimulator);
  });
  after(async () => slowSimulator?.close());

  /** Reads a stream until `cutAt` characters of content arrived, then leaves; returns the content delivered. */
  async function readThenLeave(user: string, cutAt: number): Promise<{ delivered: string; sawDone: boolean }> {
    const controller = new AbortController();
    const response = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ms-client-principal-id': user },
      body: JSON.stringify({ ...question, stream: true }),
      signal: controller.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let delivered = '';
    let sawDone = false;
    try {
      while (delivered.length < cutAt && !sawDone) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event
            .split('\n')
            .find((line) => line.startsWith('data: '))
            ?.slice(6);
          if (data === '[DONE]') sawDone = true;
          else if (data) delivered += JSON.parse(data).choices?.[0]?.delta?.content ?? '';
        }
      }
    } finally {
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
    return { delivered, sawDone };
  }

  it('are charged the prompt plus every token delivered, not just the prompt', async () => {
    // The same question answered whole, by another user: its prompt and full answer sizes.
    const whole = await call(base, 'POST', '/v1/chat/completions', 'calibrate', question);
    assert.equal(whole.status, 200, whole.text);
    const { prompt_tokens: prompt, completion_tokens: full } = whole.json.usage;
    assert.ok(full > 1000, `a long answer (${full} tokens)`);

    await inOneQuotaMinute();
    const runs = await Promise.all(Array.from({ length: STREAMS }, () => readThenLeave('leaver', CUT_AT_CHARS)));
    assert.ok(
      runs.every((r) => !r.sawDone && r.delivered.length >= CUT_AT_CHARS),
      'every stream was cut mid-way',
    );
    const deliveredTokens = runs.reduce((sum, r) => sum + o200k.count(r.delivered), 0);

    // While a stream runs it holds its reservation (up to the model's output limit); wait until all are settled.
    const whole6 = STREAMS * (prompt + full);
    const used = await until('the abandoned streams were settled', async () => {
      const u = await usage(base, 'leaver');
      return u.minute.used <= whole6 ? (u.minute.used as number) : undefined;
    });
    // Before the fix: STREAMS × prompt (the delivered answer was free).
    assert.ok(
      used >= STREAMS * prompt + deliveredTokens,
      `charged ${used}; the prompts were ${STREAMS * prompt} and ${deliveredTokens} tokens were delivered`,
    );
    assert.ok(used < whole6, `charged ${used}: what was delivered, not ${whole6} for whole answers`);
  });
});

describe('quota without max_tokens (issue 14 item 3)', () => {
  const LIMIT = 5000;
  // The simulator answers "count to N" with the numbers 1..min(N, 1000): ~2,000 tokens, so 30 answers are ~60,000.
  const longQuestion = { messages: [{ role: 'user', content: 'Please count to 2000.' }] };
  let base: string;

  before(async () => {
    base = await app({ QUOTA_TOKENS_PER_MINUTE: String(LIMIT), CONVERSATIONS_TABLE_NAME: 'quotas5k' }, 'quota5k');
  });

  /** 30 parallel calls by one user; every answer is 200 or 429 and the minute's spend stays within the limit. */
  async function burst(user: string, send: () => Promise<Answer>) {
    await inOneQuotaMinute();
    const firstLog = (await simRequests(simulator)).length;
    const answers = await Promise.all(Array.from({ length: 30 }, send));
    for (const a of answers) assert.ok(a.status === 200 || a.status === 429, `${a.status} ${a.text.slice(0, 200)}`);
    const ok = answers.filter((a) => a.status === 200);
    assert.ok(ok.length >= 1, 'at least one call was admitted');
    for (const a of answers.filter((x) => x.status === 429)) {
      assert.ok(isErrorShape(a.json));
      assert.equal(a.json.error.code, 'quota_exceeded');
    }
    const spent = ok.reduce((sum, a) => sum + a.json.usage.total_tokens, 0);
    const u = await usage(base, user);
    // Before the fix: ~12,000 of 5,000 (each call reserved 1,024 answer tokens and spent ~2,000).
    assert.ok(spent <= LIMIT, `the admitted answers used ${spent} tokens of a ${LIMIT}-token minute`);
    assert.equal(u.minute.used, spent, 'the quota was settled to exactly what the answers used');
    // Every call that reached the model carried an answer cap that fit what the caller had left.
    const sent = (await simRequests(simulator)).slice(firstLog).map((r) => r.body as any);
    assert.equal(sent.length, ok.length);
    for (const body of sent) {
      const cap = body.max_tokens ?? body.max_completion_tokens;
      const n = body.n ?? 1;
      assert.ok(Number.isInteger(cap) && cap >= 1 && cap * n < LIMIT, `answer cap ${cap} × n ${n}`);
    }
    return ok;
  }

  it('chat: 30 parallel calls without max_tokens never spend past a 5,000-token minute', async () => {
    const ok = await burst('q-chat', () => call(base, 'POST', '/v1/chat/completions', 'q-chat', longQuestion));
    for (const a of ok) assert.ok(a.json.usage.completion_tokens <= LIMIT - a.json.usage.prompt_tokens);
  });

  it('chat with n=4: the cap is per choice, so all four answers together fit', async () => {
    const ok = await burst('q-n4', () => call(base, 'POST', '/v1/chat/completions', 'q-n4', { ...longQuestion, n: 4 }));
    for (const a of ok) assert.equal(a.json.choices.length, 4);
  });

  it('conversation turns: 30 parallel turns without max_tokens', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const created = await call(base, 'POST', '/v1/conversations', 'q-turn', {});
      assert.equal(created.status, 201, created.text);
      ids.push(created.json.id);
    }
    let next = 0;
    await burst('q-turn', () => turn(base, 'q-turn', ids[next++]!, 'Please count to 2000.'));
  });

  it('the answer cap never asks for more than the context window leaves (gpt-4: 8,192 tokens)', async () => {
    // A 9,000-token minute and a ~5,000-token prompt: the budget caps the answer at ~4,000 tokens, but gpt-4 has
    // room for only ~3,190 after the prompt. Sent as max_tokens that cap made the model refuse (400
    // context_length_exceeded: Azure's rule that prompt + max_tokens fit the window, which the simulator applies)
    // a call it answers without quotas, where no max_tokens is sent.
    const roomy = await app(
      {
        QUOTA_TOKENS_PER_MINUTE: '9000',
        AZURE_OPENAI_CHAT_DEPLOYMENTS: 'gpt-4o-mini,gpt-4',
        CONVERSATIONS_TABLE_NAME: 'quotas9k',
      },
      'quota9k',
    );
    await inOneQuotaMinute();
    const long = { model: 'gpt-4', messages: [{ role: 'user', content: 'hello '.repeat(5000) }] };
    const answer = await call(roomy, 'POST', '/v1/chat/completions', 'q-window', long);
    assert.equal(answer.status, 200, answer.text);
    const sent = (await simRequests(simulator)).at(-1)!.body as any;
    const cap = sent.max_tokens as number | undefined;
    assert.ok(cap === undefined || answer.json.usage.prompt_tokens + cap <= 8192, `prompt + cap ${cap} fit the window`);
    assert.ok((await usage(roomy, 'q-window')).minute.used <= 9000);
  });

  it('with max_tokens given, a call that does not fit is refused whole (429), not shortened', async () => {
    await inOneQuotaMinute();
    const first = await call(base, 'POST', '/v1/chat/completions', 'q-max', { ...longQuestion, max_tokens: 3000 });
    assert.equal(first.status, 200, first.text);
    const second = await call(base, 'POST', '/v1/chat/completions', 'q-max', { ...longQuestion, max_tokens: 3000 });
    assert.equal(second.status, 429, second.text);
    assert.equal(second.json.error.code, 'quota_exceeded');
  });
});

/**
 * Copies one conversation the app created (every row whose keys hold its id) under new ids, and moves the owner's
 * conversation count with them: a user with thousands of conversations in seconds, in whatever key layout the
 * app writes (so the probe also ran unchanged against the code before the fix).
 */
async function cloneConversation(tableName: string, sampleId: string, copies: number): Promise<string[]> {
  const client = table(tableName);
  const rows: TableEntityResult<Record<string, unknown>>[] = [];
  for await (const row of client.listEntities()) {
    if (row.partitionKey!.includes(sampleId) || row.rowKey!.includes(sampleId)) rows.push(row);
  }
  assert.ok(rows.length >= 2, 'the conversation has its own rows and an index row');
  const ids = Array.from({ length: copies }, () => `conv_${randomBytes(18).toString('base64url')}`);
  const byPartition = new Map<string, Record<string, unknown>[]>();
  for (const id of ids) {
    for (const { etag: _e, timestamp: _t, ...row } of rows) {
      const keys = { partitionKey: row.partitionKey!.replace(sampleId, id), rowKey: row.rowKey!.replace(sampleId, id) };
      const copy = { ...row, ...keys };
      delete (copy as Record<string, unknown>)['odata.metadata'];
      const group = byPartition.get(copy.partitionKey) ?? [];
      group.push(copy);
      byPartition.set(copy.partitionKey, group);
    }
  }
  const work = [...byPartition.values()].flatMap((group) => {
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < group.length; i += 100) batches.push(group.slice(i, i + 100));
    return batches;
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < work.length) {
        const batch = work[next++]!;
        if (batch.length === 1) await client.createEntity(batch[0] as never);
        else await client.submitTransaction(batch.map((row): TransactionAction => ['create', row as never]));
      }
    }),
  );
  const indexPartition = rows.find((r) => r.rowKey!.includes(sampleId))!.partitionKey!;
  const count = await client.getEntity<{ conversations: number }>(indexPartition, 'count').catch(() => undefined);
  if (count) {
    const conversations = Number(count.conversations) + copies;
    await client.updateEntity({ partitionKey: indexPartition, rowKey: 'count', conversations }, 'Merge');
  }
  return ids;
}

describe('conversation lists (issue 14 item 4)', () => {
  const USER = 'hoarder';
  let base: string;

  /** A user with the conversation created through the API plus `copies` more. */
  async function userWith(user: string, copies: number): Promise<string[]> {
    const sample = await call(base, 'POST', '/v1/conversations', user, { title: 'one of many' });
    assert.equal(sample.status, 201, sample.text);
    return [sample.json.id, ...(await cloneConversation('lists', sample.json.id, copies))];
  }

  before(async () => {
    base = await app({ CONVERSATIONS_TABLE_NAME: 'lists' }, 'lists');
    await userWith(USER, 2000);
  });

  /** The store requests one API call made (the app is otherwise idle). */
  async function costOf(send: () => Promise<Answer>): Promise<{ answer: Answer; storeRequests: number }> {
    const before = proxy.requests.length;
    const answer = await send();
    return { answer, storeRequests: proxy.requests.length - before };
  }

  it('?limit=1 for a user with 2,001 conversations reads O(1) rows', async () => {
    const { answer, storeRequests } = await costOf(() => call(base, 'GET', '/v1/conversations?limit=1', USER));
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.data.length, 1);
    assert.equal(answer.json.has_more, true);
    // Now one range query plus one metadata read; before the fix ~2,003 (every index row, then every conversation).
    assert.ok(storeRequests <= 4, `${storeRequests} store requests for one conversation`);
  });

  it('a page costs at most its limit in reads, and `after` pages through all without duplicates or gaps', async () => {
    const all = await userWith('pager', 249);
    const seen: string[] = [];
    let cursor: string | undefined;
    let lastCreated = Infinity;
    for (let page = 0; page < 20; page++) {
      const path = `/v1/conversations?limit=40${cursor ? `&after=${cursor}` : ''}`;
      const { answer, storeRequests } = await costOf(() => call(base, 'GET', path, 'pager'));
      assert.equal(answer.status, 200, answer.text);
      assert.ok(answer.json.data.length <= 40);
      // A range query (maybe two pages of it), ≤ 40 metadata reads, and the read of the `after` conversation.
      assert.ok(storeRequests <= 40 + 4, `${storeRequests} store requests for a page of 40`);
      for (const c of answer.json.data) {
        assert.ok(c.created_at <= lastCreated, 'newest first');
        lastCreated = c.created_at;
        seen.push(c.id);
      }
      if (!answer.json.has_more) break;
      cursor = answer.json.last_id;
    }
    assert.equal(new Set(seen).size, seen.length, 'no conversation listed twice');
    assert.deepEqual([...seen].sort(), [...all].sort(), 'every conversation listed once');
  });

  it('a user at the cap (default 1,000) gets 403 conversation_limit_reached', async () => {
    const refused = await call(base, 'POST', '/v1/conversations', USER, {});
    assert.equal(refused.status, 403, refused.text);
    assert.ok(isErrorShape(refused.json));
    assert.equal(refused.json.error.code, 'conversation_limit_reached');
    // Another user is not affected.
    assert.equal((await call(base, 'POST', '/v1/conversations', 'someone-else', {})).status, 201);
  });

  it('CONVERSATIONS_PER_USER holds under parallel creates, and a delete makes room again', async () => {
    const capped = await app({ CONVERSATIONS_TABLE_NAME: 'caps', CONVERSATIONS_PER_USER: '3' }, 'caps');
    const create = () => call(capped, 'POST', '/v1/conversations', 'capped', {});
    const tries = await Promise.all(Array.from({ length: 8 }, create));
    const created = tries.filter((t) => t.status === 201);
    assert.equal(created.length, 3, tries.map((t) => t.status).join(','));
    for (const t of tries.filter((x) => x.status !== 201)) {
      assert.equal(t.status, 403, t.text);
      assert.equal(t.json.error.code, 'conversation_limit_reached');
    }
    const listed = await call(capped, 'GET', '/v1/conversations', 'capped');
    assert.equal(listed.json.data.length, 3);
    // 200 with OpenAI's {id, object: "conversation.deleted", deleted: true} since the Conversations API (issue 18).
    assert.equal((await call(capped, 'DELETE', `/v1/conversations/${created[0]!.json.id}`, 'capped')).status, 200);
    assert.equal((await call(capped, 'POST', '/v1/conversations', 'capped', {})).status, 201);
    assert.equal((await call(capped, 'POST', '/v1/conversations', 'capped', {})).status, 403);
  });
});

/** Reads an SSE turn to its end: whether it finished ([DONE]) or the error event's code. */
async function streamedTurn(
  base: string,
  user: string,
  id: string,
): Promise<{ status: number; done: boolean; error?: string }> {
  const response = await fetch(`${base}/v1/conversations/${id}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-ms-client-principal-id': user },
    body: JSON.stringify({ content: 'Hello there.', stream: true }),
  });
  const text = await response.text();
  if (response.status !== 200) return { status: response.status, done: false, error: JSON.parse(text).error?.code };
  const errorData = /event: error\ndata: (.*)/.exec(text)?.[1];
  const error = errorData ? (JSON.parse(errorData).error?.code as string) : undefined;
  return { status: 200, done: text.includes('data: [DONE]'), error };
}

describe('DELETE racing turns (issue 14 item 5) and a store outage (item 10)', () => {
  const USER = 'racer';
  let base: string;
  let kept: string;

  before(async () => {
    base = await app({ CONVERSATIONS_TABLE_NAME: 'races', UPSTREAM_RETRY_DEADLINE_MS: '3000' }, 'races');
  });

  async function race(attempt: number) {
    const created = await call(base, 'POST', '/v1/conversations', USER, { title: `race ${attempt}` });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id as string;
    assert.equal((await turn(base, USER, id, 'Knock knock.')).status, 200);
    // Turns and the delete start a few milliseconds apart, so the delete lands at every stage of a turn.
    const turns = Array.from({ length: 3 }, (_, i) => sleep(i * 4).then(() => turn(base, USER, id, 'Hello there.')));
    const streamed = sleep(2).then(() => streamedTurn(base, USER, id));
    const deleted = sleep((attempt * 11) % 80).then(() => call(base, 'DELETE', `/v1/conversations/${id}`, USER));
    const [del, stream, ...plain] = await Promise.all([deleted, streamed, ...turns]);
    return { id, del, stream, plain };
  }

  it('after a successful DELETE nothing of the conversation is left; a turn that lost answers 404 or 409, never 503', async (t) => {
    const results = [];
    for (let round = 0; round < 5; round++) {
      results.push(...(await Promise.all([0, 1, 2, 3].map((i) => race(round * 4 + i)))));
    }
    for (const { id, del, stream, plain } of results) {
      assert.equal(del.status, 200, del.text);
      for (const turn of plain) assert.ok([200, 404, 409].includes(turn.status), `turn: ${turn.status} ${turn.text}`);
      assert.ok([200, 404].includes(stream.status), `streamed turn: ${stream.status}`);
      if (stream.error !== undefined) {
        assert.ok(['conversation_not_found', 'conversation_busy'].includes(stream.error), stream.error);
      }
      assert.equal((await call(base, 'GET', `/v1/conversations/${id}/messages`, USER)).status, 404);
      assert.equal((await call(base, 'GET', `/v1/conversations/${id}`, USER)).status, 404);
      const left = await rowsOf('races', `PartitionKey eq 'c_${id}'`);
      // Before the fix: a turn stored between the delete's listing and its last batch survived (2 of 3 attempts).
      assert.deepEqual(left, [], `rows of deleted ${id} remain`);
    }
    const listed = await call(base, 'GET', '/v1/conversations?limit=100', USER);
    assert.deepEqual(listed.json.data, [], 'no deleted conversation is listed');
    const outcomes: Record<string, number> = {};
    for (const r of results) {
      for (const key of [...r.plain.map((p) => `turn ${p.status}`), `stream ${r.stream.error ?? r.stream.status}`]) {
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
    }
    t.diagnostic(`race outcomes: ${JSON.stringify(outcomes)}`);
  });

  it('a DELETE cut short by a store error can be retried to the end, leaving nothing behind', async () => {
    const bystander = await call(base, 'POST', '/v1/conversations', USER, { title: 'stays' });
    assert.equal(bystander.status, 201, bystander.text);
    const created = await call(base, 'POST', '/v1/conversations', USER, { title: 'half deleted' });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id as string;
    assert.equal((await turn(base, USER, id, 'Knock knock.')).status, 200);
    // The store is busy when the delete removes the message rows (after it marked the conversation deleted).
    proxy.failNext((r) => r.method === 'POST' && r.path.includes('$batch'), 3);
    const first = await call(base, 'DELETE', `/v1/conversations/${id}`, USER);
    proxy.failNext(() => false, 0);
    assert.equal(first.status, 503, first.text);
    // The caller retries, as a 503 invites. Before this was fixed the retry answered 404 (the conversation was
    // already marked deleted) and its rows stayed in the store for good, counted against the user's cap.
    const retried = await until('a retried DELETE got past the store fail-fast', async () => {
      const again = await call(base, 'DELETE', `/v1/conversations/${id}`, USER);
      return again.status === 503 ? undefined : again;
    });
    assert.equal(retried.status, 200, retried.text);
    const left = await rowsOf('races', `PartitionKey eq 'c_${id}'`);
    assert.deepEqual(left, [], 'no row of the conversation is left');
    assert.equal((await call(base, 'GET', `/v1/conversations/${id}`, USER)).status, 404);
    const third = await call(base, 'DELETE', `/v1/conversations/${id}`, USER);
    assert.equal(third.status, 404, 'a third DELETE finds nothing');
    // The user's conversation count (what the cap is checked against) moved once: only the bystander is counted.
    const counts = await rowsOf<{ conversations: number }>('races', `RowKey eq 'count'`);
    assert.deepEqual(
      counts.map((c) => Number(c.conversations)),
      [1],
    );
    assert.equal((await call(base, 'DELETE', `/v1/conversations/${bystander.json.id}`, USER)).status, 200);
  });

  it('health reports the store down, conversation routes fail fast without reaching it, and recover', async () => {
    const created = await call(base, 'POST', '/v1/conversations', USER, { title: 'outlives the outage' });
    assert.equal(created.status, 201, created.text);
    kept = created.json.id;
    const healthy = await call(base, 'GET', '/v1/health', USER);
    assert.equal(healthy.json.status, 'ok', healthy.text);
    assert.equal(healthy.json.store.state, 'ok');

    await azurite.stop();
    // Within the probe's cache time (5 s) health says so. Before the fix it said ok throughout.
    const degraded = await until('health reported the store down', async () => {
      const h = await call(base, 'GET', '/v1/health', USER);
      return h.json?.store?.state === 'down' ? h : undefined;
    });
    assert.equal(degraded.status, 200);
    assert.equal(degraded.json.status, 'degraded');

    // The store is known down: one request confirms it, then a burst must not each try the store again.
    const first = await call(base, 'GET', '/v1/conversations', USER);
    assert.equal(first.status, 503);
    const reached = proxy.requests.length;
    const burst = await Promise.all([
      ...Array.from({ length: 30 }, () => call(base, 'GET', '/v1/conversations', USER)),
      ...Array.from({ length: 10 }, () => call(base, 'GET', `/v1/conversations/${kept}/messages`, USER)),
    ]);
    for (const answer of burst) {
      assert.equal(answer.status, 503, answer.text);
      assert.ok(isErrorShape(answer.json));
      assert.equal(answer.json.error.code, 'store_unavailable');
    }
    // Only the occasional trial request (one per 500 ms, with its SDK retries) reaches the store's port; before
    // the fix every one of the 40 tried it, each with up to 4 attempts.
    const attempts = proxy.requests.length - reached;
    assert.ok(attempts < 15, `${attempts} store requests for 40 API calls while the store was known down`);

    azurite = await startAzurite({ location: storeDir });
    proxy.retarget(azurite.port);
    const back = await until('the conversation was readable again', async () => {
      const got = await call(base, 'GET', `/v1/conversations/${kept}`, USER);
      return got.status === 200 ? got : undefined;
    });
    assert.equal(back.json.title, 'outlives the outage');
    await until('health said ok again', async () => {
      const h = await call(base, 'GET', '/v1/health', USER);
      return h.json?.status === 'ok' && h.json.store.state === 'ok' ? h : undefined;
    });
  });
});
