/** Completions, chat and embeddings through this API, with the official `openai` client and raw HTTP. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { isErrorShape, postJson, simFault, simRequests, simReset, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
let client: OpenAI;
before(async () => {
  stack = await startStack({ simulator: true, env: { UPSTREAM_RETRY_DEADLINE_MS: '5000' } });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
});
after(async () => stack?.stop());

describe('completions (the seed examples)', () => {
  it('"1, 2, 3, 4, " with stop ["11"] stops before 11', async () => {
    const res = await client.completions.create({
      model: 'gpt-35-turbo-instruct',
      prompt: '1, 2, 3, 4, ',
      temperature: 0,
      stop: ['11'],
    });
    assert.equal(res.object, 'text_completion');
    assert.equal(res.choices[0]!.text, '5, 6, 7, 8, 9, 10, ');
    assert.equal(res.choices[0]!.finish_reason, 'stop');
  });

  it('max_tokens 50 ends with finish_reason length and 50 completion tokens', async () => {
    const res = await client.completions.create({
      model: 'gpt-35-turbo-instruct',
      prompt: '1, 2, 3, 4, ',
      max_tokens: 50,
      temperature: 0,
    });
    assert.equal(res.choices[0]!.finish_reason, 'length');
    assert.deepEqual(res.usage, { completion_tokens: 50, prompt_tokens: 12, total_tokens: 62 });
  });

  it('streams text deltas and reports usage counted by the service', async () => {
    const stream = await client.completions.create({
      model: 'gpt-35-turbo-instruct',
      prompt: '1, 2, 3, 4, ',
      temperature: 0,
      stop: '11',
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, '5, 6, 7, 8, 9, 10, ');
    assert.equal(usage?.prompt_tokens, 12);
  });
});

describe('chat', () => {
  const knock = [
    { role: 'system' as const, content: 'You are a helpful assistant.' },
    { role: 'user' as const, content: 'Knock knock.' },
  ];

  it('answers the knock-knock chat in OpenAI shape', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: knock, temperature: 0 });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.choices[0]!.message.role, 'assistant');
    assert.equal(res.choices[0]!.message.content, "Who's there?");
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    const counted = await postJson(`${stack.url}/v1/tokenize`, { messages: knock, model: 'gpt-4o-mini' });
    assert.equal(res.usage!.prompt_tokens, counted.json.count);
  });

  it('a prompt in several scripts and an emoji reaches the model byte for byte (the body is sent as a string)', async () => {
    await simReset(stack);
    const content = 'Grüße 😀 语言 — 你好，世界 ';
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
    assert.equal(res.object, 'chat.completion');
    const [sent] = await simRequests(stack);
    assert.deepEqual((sent!.body as { messages: unknown }).messages, [{ role: 'user', content }]);
    const counted = await postJson(`${stack.url}/v1/tokenize`, {
      messages: [{ role: 'user', content }],
      model: 'gpt-4o-mini',
    });
    assert.equal(res.usage!.prompt_tokens, counted.json.count);
  });

  it('streams: no empty-choices chunk reaches the client, content equals the whole answer, usage when asked', async () => {
    const messages = [{ role: 'user' as const, content: 'Count to 10. E.g. 1, 2, 3, 4, ...' }];
    const whole = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, temperature: 0 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.equal(content, whole.choices[0]!.message.content);
    assert.equal(content, '1, 2, 3, 4, 5, 6, 7, 8, 9, 10.');
    assert.ok(chunks.slice(0, -1).every((c) => c.choices.length > 0));
    assert.deepEqual(chunks.at(-1)!.choices, []);
    assert.deepEqual(chunks.at(-1)!.usage, whole.usage);
  });

  it('without include_usage, the stream carries no usage chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: knock, stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.every((c) => !c.usage && c.choices.length > 0));
  });

  it('returns n choices', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: knock, n: 2, temperature: 0 });
    assert.equal(res.choices.length, 2);
  });
});

describe('embeddings', () => {
  it('answers the openai client default (base64) and float, equal vectors', async () => {
    const input = ['the cat sat on the mat', 'quarterly revenue grew'];
    const viaClient = await client.embeddings.create({ model: 'text-embedding-3-small', input });
    const asFloat = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input,
      encoding_format: 'float',
    });
    assert.equal(viaClient.data.length, 2);
    assert.equal(viaClient.data[0]!.embedding.length, 1536);
    assert.deepEqual(
      viaClient.data[0]!.embedding.map((x) => x.toFixed(5)),
      asFloat.data[0]!.embedding.map((x) => x.toFixed(5)),
    );
    const dims = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'x',
      dimensions: 64,
      encoding_format: 'float',
    });
    assert.equal(dims.data[0]!.embedding.length, 64);
  });
});

describe('validation: 400 naming the field, never sent upstream', () => {
  const cases: [string, unknown, string][] = [
    ['/v1/chat/completions', { messages: [] }, 'messages'],
    ['/v1/chat/completions', { messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], temperature: 2.5 }, 'temperature'],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], top_p: 1.5 }, 'top_p'],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], presence_penalty: -3 }, 'presence_penalty'],
    [
      '/v1/chat/completions',
      { messages: [{ role: 'user', content: 'x' }], frequency_penalty: 2.1 },
      'frequency_penalty',
    ],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], n: 0 }, 'n'],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], n: 129 }, 'n'],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }, 'max_tokens'],
    ['/v1/completions', { temperature: 1 }, 'prompt'],
    ['/v1/completions', { prompt: 'x', max_tokens: 'ten' }, 'max_tokens'],
    ['/v1/embeddings', { input: Array(2049).fill('x') }, 'input'],
    ['/v1/embeddings', { input: 'x', encoding_format: 'hex' }, 'encoding_format'],
  ];
  it('for every knob out of range', async () => {
    await simReset(stack);
    for (const [path, body, param] of cases) {
      const res = await postJson(`${stack.url}${path}`, body);
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body).slice(0, 80)}`);
      assert.ok(isErrorShape(res.json));
      assert.equal(res.json.error.param, param, JSON.stringify(body).slice(0, 80));
    }
    assert.equal((await simRequests(stack)).length, 0);
  });

  it('an unknown model is a 404 listing the known ones', async () => {
    const res = await postJson(`${stack.url}/v1/chat/completions`, {
      model: 'gpt-9',
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(res.status, 404);
    assert.equal(res.json.error.param, 'model');
    assert.match(res.json.error.message, /gpt-4o-mini/);
  });
});

describe('upstream faults', () => {
  const chat = { messages: [{ role: 'user', content: 'hi' }] };

  it('retries 429s within the deadline, then succeeds', async () => {
    await simReset(stack);
    await simFault(stack, { kind: '429', count: 2, retryAfterMs: 50 });
    const res = await postJson(`${stack.url}/v1/chat/completions`, chat);
    assert.equal(res.status, 200);
    assert.equal((await simRequests(stack)).length, 3);
  });

  it('passes a 429 on with retry-after when waiting would pass the deadline', async () => {
    await simReset(stack);
    await simFault(stack, { kind: '429', retryAfterSeconds: 30 });
    const res = await postJson(`${stack.url}/v1/chat/completions`, chat);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '30');
    assert.ok(isErrorShape(res.json));
  });

  it('turns persistent 5xx into a 502 after bounded retries', async () => {
    await simReset(stack);
    await simFault(stack, { kind: '500', count: 10 });
    const res = await postJson(`${stack.url}/v1/chat/completions`, chat);
    assert.equal(res.status, 502);
    assert.equal(res.json.error.code, 'upstream_error');
    assert.equal((await simRequests(stack)).length, 4); // 1 + UPSTREAM_MAX_RETRIES (3)
    await simReset(stack);
  });

  it('a content-filter refusal is a 400 whose code says so', async () => {
    await simReset(stack);
    await simFault(stack, { kind: 'content_filter' });
    const res = await postJson(`${stack.url}/v1/chat/completions`, chat);
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'content_filter');
  });

  it('a stream cut mid-way ends with an error event and no [DONE]', async () => {
    await simReset(stack);
    await simFault(stack, { kind: 'cut', afterChunks: 3 });
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Count to 40' }], stream: true }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /event: error\ndata: \{"error":/);
    assert.doesNotMatch(text, /\[DONE\]/);
  });

  it('a client that disconnects mid-stream aborts the upstream request', async () => {
    await stack.stop();
    stack = await startStack({ simulator: { tokenDelayMs: 20 } });
    const controller = new AbortController();
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Count to 300' }], stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    let entry;
    for (let i = 0; i < 50 && !entry?.aborted; i++) {
      await new Promise((r) => setTimeout(r, 50));
      entry = (await simRequests(stack)).at(-1);
    }
    assert.equal(entry?.aborted, true);
    assert.equal(entry?.completed, false);
  });
});

describe('upstream timeout', () => {
  let slow: Stack;
  before(async () => {
    slow = await startStack({ simulator: true, env: { UPSTREAM_TIMEOUT_MS: '300' }, name: 'models-timeout' });
  });
  after(async () => slow?.stop());

  it('a slow model is a 504, and the next request is served normally', async () => {
    await simFault(slow, { kind: 'slow', delayMs: 2000 });
    const res = await postJson(`${slow.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.status, 504);
    assert.equal(res.json.error.code, 'upstream_timeout');
    assert.equal(
      (await postJson(`${slow.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] })).status,
      200,
    );
  });
});

/**
 * What the compatible upstream below streams: `"usage":null` last, not last, and in a nested object; two escapes
 * (`\u0048` is H, `\u0061` is a) that a relay passing the text on keeps, and one serialising it again does not.
 */
