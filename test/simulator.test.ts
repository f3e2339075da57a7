/** The simulator speaks Azure OpenAI's protocol well enough for the official `openai` AzureOpenAI client. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AzureOpenAI } from 'openai';
import { startSimulator, type Simulator } from '../dev/simulator/server.js';
import { countChatTokens } from '../src/tokens/chat.js';
import { getEncoding } from '../src/tokens/encodings.js';

let sim: Simulator;
const client = (deployment: string, extra: Record<string, unknown> = {}) =>
  new AzureOpenAI({ endpoint: sim.url, apiKey: 'k', apiVersion: '2024-10-21', deployment, maxRetries: 0, ...extra });
const control = async (path: string, body?: unknown) =>
  (
    await fetch(`${sim.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  ).json();

before(async () => {
  sim = await startSimulator();
});
after(async () => sim?.close());

describe('simulator: completions', () => {
  it('continues the seed sequence and cuts before a stop sequence', async () => {
    const res = await client('gpt-35-turbo-instruct').completions.create({
      model: '',
      prompt: '1, 2, 3, 4, ',
      temperature: 0,
      stop: ['11'],
    });
    assert.equal(res.choices[0]!.text, '5, 6, 7, 8, 9, 10, ');
    assert.equal(res.choices[0]!.finish_reason, 'stop');
  });

  it('honours max_tokens exactly with finish_reason length', async () => {
    const res = await client('gpt-35-turbo-instruct').completions.create({
      model: '',
      prompt: '1, 2, 3, 4, ',
      max_tokens: 50,
      temperature: 0,
    });
    assert.equal(res.choices[0]!.finish_reason, 'length');
    assert.equal(res.usage!.completion_tokens, 50);
    assert.equal(res.usage!.prompt_tokens, getEncoding('cl100k_base').count('1, 2, 3, 4, '));
    assert.match(res.choices[0]!.text, /^5, 6, 7, .* 21,$/);
  });
});

describe('simulator: chat', () => {
  const messages = [
    { role: 'system' as const, content: 'You are a helpful assistant.' },
    { role: 'user' as const, content: 'Knock knock.' },
  ];

  it('answers the knock-knock joke with prompt tokens counted like the tokenize endpoint', async () => {
    const res = await client('gpt-4o-mini').chat.completions.create({ model: '', messages, temperature: 0 });
    assert.equal(res.choices[0]!.message.content, "Who's there?");
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    assert.equal(res.usage!.prompt_tokens, countChatTokens(getEncoding('o200k_base'), messages));
  });

  it('streams the same content, with an empty-choices first chunk and a usage chunk when asked', async () => {
    const stream = await client('gpt-4o-mini').chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'Count to 10. E.g. 1, 2, 3, 4, ...' }],
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.deepEqual(chunks[0]!.choices, []);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, '1, 2, 3, 4, 5, 6, 7, 8, 9, 10.');
    const usage = chunks.at(-1)!.usage!;
    assert.equal(usage.completion_tokens, getEncoding('o200k_base').count(text));
  });

  it('returns n choices', async () => {
    const res = await client('gpt-4o-mini').chat.completions.create({ model: '', messages, n: 2, temperature: 0 });
    assert.equal(res.choices.length, 2);
  });
});

describe('simulator: embeddings', () => {
  it('returns unit vectors, base64 equal to float, and related texts closer than unrelated ones', async () => {
    const c = client('text-embedding-3-small');
    const input = ['the cat sat on the mat', 'a cat sat on a mat', 'quarterly revenue grew'];
    const floats = await c.embeddings.create({ model: '', input, encoding_format: 'float' });
    const raw = (await fetch(`${sim.url}/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21`, {
      method: 'POST',
      headers: { 'api-key': 'k' },
      body: JSON.stringify({ input, encoding_format: 'base64' }),
    }).then((r) => r.json())) as { data: { embedding: string }[] };
    const v = floats.data.map((d) => d.embedding);
    assert.equal(v[0]!.length, 1536);
    const decoded = Array.from(new Float32Array(Buffer.from(raw.data[0]!.embedding, 'base64').buffer.slice(0)));
    assert.deepEqual(
      decoded.map((x) => x.toFixed(6)),
      v[0]!.map((x) => x.toFixed(6)),
    );
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    assert.ok(Math.abs(dot(v[0]!, v[0]!) - 1) < 1e-5);
    assert.ok(dot(v[0]!, v[1]!) > dot(v[0]!, v[2]!) + 0.2);
    const small = await c.embeddings.create({ model: '', input: 'x', dimensions: 256 });
    assert.equal(small.data[0]!.embedding.length, 256);
  });
});

describe('simulator: protocol and faults', () => {
  const url = (deployment: string, q = '?api-version=2024-10-21') =>
    `${sim.url}/openai/deployments/${deployment}/chat/completions${q}`;
  const body = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] });

  it('requires api-version and auth, and knows its deployments', async () => {
    assert.equal(
      (await fetch(url('gpt-4o-mini', ''), { method: 'POST', headers: { 'api-key': 'k' }, body })).status,
      404,
    );
    assert.equal((await fetch(url('gpt-4o-mini'), { method: 'POST', body })).status, 401);
    const missing = await fetch(url('nope'), { method: 'POST', headers: { 'api-key': 'k' }, body });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 'DeploymentNotFound');
  });

  it('accepts a bearer token and records it', async () => {
    await control('/_sim/reset', {});
    const res = await fetch(url('gpt-4o-mini'), { method: 'POST', headers: { authorization: 'Bearer tok-123' }, body });
    assert.equal(res.status, 200);
    const log = (await control('/_sim/requests')).data;
    assert.equal(log.at(-1).auth, 'bearer');
    assert.equal(log.at(-1).bearerToken, 'tok-123');
  });

  it('serves queued faults: 429 with retry headers, 500, 503, slow, content filter', async () => {
    await control('/_sim/faults', { kind: '429', retryAfterMs: 1500 });
    const throttled = await fetch(url('gpt-4o-mini'), { method: 'POST', headers: { 'api-key': 'k' }, body });
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after-ms'), '1500');
    assert.equal(throttled.headers.get('retry-after'), '2');
    await control('/_sim/faults', { kind: '500' });
    assert.equal((await fetch(url('gpt-4o-mini'), { method: 'POST', headers: { 'api-key': 'k' }, body })).status, 500);
    await control('/_sim/faults', { kind: '503' });
    assert.equal((await fetch(url('gpt-4o-mini'), { method: 'POST', headers: { 'api-key': 'k' }, body })).status, 503);
    await control('/_sim/faults', { kind: 'slow', delayMs: 300 });
    const slowStart = performance.now();
    assert.equal((await fetch(url('gpt-4o-mini'), { method: 'POST', headers: { 'api-key': 'k' }, body })).status, 200);
    assert.ok(performance.now() - slowStart >= 290, 'the slow fault delays the answer');
    await control('/_sim/faults', { kind: 'content_filter' });
    const filtered = await fetch(url('gpt-4o-mini'), { method: 'POST', headers: { 'api-key': 'k' }, body });
    assert.equal(filtered.status, 400);
    assert.equal((await filtered.json()).error.code, 'content_filter');
    assert.equal((await fetch(url('gpt-4o-mini'), { method: 'POST', headers: { 'api-key': 'k' }, body })).status, 200);
  });

  it('cuts a stream mid-way, and logs a client abort', async () => {
    await control('/_sim/reset', {});
    await control('/_sim/faults', { kind: 'cut', afterChunks: 2 });
    // The cut may land before or after the client has the headers: either way the stream must fail, not end.
    await assert.rejects(async () => {
      const stream = await client('gpt-4o-mini').chat.completions.create({
        model: '',
        messages: [{ role: 'user', content: 'Count to 50' }],
        stream: true,
      });
      for await (const _ of stream) void _;
    });
    await control('/_sim/faults', { kind: 'hang' });
    const controller = new AbortController();
    const pending = fetch(url('gpt-4o-mini'), {
      method: 'POST',
      headers: { 'api-key': 'k' },
      body,
      signal: controller.signal,
    }).catch(() => null);
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await pending;
    await new Promise((r) => setTimeout(r, 100));
    const log = (await control('/_sim/requests')).data;
    assert.equal(log.at(-1).aborted, true);
  });

  it('enforces a tokens-per-minute limit with retry headers', async () => {
    await control('/_sim/reset', {});
    await control('/_sim/tpm', { tokensPerMinute: 30 });
    assert.equal(
      (
        await fetch(url('gpt-4o-mini'), {
          method: 'POST',
          headers: { 'api-key': 'k' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 }),
        })
      ).status,
      200,
    );
    const limited = await fetch(url('gpt-4o-mini'), {
      method: 'POST',
      headers: { 'api-key': 'k' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 }),
    });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(limited.headers.get('x-ratelimit-remaining-tokens'), '0');
    await control('/_sim/reset', {});
  });
});
