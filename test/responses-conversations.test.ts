/**
 * OpenAI's Conversations API on the conversation store, and responses.create({ conversation }), with the official
 * `openai` client (https://platform.openai.com/docs/api-reference/conversations), against Azurite and the simulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { ConflictError, NotFoundError } from 'openai';
import { simRequests, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
let client: OpenAI;
let bobClient: OpenAI;
const alice = { 'x-ms-client-principal-id': 'alice-conv-resp' };
const bob = { 'x-ms-client-principal-id': 'bob-conv-resp' };

before(async () => {
  // Streamed answers come slowly (30 ms a chunk) so a test can land a turn while another is still streaming.
  stack = await startStack({
    azurite: true,
    simulator: { tokenDelayMs: 30 },
    env: { UPSTREAM_RETRY_DEADLINE_MS: '2000' },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'not-needed', maxRetries: 0, defaultHeaders: alice });
  bobClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'not-needed', maxRetries: 0, defaultHeaders: bob });
});
after(async () => stack?.stop());

async function allItems(id: string, who = client) {
  const items: any[] = [];
  for await (const item of who.conversations.items.list(id, { order: 'asc', limit: 7 })) items.push(item);
  return items;
}

describe('responses in a conversation', () => {
  it('conversations.create, three responses.create({ conversation }), then conversations.items.list', async () => {
    const conversation = await client.conversations.create({ metadata: { topic: 'jokes' } });
    assert.match(conversation.id, /^conv_/);
    assert.deepEqual(conversation.metadata, { topic: 'jokes' });
    const inputs = ['Knock knock.', 'Orange.', 'Orange who?'];
    const answers: string[] = [];
    for (const input of inputs) {
      const response = await client.responses.create({ input, conversation: conversation.id, temperature: 0 });
      assert.deepEqual((response as any).conversation, { id: conversation.id });
      answers.push(response.output_text);
    }
    const sent = ((await simRequests(stack)).at(-1)!.body as any).messages;
    assert.deepEqual(
      sent.map((m: any) => m.content),
      ['Knock knock.', answers[0], 'Orange.', answers[1], 'Orange who?'],
    );
    const items = await allItems(conversation.id);
    assert.deepEqual(
      items.map((i) => [i.role, i.content[0].text]),
      inputs.flatMap((input, n) => [
        ['user', input],
        ['assistant', answers[n]],
      ]),
    );
    assert.deepEqual(
      items.map((i) => i.id),
      ['msg_1', 'msg_2', 'msg_3', 'msg_4', 'msg_5', 'msg_6'],
    );
    // The other view of the same rows.
    const messages = await fetch(`${stack.url}/v1/conversations/${conversation.id}/messages?order=asc`, {
      headers: alice,
    }).then((r) => r.json());
    assert.deepEqual(
      messages.data.map((m: any) => m.content),
      items.map((i) => i.content[0].text),
    );
    // A turn through /messages sees the history written by the Responses API, and the items view sees it.
    const turn = await fetch(`${stack.url}/v1/conversations/${conversation.id}/messages`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: '{"content":"Ha!"}',
    });
    assert.equal(turn.status, 200);
    assert.equal(((await simRequests(stack)).at(-1)!.body as any).messages.length, 7);
    assert.equal((await allItems(conversation.id)).length, 8);
  });

  it('a conversation started through /v1/conversations {system} keeps its system prompt in responses', async () => {
    const created = await fetch(`${stack.url}/v1/conversations`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: '{"system":"You are terse."}',
    });
    const { id } = (await created.json()) as { id: string };
    await client.responses.create({ input: 'Knock knock.', conversation: { id }, instructions: 'Answer in English.' });
    const sent = ((await simRequests(stack)).at(-1)!.body as any).messages;
    assert.deepEqual(sent, [
      { role: 'system', content: 'You are terse.' },
      { role: 'system', content: 'Answer in English.' },
      { role: 'user', content: 'Knock knock.' },
    ]);
  });

  it('items routes: create with items, add, get, delete, update metadata, delete the conversation', async () => {
    const conversation = await client.conversations.create({
      items: [
        { type: 'message', role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Knock knock.' },
      ],
    });
    const added = await client.conversations.items.create(conversation.id, {
      items: [
        { type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' } as any,
        { type: 'function_call_output', call_id: 'call_1', output: '42' },
      ],
    });
    assert.deepEqual(
      added.data.map((i: any) => [i.id, i.type]),
      [
        ['msg_3', 'function_call'],
        ['msg_4', 'function_call_output'],
      ],
    );
    const call = (await client.conversations.items.retrieve('msg_3', { conversation_id: conversation.id })) as any;
    assert.deepEqual([call.name, call.arguments, call.call_id], ['lookup', '{"q":"x"}', 'call_1']);
    // The next response sends them in chat form: system, user, assistant tool call, tool output.
    await client.responses.create({ input: 'So?', conversation: conversation.id });
    const sent = ((await simRequests(stack)).at(-1)!.body as any).messages;
    assert.deepEqual(
      sent.map((m: any) => m.role),
      ['system', 'user', 'assistant', 'tool', 'user'],
    );
    assert.equal(sent[2].tool_calls[0].id, 'call_1');
    assert.equal(sent[3].tool_call_id, 'call_1');

    await client.conversations.items.delete('msg_2', { conversation_id: conversation.id });
    await assert.rejects(
      client.conversations.items.retrieve('msg_2', { conversation_id: conversation.id }),
      (e) => e instanceof NotFoundError,
    );
    assert.deepEqual(
      (await allItems(conversation.id)).map((i) => i.id),
      ['msg_1', 'msg_3', 'msg_4', 'msg_5', 'msg_6'],
    );

    const updated = await client.conversations.update(conversation.id, { metadata: { a: 'b' } });
    assert.deepEqual(updated.metadata, { a: 'b' });
    assert.deepEqual((await client.conversations.retrieve(conversation.id)).metadata, { a: 'b' });

    const deleted = await client.conversations.delete(conversation.id);
    assert.deepEqual(deleted, { id: conversation.id, object: 'conversation.deleted', deleted: true });
    await assert.rejects(client.conversations.retrieve(conversation.id), (e) => e instanceof NotFoundError);
  });

  it("another user's conversation is a 404 for every verb, and for responses.create", async () => {
    const conversation = await client.conversations.create({ items: [{ role: 'user', content: 'mine' }] });
    const id = conversation.id;
    const verbs: [string, () => Promise<unknown>][] = [
      ['retrieve', () => bobClient.conversations.retrieve(id)],
      ['update', () => bobClient.conversations.update(id, { metadata: {} })],
      ['items.list', () => bobClient.conversations.items.list(id)],
      [
        'items.create',
        () => bobClient.conversations.items.create(id, { items: [{ role: 'user', content: 'x' }] as any }),
      ],
      ['items.retrieve', () => bobClient.conversations.items.retrieve('msg_1', { conversation_id: id })],
      ['items.delete', () => bobClient.conversations.items.delete('msg_1', { conversation_id: id })],
      ['delete', () => bobClient.conversations.delete(id)],
      ['responses.create', () => bobClient.responses.create({ input: 'x', conversation: id })],
    ];
    for (const [name, call] of verbs) await assert.rejects(call(), (e) => e instanceof NotFoundError, name);
    assert.equal((await allItems(id)).length, 1, 'untouched');
  });

  it('20 concurrent turns on one conversation: each is stored whole or refused with 409, nothing half-written', async () => {
    const conversation = await client.conversations.create({});
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        client.responses.create({ input: `Turn ${i}.`, conversation: conversation.id }),
      ),
    );
    const ok = results.filter((r): r is PromiseFulfilledResult<OpenAI.Responses.Response> => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    assert.ok(ok.length >= 1);
    for (const r of refused) assert.ok(r.reason instanceof ConflictError, String(r.reason));
    const items = await allItems(conversation.id);
    assert.equal(items.length, ok.length * 2);
    // Pairs in order: each stored turn's input right before its own answer.
    for (let i = 0; i < items.length; i += 2) {
      const turn = ok.find((r) => r.value.output[0]!.id === items[i + 1].id);
      assert.ok(turn, `item ${items[i + 1].id} is the answer of a turn that succeeded`);
      assert.equal(items[i + 1].content[0].text, turn.value.output_text);
      assert.match(items[i].content[0].text, /^Turn \d+\.$/);
    }
  });

  it('a streamed turn that loses the race ends with response.failed (conversation_busy) and stores nothing', async () => {
    const conversation = await client.conversations.create({});
    const res = await fetch(`${stack.url}/v1/responses`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'Tell me a long story about a fox.', conversation: conversation.id, stream: true }),
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('response.output_text.delta')) text += new TextDecoder().decode((await reader.read()).value);
    // While the first turn streams, a second one on the same conversation commits first.
    const winner = await client.responses.create({
      input: 'Knock knock.',
      conversation: conversation.id,
      temperature: 0,
    });
    for (let next = await reader.read(); !next.done; next = await reader.read())
      text += new TextDecoder().decode(next.value);
    const events = [...text.matchAll(/^data: (.+)$/gm)].map((m) => JSON.parse(m[1]!));
    const last = events.at(-1);
    assert.equal(last.type, 'response.failed');
    assert.equal(last.response.error.code, 'conversation_busy');
    assert.ok(!events.some((e) => e.type === 'response.completed'));
    const items = await allItems(conversation.id);
    assert.deepEqual(
      items.map((i) => i.content[0].text),
      ['Knock knock.', winner.output_text],
    );
  });
});