const STREAMED = [
  '{"id":"chatcmpl-s","object":"chat.completion.chunk","created":1,"model":"llama3","choices":[{"index":0,"delta":{"content":"\\u0048i "}}],"usage":null}',
  '{"id":"chatcmpl-s","usage":null,"object":"chat.completion.chunk","created":1,"model":"llama3","choices":[{"index":0,"delta":{"content":"from "}}]}',
  '{"id":"chatcmpl-s","object":"chat.completion.chunk","created":1,"model":"llama3","choices":[{"index":0,"delta":{"content":"\\u0061 stream."},"logprobs":{"usage":null}}]}',
];

describe('an OpenAI-compatible upstream (OPENAI_BASE_URL, e.g. a local Ollama)', () => {
  let server: import('node:http').Server;
  let compatible: Stack;
  const seen: { path: string; auth: string | undefined; body: any }[] = [];

  before(async () => {
    const { createServer } = await import('node:http');
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const body = JSON.parse(text);
        seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
        if (body.stream) {
          // A server that ignores stream_options (as some OpenAI-compatible ones do): no usage chunk at all.
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          for (const event of STREAMED) res.write(`data: ${event}\n\n`);
          res.end('data: [DONE]\n\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-x',
            object: 'chat.completion',
            created: 1,
            model: 'llama3',
            choices: [
              {
                index: 0,
                finish_reason: 'stop',
                message: { role: 'assistant', content: 'Hi from an OpenAI-compatible server.' },
              },
            ],
            usage: { prompt_tokens: 3, completion_tokens: 7, total_tokens: 10 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    compatible = await startStack({
      name: 'models-openai-compatible',
      env: {
        OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
        OPENAI_API_KEY: 'compat-key',
        AZURE_OPENAI_CHAT_DEPLOYMENTS: 'llama3',
      },
    });
  });
  after(async () => {
    await compatible?.stop();
    server?.close();
  });

  it('calls {base}/chat/completions with the deployment as model and a bearer key', async () => {
    const res = await postJson(`${compatible.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.choices[0].message.content, 'Hi from an OpenAI-compatible server.');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.path, '/v1/chat/completions');
    assert.equal(seen[0]!.auth, 'Bearer compat-key');
    assert.equal(seen[0]!.body.model, 'llama3');
    const health = await (await fetch(`${compatible.url}/v1/health`)).json();
    assert.equal(health.upstream.kind, 'openai-compatible');
  });

  it('counts the usage of a stream itself when the upstream streams none (the prompt is counted only then)', async () => {
    const messages = [{ role: 'user', content: 'Say hi, streaming.' }];
    const res = await fetch(`${compatible.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages, stream: true, stream_options: { include_usage: true } }),
    });
    assert.equal(res.status, 200);
    const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: '));
    assert.equal(events.at(-1), 'data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Hi from a stream.');
    // Each chunk relayed as the upstream wrote it, less its top-level usage: cut from the text where it is the last
    // key (the escape stays), serialised again where it is not or where a `usage` is nested (the chunk's own).
    assert.deepEqual(
      events.slice(0, 3).map((e) => e.slice(6)),
      [
        STREAMED[0]!.replace(',"usage":null}', '}'),
        '{"id":"chatcmpl-s","object":"chat.completion.chunk","created":1,"model":"llama3","choices":[{"index":0,"delta":{"content":"from "}}]}',
        JSON.stringify(JSON.parse(STREAMED[2]!)), // (`a stream.`, unescaped)
      ],
    );
    assert.equal(seen.at(-1)!.body.stream_options?.include_usage, true); // asked for, not given
    // llama3 names no known model family: its tokens are counted with cl100k_base.
    const prompt = await postJson(`${compatible.url}/v1/tokenize`, { messages, encoding: 'cl100k_base' });
    const answer = await postJson(`${compatible.url}/v1/tokenize`, {
      text: 'Hi from a stream.',
      encoding: 'cl100k_base',
      count_only: true,
    });
    assert.deepEqual(chunks.at(-1).usage, {
      prompt_tokens: prompt.json.count,
      completion_tokens: answer.json.count,
      total_tokens: prompt.json.count + answer.json.count,
    });
  });
});
