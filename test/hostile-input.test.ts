/**
 * Hostile input against every POST route of the function list: random JSON, wrong types, huge numbers,
 * lone surrogates, deep nesting, prototype keys, oversized bodies. Never a 5xx, never a crash, always the
 * error shape for a 4xx, and no prototype pollution.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { functions } from '../src/functions/registry.js';
import { isErrorShape, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
let conversationId: string;
const user = { 'x-ms-client-principal-id': 'fuzz-user', 'content-type': 'application/json' };

before(async () => {
  stack = await startStack({
    azurite: true,
    simulator: true,
    // Schemas compiled after their first parse (src/schemas/compiled.ts; 200 by default, which no other test
    // reaches): the fuzzing below runs against the compiled parsers that serve a busy instance.
    env: { UPSTREAM_RETRY_DEADLINE_MS: '2000', SCHEMA_COMPILE_AFTER: '1' },
  });
  const res = await fetch(`${stack.url}/v1/conversations`, { method: 'POST', headers: user, body: '{}' });
  conversationId = ((await res.json()) as { id: string }).id;
});
after(async () => stack?.stop());

// Azure-shaped routes get a real deployment and api-version, so the fuzz reaches their body validation.
const AZURE_DEPLOYMENT: Record<string, string> = {
  'chat/completions': 'gpt-4o-mini',
  completions: 'gpt-35-turbo-instruct',
  embeddings: 'text-embedding-3-small',
};
const concrete = (route: string) =>
  route.includes('{deployment}')
    ? `${route.replace('{deployment}', AZURE_DEPLOYMENT[route.split('{deployment}/')[1]!]!)}?api-version=2024-10-21`
    : route.replace('{id}', () => conversationId);
const postTemplates = functions.filter((f) => f.methods.includes('POST')).map((f) => f.route);
const postRoutes = postTemplates.map(concrete);

async function send(route: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.url}/${route}`, {
    method: 'POST',
    headers: { ...user, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : new Blob([body as Uint8Array<ArrayBuffer>]),
  });
  const text = await response.text();
  return { status: response.status, text, type: response.headers.get('content-type') ?? '' };
}

function assertNoServerError(res: { status: number; text: string; type: string }, what: string) {
  assert.ok(res.status < 500, `${what} → ${res.status} ${res.text.slice(0, 200)}`);
  if (res.status >= 400) assert.ok(isErrorShape(JSON.parse(res.text)), `${what}: error shape`);
}

/** A body the route must refuse as the caller's mistake: 400 in OpenAI's error shape. */
function assertRefused(res: { status: number; text: string }, what: string) {
  assert.equal(res.status, 400, `${what} → ${res.status} ${res.text.slice(0, 200)}`);
  assert.ok(isErrorShape(JSON.parse(res.text)), `${what}: error shape`);
}

/** What each POST route answers to `{}`: proof the fuzz reaches its validation (not a 404 or an api-version 400). */
const EMPTY_OBJECT_ANSWER: Record<string, [status: number, param: string | null]> = {
  'v1/completions': [400, 'prompt'],
  'v1/chat/completions': [400, 'messages'],
  'v1/embeddings': [400, 'input'],
  'openai/deployments/{deployment}/chat/completions': [400, 'messages'],
  'openai/deployments/{deployment}/completions': [400, 'prompt'],
  'openai/deployments/{deployment}/embeddings': [400, 'input'],
  'openai/v1/chat/completions': [400, 'messages'],
  'openai/v1/completions': [400, 'prompt'],
  'openai/v1/embeddings': [400, 'input'],
  'openai/v1/responses': [400, 'input'],
  'v1/conversations': [201, null],
  'v1/conversations/{id}/messages': [400, 'content'],
  'v1/conversations/{id}': [400, 'metadata'],
  'v1/conversations/{id}/items': [400, 'items'],
  'v1/responses': [400, 'input'],
  'v1/tokenize': [400, 'text'],
  'v1/detokenize': [400, 'tokens'],
};

