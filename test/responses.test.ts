/**
 * The OpenAI Responses API through this service, with the official `openai` client, against Azurite and the
 * simulator. Request and event shapes follow OpenAI's API reference
 * (https://platform.openai.com/docs/api-reference/responses and …/responses-streaming).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { NotFoundError } from 'openai';
import { isErrorShape, simFault, simRequests, simReset, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
let client: OpenAI;
let bobClient: OpenAI;
const alice = { 'x-ms-client-principal-id': 'alice-resp-1' };
const bob = { 'x-ms-client-principal-id': 'bob-resp-2' };

before(async () => {
  // A small context window (1,000 tokens) so the truncation tests need only a few responses.
  stack = await startStack({
    azurite: true,
    simulator: true,
    env: { UPSTREAM_RETRY_DEADLINE_MS: '2000', CONVERSATION_CONTEXT_TOKENS: '1000' },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'not-needed', maxRetries: 0, defaultHeaders: alice });
  bobClient = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'not-needed', maxRetries: 0, defaultHeaders: bob });
});
after(async () => stack?.stop());

const lastUpstreamMessages = async () =>
  ((await simRequests(stack)).at(-1)!.body as { messages: { role: string; content: unknown }[] }).messages;

describe('responses.create', () => {
  it("answers a string input with a stored response in OpenAI's shape", async () => {
    const response = await client.responses.create({ model: 'gpt-4o-mini', input: 'Knock knock.', temperature: 0 });
    assert.match(response.id, /^resp_/);
    assert.equal(response.object, 'response');
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, "Who's there?");
    assert.equal(response.output[0]!.type, 'message');
    assert.ok(response.usage!.input_tokens > 0 && response.usage!.output_tokens > 0);
    assert.equal(response.usage!.total_tokens, response.usage!.input_tokens + response.usage!.output_tokens);
    assert.equal(response.error, null);
    assert.equal((response as any).store, true);
    assert.deepEqual(await lastUpstreamMessages(), [{ role: 'user', content: 'Knock knock.' }]);
    const got = await client.responses.retrieve(response.id);
    assert.equal(got.id, response.id);
    assert.equal(got.output_text, "Who's there?");
  });

  it('sends instructions as a system message ahead of the input', async () => {
    await client.responses.create({
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Knock knock.' }] }],
      instructions: 'Answer as a pirate.',
    });
    assert.deepEqual(await lastUpstreamMessages(), [
      { role: 'system', content: 'Answer as a pirate.' },
      { role: 'user', content: 'Knock knock.' },
    ]);
  });

  it('chains three responses by previous_response_id; the upstream gets the history in order', async () => {
    const first = await client.responses.create({ input: 'Knock knock.', temperature: 0 });
    const second = await client.responses.create({ input: 'Orange.', previous_response_id: first.id, temperature: 0 });
    const third = await client.responses.create({
      input: 'Orange who?',
      previous_response_id: second.id,
      instructions: 'Be brief.',
      temperature: 0,
    });
    assert.equal(third.previous_response_id, second.id);
    const sent = await lastUpstreamMessages();
    assert.deepEqual(sent, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Knock knock.' },
      { role: 'assistant', content: "Who's there?" },
      { role: 'user', content: 'Orange.' },
      { role: 'assistant', content: second.output_text },
      { role: 'user', content: 'Orange who?' },
    ]);
    const items = await client.responses.inputItems.list(third.id);
    assert.deepEqual(
      items.data.map((i: any) => i.content[0].text),
      ['Orange who?'],
    );
  });

  it('store: false stores nothing; naming it as previous_response_id is a 404', async () => {
    const response = await client.responses.create({ input: 'Knock knock.', store: false });
    assert.equal((response as any).store, false);
    await assert.rejects(client.responses.retrieve(response.id), (e) => e instanceof NotFoundError);
    await assert.rejects(
      client.responses.create({ input: 'Hi', previous_response_id: response.id }),
      (e) => e instanceof NotFoundError,
    );
  });

  it('delete removes a response; afterwards every verb is a 404', async () => {
    const response = await client.responses.create({ input: 'Knock knock.' });
    await client.responses.delete(response.id);
    await assert.rejects(client.responses.retrieve(response.id), (e) => e instanceof NotFoundError);
    await assert.rejects(client.responses.delete(response.id), (e) => e instanceof NotFoundError);
    await assert.rejects(client.responses.inputItems.list(response.id), (e) => e instanceof NotFoundError);
  });

  it("another user's response is a 404 for every verb, and cannot be chained", async () => {
    const mine = await client.responses.create({ input: 'Knock knock.' });
    await assert.rejects(bobClient.responses.retrieve(mine.id), (e) => e instanceof NotFoundError);
    await assert.rejects(bobClient.responses.inputItems.list(mine.id), (e) => e instanceof NotFoundError);
    await assert.rejects(bobClient.responses.delete(mine.id), (e) => e instanceof NotFoundError);
    await assert.rejects(
      bobClient.responses.create({ input: 'Hi', previous_response_id: mine.id }),
      (e) => e instanceof NotFoundError,
    );
    assert.equal((await client.responses.retrieve(mine.id)).id, mine.id, 'still there for its owner');
  });

  it('refuses what is not offered with a 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ input: 'hi', background: true }, 'background'],
      [{ input: 'hi', tools: [{ type: 'web_search' }] }, 'tools[0].type'],
      [{ input: 'hi', truncation: 'sometimes' }, 'truncation'],
      [{ input: 'hi', conversation: 'conv_x', previous_response_id: 'resp_x' }, 'previous_response_id'],
      [{ input: [{ type: 'item_referenc', id: 'x' }] }, 'input[0]'],
    ];
    for (const [body, param] of cases) {
      const res = await fetch(`${stack.url}/v1/responses`, {
        method: 'POST',
        headers: { ...alice, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = await res.json();
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(isErrorShape(json));
      assert.ok(String(json.error.param).startsWith(param), `${JSON.stringify(body)} → ${json.error.param}`);
    }
  });
});

describe('incomplete answers', () => {
  it('max_output_tokens cut short: status incomplete, reason max_output_tokens; streamed it ends with response.incomplete', async () => {
    const whole = await client.responses.create({ input: 'Tell me a long story about a fox.', max_output_tokens: 3 });
    assert.equal(whole.status, 'incomplete');
    assert.deepEqual(whole.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(whole.usage!.output_tokens, 3);
    assert.equal(((await simRequests(stack)).at(-1)!.body as any).max_completion_tokens, 3);
    const stream = client.responses.stream({ input: 'Tell me a long story about a fox.', max_output_tokens: 3 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.equal(types.at(-1), 'response.incomplete');
    assert.equal((await client.responses.retrieve(whole.id)).status, 'incomplete');
  });
});

describe('truncation', () => {
  // ~300 tokens each: with a 1,000-token window and 250 kept for the reply, one previous response fits, two do not.
  const long = (n: number) => `${n} ` + 'fox '.repeat(300);
  it('disabled (the default, as at OpenAI) is a 400 context_length_exceeded; auto drops the oldest responses', async () => {
    const r1 = await client.responses.create({ input: long(1) });
    const r2 = await client.responses.create({ input: long(2), previous_response_id: r1.id, truncation: 'auto' });
    const refused = await fetch(`${stack.url}/v1/responses`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ input: long(3), previous_response_id: r2.id }),
    });
    assert.equal(refused.status, 400);
    const error = (await refused.json()).error;
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(error.param, 'previous_response_id');
    const r3 = await client.responses.create({ input: long(3), previous_response_id: r2.id, truncation: 'auto' });
    assert.equal((r3 as any).truncation, 'auto');
    const sent = await lastUpstreamMessages();
    assert.deepEqual(
      sent.filter((m) => m.role === 'user').map((m) => String(m.content).split(' ')[0]),
      ['2', '3'],
    );
  });
});

describe('item_reference', () => {
  it("resolves the caller's stored items by id; an unknown or another user's item is a 404", async () => {
    const first = await client.responses.create({ input: 'Knock knock.', temperature: 0 });
    const items = await client.responses.inputItems.list(first.id);
    await client.responses.create({
      input: [
        { type: 'item_reference', id: items.data[0]!.id },
        { type: 'item_reference', id: first.output[0]!.id! },
        { role: 'user', content: 'Orange.' },
      ],
    });
    assert.deepEqual(
      (await lastUpstreamMessages()).map((m) => m.content),
      ['Knock knock.', "Who's there?", 'Orange.'],
    );
    await assert.rejects(
      bobClient.responses.create({ input: [{ type: 'item_reference', id: first.output[0]!.id! }] }),
      (e) => e instanceof NotFoundError,
    );
    await assert.rejects(
      client.responses.create({ input: [{ type: 'item_reference', id: 'msg_nope' }] }),
      (e) => e instanceof NotFoundError,
    );
  });
});

describe('responses.stream', () => {
  it('emits the Responses event stream in order, and finalResponse() is the stored response', async () => {
    const stream = client.responses.stream({ input: 'Knock knock.', temperature: 0 });
    const types: string[] = [];
    const sequence: number[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    const final = await stream.finalResponse();
    assert.equal(text, "Who's there?");
    assert.equal(final.output_text, "Who's there?");
    assert.deepEqual(
      sequence,
      sequence.map((_, i) => i),
      'sequence numbers count up from 0',
    );
    const distinct = types.filter((t, i) => t !== types[i - 1]);
    assert.deepEqual(distinct, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const stored = await client.responses.retrieve(final.id);
    assert.equal(stored.output_text, "Who's there?");
    assert.ok(stored.usage!.output_tokens > 0);
  });

  it('a cut upstream stream ends with response.failed and stores nothing', async () => {
    await simReset(stack);
    await simFault(stack, { kind: 'cut', afterChunks: 2 });
    const res = await fetch(`${stack.url}/v1/responses`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'Tell me a long story about a fox.', stream: true }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    const events = [...text.matchAll(/^event: (.+)\ndata: (.+)$/gm)].map((m) => ({
      event: m[1]!,
      data: JSON.parse(m[2]!),
    }));
    assert.ok(
      events.every((e) => e.event === e.data.type),
      'event: line matches the type',
    );
    const last = events.at(-1)!;
    assert.equal(last.event, 'response.failed');
    assert.equal(last.data.response.status, 'failed');
    assert.equal(last.data.response.error.code, 'stream_interrupted');
    assert.ok(!events.some((e) => e.event === 'response.completed'));
    const id = events[0]!.data.response.id;
    await assert.rejects(client.responses.retrieve(id), (e) => e instanceof NotFoundError);
  });
});
