/** Conversations against a real Azurite and the simulator, through HTTP. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { isErrorShape, simFault, simRequests, simReset, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
const alice = { 'x-ms-client-principal-id': 'alice-0001', 'x-ms-client-principal-name': 'alice@example.com' };
const bob = { 'x-ms-client-principal-id': 'bob-0002' };

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const isJson = /json/.test(response.headers.get('content-type') ?? '');
  return {
    status: response.status,
    json: isJson && text ? JSON.parse(text) : undefined,
    text,
    headers: response.headers,
  };
}

async function history(id: string, who = alice) {
  const all = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await call(
      'GET',
      `/v1/conversations/${id}/messages?order=asc&limit=100${cursor ? `&after=${cursor}` : ''}`,
      who,
    );
    assert.equal(page.status, 200, page.text);
    all.push(...page.json.data);
    if (!page.json.has_more) return all;
    cursor = page.json.last_id;
  }
}

before(async () => {
  stack = await startStack({ azurite: true, simulator: true, env: { UPSTREAM_RETRY_DEADLINE_MS: '3000' } });
});
after(async () => stack?.stop());

describe('conversations API', () => {
  it('creates, gets, lists, answers with history, pages and deletes', async () => {
    const created = await call('POST', '/v1/conversations', alice, {
      system: 'You are a helpful assistant.',
      title: 'Jokes',
      ignored_field: 1,
    });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id;
    assert.match(id, /^conv_[A-Za-z0-9_-]{24}$/);
    assert.equal(created.json.model, 'gpt-4o-mini');

    const first = await call('POST', `/v1/conversations/${id}/messages`, alice, {
      content: 'Knock knock.',
      temperature: 0,
    });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.message.role, 'assistant');
    assert.equal(first.json.message.content, "Who's there?");
    assert.equal(first.json.finish_reason, 'stop');
    assert.ok(first.json.usage.prompt_tokens > 0);

    const second = await call('POST', `/v1/conversations/${id}/messages`, alice, { content: 'Orange.' });
    assert.equal(second.status, 200);
    assert.equal(second.json.history_messages, 2);
    // The model got system + both stored messages + the new one.
    const sent = (await simRequests(stack)).at(-1)!.body as any;
    assert.deepEqual(
      sent.messages.map((m: any) => m.role),
      ['system', 'user', 'assistant', 'user'],
    );
    assert.equal(sent.messages[3].content, 'Orange.');

    const got = await call('GET', `/v1/conversations/${id}`, alice);
    assert.equal(got.json.message_count, 4);
    const listed = await call('GET', '/v1/conversations', alice);
    assert.ok(listed.json.data.some((c: any) => c.id === id));
    assert.equal(listed.json.object, 'list');

    const msgs = await history(id);
    assert.deepEqual(
      msgs.map((m: any) => [m.role, m.content]),
      [
        ['user', 'Knock knock.'],
        ['assistant', "Who's there?"],
        ['user', 'Orange.'],
        ['assistant', second.json.message.content],
      ],
    );
    const newest = await call('GET', `/v1/conversations/${id}/messages?limit=1`, alice);
    assert.equal(newest.json.data[0].content, second.json.message.content);
    assert.equal(newest.json.has_more, true);
    const older = await call('GET', `/v1/conversations/${id}/messages?limit=2&after=${newest.json.last_id}`, alice);
    assert.deepEqual(
      older.json.data.map((m: any) => m.content),
      ['Orange.', "Who's there?"],
    );
    const newer = await call('GET', `/v1/conversations/${id}/messages?order=asc&limit=2&before=${msgs[3].id}`, alice);
    assert.deepEqual(
      newer.json.data.map((m: any) => m.content),
      ["Who's there?", 'Orange.'],
    );

    // OpenAI's delete answer (https://platform.openai.com/docs/api-reference/conversations/delete); it was a bare 204
    // before the Conversations API (issue 18) and is now the same for both views.
    const deleted = await call('DELETE', `/v1/conversations/${id}`, alice);
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.json, { id, object: 'conversation.deleted', deleted: true });
    assert.equal((await call('GET', `/v1/conversations/${id}`, alice)).status, 404);
    const table = TableClient.fromConnectionString(stack.azurite!.connectionString, 'conversations', {
      allowInsecureConnection: true,
    });
    const left = [];
    for await (const row of table.listEntities({ queryOptions: { filter: `PartitionKey eq 'c_${id}'` } }))
      left.push(row);
    assert.equal(left.length, 0);
    assert.ok(!(await call('GET', '/v1/conversations', alice)).json.data.some((c: any) => c.id === id));
  });

  it("isolates users: another user's conversation is 404 for every verb, and absent from their list", async () => {
    const id = (await call('POST', '/v1/conversations', alice, {})).json.id;
    assert.equal((await call('POST', `/v1/conversations/${id}/messages`, alice, { content: 'hi' })).status, 200);
    for (const [method, path, body] of [
      ['GET', `/v1/conversations/${id}`],
      ['GET', `/v1/conversations/${id}/messages`],
      ['POST', `/v1/conversations/${id}/messages`, { content: 'hijack' }],
      ['DELETE', `/v1/conversations/${id}`],
    ] as const) {
      const res = await call(method, path, bob, body);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.ok(isErrorShape(res.json));
    }
    assert.ok(!(await call('GET', '/v1/conversations', bob)).json.data.some((c: any) => c.id === id));
    assert.equal((await history(id)).length, 2);
  });

  it('requires a principal (401) and refuses malformed or filter-shaped ids (404)', async () => {
    assert.equal((await call('GET', '/v1/conversations', {})).status, 401);
    for (const id of ["x' or PartitionKey ne '", 'conv_%27%20or%201%20eq%201', 'conv_short']) {
      const res = await call('GET', `/v1/conversations/${encodeURIComponent(id)}/messages`, alice);
      assert.equal(res.status, 404, id);
    }
  });

  it('validates the body with 400 naming the field', async () => {
    const id = (await call('POST', '/v1/conversations', alice, {})).json.id;
    for (const [body, param] of [
      [{}, 'content'],
      [{ content: '' }, 'content'],
      [{ content: 'x', temperature: 3 }, 'temperature'],
      [{ content: 'x', stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    ] as const) {
      const res = await call('POST', `/v1/conversations/${id}/messages`, alice, body);
      assert.equal(res.status, 400);
      assert.equal(res.json.error.param, param);
    }
    assert.equal((await call('POST', '/v1/conversations', alice, { model: 'nope' })).status, 404);
    assert.equal((await call('GET', `/v1/conversations/${id}/messages?limit=0`, alice)).json.error.param, 'limit');
    assert.equal((await call('GET', `/v1/conversations/${id}/messages?after=zzz`, alice)).json.error.param, 'after');
  });

  it('round-trips a 200 KB message byte for byte (split across properties)', async () => {
    const id = (await call('POST', '/v1/conversations', alice, {})).json.id;
    const unit = 'Grüße 😀 语言 — ';
    const big = unit.repeat(Math.ceil(200_000 / unit.length)).slice(0, 199_999) + '😀';
    const res = await call('POST', `/v1/conversations/${id}/messages`, alice, { content: big, max_tokens: 20 });
    assert.equal(res.status, 200, res.text.slice(0, 300));
    const stored = await history(id);
    assert.equal(stored[0].content, big);
  });

  it('20 concurrent turns lose nothing: each is stored as a pair in order, or refused with 409 storing nothing', async () => {
    const id = (await call('POST', '/v1/conversations', alice, {})).json.id;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call('POST', `/v1/conversations/${id}/messages`, alice, { content: `turn ${i}` }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 409);
    assert.equal(ok.length + refused.length, 20, results.map((r) => r.status).join(','));
    assert.ok(ok.length >= 1);
    for (const r of refused) assert.equal(r.json.error.code, 'conversation_busy');
    const stored = await history(id);
    assert.equal(stored.length, ok.length * 2);
    for (let i = 0; i < stored.length; i += 2) {
      assert.equal(stored[i].role, 'user');
      assert.equal(stored[i + 1].role, 'assistant');
      assert.equal(stored[i].seq, i + 1);
    }
    const storedUsers = new Set(stored.filter((m: any) => m.role === 'user').map((m: any) => m.id));
    for (const r of ok) assert.ok(storedUsers.has(r.json.user_message_id));
  });

  it('stores nothing when the upstream fails, streamed or not', async () => {
    const id = (await call('POST', '/v1/conversations', alice, {})).json.id;
    await simReset(stack);
    await simFault(stack, { kind: '500', count: 10 });
    const failed = await call('POST', `/v1/conversations/${id}/messages`, alice, { content: 'will fail' });
    assert.equal(failed.status, 502);
    await simReset(stack);
    await simFault(stack, { kind: 'cut', afterChunks: 3 });
    const cut = await call('POST', `/v1/conversations/${id}/messages`, alice, { content: 'Count to 40', stream: true });
    assert.equal(cut.status, 200);
    assert.match(cut.text, /event: error/);
    assert.doesNotMatch(cut.text, /\[DONE\]/);
    assert.equal((await history(id)).length, 0);
    assert.equal((await call('GET', `/v1/conversations/${id}`, alice)).json.message_count, 0);
  });

  it('streams a turn and stores it when the stream completes', async () => {
    const id = (await call('POST', '/v1/conversations', alice, {})).json.id;
    const res = await call('POST', `/v1/conversations/${id}/messages`, alice, {
      content: 'Count to 10. E.g. 1, 2, 3, 4, ...',
      stream: true,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = res.text
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(content, '1, 2, 3, 4, 5, 6, 7, 8, 9, 10.');
    assert.ok(chunks.at(-1).usage.completion_tokens > 0);
    const stored = await history(id);
    assert.deepEqual(
      stored.map((m: any) => m.content),
      ['Count to 10. E.g. 1, 2, 3, 4, ...', content],
    );
  });

  it('keeps history across an app restart', async () => {
    const id = (await call('POST', '/v1/conversations', alice, { system: 'Be brief.' })).json.id;
    await call('POST', `/v1/conversations/${id}/messages`, alice, { content: 'hello' });
    await stack.restartApp();
    const stored = await history(id);
    assert.equal(stored.length, 2);
    assert.equal((await call('GET', `/v1/conversations/${id}`, alice)).json.system, 'Be brief.');
  });
});

describe('trimming to the context window', () => {
  let small: Stack;
  before(async () => {
    small = await startStack({
      azurite: true,
      simulator: true,
      env: { CONVERSATION_CONTEXT_TOKENS: '300' },
      name: 'conversations-trim',
    });
  });
  after(async () => small?.stop());

  it('sends the newest messages that fit, always with the system prompt', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${small.url}${path}`, {
        method: 'POST',
        headers: { ...alice, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as any);
    const { id } = await post('/v1/conversations', { system: 'SYSTEM PROMPT' });
    for (let i = 1; i <= 12; i++)
      await post(`/v1/conversations/${id}/messages`, {
        content: `message number ${i} ${'pad '.repeat(10)}`,
        max_tokens: 10,
      });
    const turn = await post(`/v1/conversations/${id}/messages`, { content: 'latest', max_tokens: 50 });
    const sent = ((await simRequests(small)).at(-1)!.body as any).messages as { role: string; content: string }[];
    assert.equal(sent[0]!.role, 'system');
    assert.equal(sent[0]!.content, 'SYSTEM PROMPT');
    assert.equal(sent.at(-1)!.content, 'latest');
    const history = sent.slice(1, -1);
    assert.ok(history.length > 0 && history.length < 24, `history sent: ${history.length}`);
    assert.equal(turn.history_messages, history.length);
    // What was sent is the newest suffix of the stored history, contiguous, and it starts where the budget ran out.
    assert.match(history.at(-1)!.content, /.*/);
    assert.equal(history.at(-2)!.content.startsWith('message number 12'), true);
    const counted = await fetch(`${small.url}/v1/tokenize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: sent }),
    }).then((r) => r.json() as any);
    assert.ok(counted.count + 50 <= 300, `prompt ${counted.count} + 50 must fit 300`);
  });
});