describe('hostile bodies on every POST route', () => {
  it('covers the routes of the function list, each reached up to its body validation', async () => {
    assert.deepEqual(
      postTemplates.toSorted(),
      Object.keys(EMPTY_OBJECT_ANSWER).toSorted(),
      'a new POST route: add its answer to {}',
    );
    for (const [i, route] of postRoutes.entries()) {
      const res = await send(route, '{}');
      const [status, param] = EMPTY_OBJECT_ANSWER[postTemplates[i]!]!;
      assert.equal(res.status, status, `${route} → ${res.status} ${res.text.slice(0, 200)}`);
      if (status === 400) assert.equal(JSON.parse(res.text).error.param, param, route);
    }
  });

  it('random JSON values never cause a 5xx', async () => {
    for (const route of postRoutes) {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
          assertNoServerError(
            await send(route, JSON.stringify(value)),
            `${route} ${JSON.stringify(value).slice(0, 80)}`,
          );
        }),
        { numRuns: 40 },
      );
    }
  });

  it('right shapes with wrong types, huge numbers and odd strings never cause a 5xx', async () => {
    const odd = fc.oneof(
      fc.constantFrom(
        1e308,
        -1e308,
        Number.MAX_SAFE_INTEGER + 2,
        -0,
        0.5,
        -1,
        2 ** 31,
        '',
        '\ud800',
        '\udfff\ud800',
        'x'.repeat(70_000),
        null,
        true,
        [],
        {},
      ),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.integer(),
      fc.double(),
    );
    const fields = [
      'text',
      'messages',
      'prompt',
      'input',
      'tokens',
      'content',
      'model',
      'encoding',
      'max_tokens',
      'temperature',
      'top_p',
      'n',
      'stop',
      'stream',
      'dimensions',
      'encoding_format',
      'system',
      'title',
      'allowed_special',
    ];
    const body = fc.dictionary(fc.constantFrom(...fields), odd, { maxKeys: 4 });
    for (const route of postRoutes) {
      await fc.assert(
        fc.asyncProperty(body, async (value) => {
          assertNoServerError(
            await send(route, JSON.stringify(value)),
            `${route} ${JSON.stringify(value).slice(0, 120)}`,
          );
        }),
        { numRuns: 40 },
      );
    }
  });

  it('deep nesting, malformed JSON, empty and non-UTF-8 bodies are 4xx', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const deepObject = '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000);
    for (const [i, route] of postRoutes.entries()) {
      // Nesting past the depth bound is refused before parsing, whatever the route accepts.
      for (const body of [deep, deepObject, '{', '', 'null', '"just a string"']) {
        assertRefused(await send(route, body), `${route} ${body.slice(0, 20)}`);
      }
      // Objects whose only fields are unknown or wrong: answered as {} is (a route without required fields accepts
      // them).
      for (const body of ['{"text": "a", "text": 5}']) {
        const res = await send(route, body);
        if (EMPTY_OBJECT_ANSWER[postTemplates[i]!]![0] === 400) assertRefused(res, `${route} ${body.slice(0, 20)}`);
        else assert.equal(res.status, 201, `${route} ${body.slice(0, 20)} → ${res.status}`);
      }
      assertRefused(await send(route, new Uint8Array([0xff, 0xfe, 0x00, 0x7b])), `${route} binary`);
    }
  });

  it('deep nesting in free-form fields (tool parameters, json_schema) is 400 at parse time, never a stack overflow', async () => {
    // Issue 14, item 8: depth 5,000 here overflowed the stack in JSON.stringify (500) with a 10 KB body.
    const nest = (depth: number): unknown =>
      depth === 0 ? { type: 'string' } : { type: 'object', properties: { a: nest(depth - 1) } };
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const messages = [{ role: 'user', content: 'hi' }];
    const tool = (parameters: string) =>
      `{"messages":${JSON.stringify(messages)},"tools":[{"type":"function","function":{"name":"f","parameters":${parameters}}}]}`;
    const schema = (s: string) =>
      `{"messages":${JSON.stringify(messages)},"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":${s}}}}`;
    for (const body of [tool(deep), schema(deep)]) {
      const res = await send('v1/chat/completions', body);
      assert.equal(res.status, 400, res.text.slice(0, 200));
      assert.equal(JSON.parse(res.text).error.code, 'json_too_deep');
    }
    for (const route of postRoutes) {
      const res = await send(route, `{"x":${deep}}`);
      assert.equal(res.status, 400, route);
      assert.equal(JSON.parse(res.text).error.code, 'json_too_deep', route);
    }
    // A schema nested as deeply as OpenAI allows (10 levels) still goes through.
    const fine = await send('v1/chat/completions', tool(JSON.stringify(nest(10))));
    assert.equal(fine.status, 200, fine.text.slice(0, 200));
  });

  it('prototype keys do not pollute: later requests behave the same', async () => {
    const attacks = [
      '{"__proto__": {"count_only": true, "stream": true}, "text": "a"}',
      '{"constructor": {"prototype": {"count_only": true}}, "text": "a"}',
      '{"text": "a", "__proto__": {"allowed_special": "all"}}',
      '{"messages": [{"role": "user", "content": "x", "__proto__": {"role": "system"}}], "__proto__": {"stream": true}}',
    ];
    for (const route of postRoutes)
      for (const attack of attacks) assertNoServerError(await send(route, attack), `${route} ${attack}`);
    const after = await send('v1/tokenize', '{"text": "<|endoftext|>"}');
    const body = JSON.parse(after.text);
    assert.ok(Array.isArray(body.tokens), 'count_only did not leak onto other requests');
    assert.ok(!body.tokens.includes(100257), 'allowed_special did not leak');
    const chat = await send('v1/chat/completions', '{"messages": [{"role": "user", "content": "hi"}]}');
    assert.match(chat.type, /application\/json/, 'stream did not leak');
  });

  it('a 10 MB body is refused with 413, and the service keeps answering', async () => {
    const big = JSON.stringify({ text: 'a'.repeat(10 * 1024 * 1024) });
    for (const route of postRoutes) {
      const res = await send(route, big);
      assert.equal(res.status, 413, route);
      assert.ok(isErrorShape(JSON.parse(res.text)));
    }
    assert.equal((await fetch(`${stack.url}/v1/health`)).status, 200);
  });

  it('the app process survives a concurrent burst of hostile bodies on every route', async () => {
    const nasty = [
      '['.repeat(100_000),
      '{"a":'.repeat(50_000),
      '{',
      '\ud800',
      new Uint8Array([0xff, 0xfe, 0x00, 0x7b]),
    ];
    const answers = await Promise.all(postRoutes.flatMap((route) => nasty.map((body) => send(route, body))));
    for (const res of answers) assertRefused(res, 'burst');
    assert.equal(stack.app.process.exitCode, null);
    assert.equal(stack.app.process.signalCode, null);
    assert.equal((await fetch(`${stack.url}/v1/health`)).status, 200);
  });
});

describe('principal headers when trust is off', () => {
  let untrusted: Stack;
  before(async () => {
    untrusted = await startStack({
      azurite: true,
      simulator: true,
      env: { TRUST_PRINCIPAL_HEADERS: 'false' },
      name: 'hostile-untrusted',
    });
  });
  after(async () => untrusted?.stop());

  it("an impersonation attempt is 401, never another user's data", async () => {
    for (const [method, path] of [
      ['POST', '/v1/conversations'],
      ['GET', '/v1/conversations'],
      ['GET', `/v1/conversations/${conversationId}`],
      ['POST', `/v1/conversations/${conversationId}/messages`],
    ] as const) {
      const res = await fetch(`${untrusted.url}${path}`, {
        method,
        headers: {
          'x-ms-client-principal-id': 'fuzz-user',
          'x-ms-client-principal-name': 'admin',
          'x-ms-client-principal': Buffer.from('{"userId":"fuzz-user"}').toString('base64'),
        },
        body: method === 'POST' ? '{"content": "hi"}' : undefined,
      });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.ok(isErrorShape(await res.json()));
    }
  });
});
