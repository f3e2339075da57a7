/**
 * GET /api/v1/openapi.json: every route of the live function list is described, and the document agrees with the
 * server — sample bodies the document accepts, the server accepts; bodies it rejects, the server answers 400;
 * the server's answers validate against the documented response and error schemas.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import * as z from 'zod/mini';
import { functions } from '../src/functions/registry.js';
import { defineFunction } from '../src/http/handler.js';
import { buildOpenApiDocument, parseRoute, routesWithoutResponseSchema } from '../src/openapi/document.js';
import { promptPresets } from '../src/playground/presets.js';
import { isErrorShape, postJson, startStack, type Stack } from './helpers/stack.js';

// ajv-formats is CommonJS with a default export that Node's ESM interop wraps once more.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => void;

const root = new URL('..', import.meta.url).pathname;
const DOC_ID = 'urn:test:openapi';

let stack: Stack;
let doc: any;
let ajv: Ajv2020;

before(async () => {
  stack = await startStack({ azurite: true, simulator: true });
  const res = await fetch(`${stack.url}/v1/openapi.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  doc = await res.json();
  // Strict: a keyword ajv does not know inside a schema fails compilation. The document's own top-level keys are
  // declared as a vocabulary so the document itself can be the schema `$ref`s point into.
  ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  ajv.addVocabulary(['openapi', 'info', 'servers', 'tags', 'paths', 'components', 'jsonSchemaDialect']);
  ajv.addSchema({ ...doc, $id: DOC_ID });
});
after(async () => stack?.stop());

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const compiled = new Map<string, ValidateFunction>();
function validator(...parts: string[]): ValidateFunction {
  const ref = `${DOC_ID}#/${pointer(...parts)}`;
  let fn = compiled.get(ref);
  if (!fn) compiled.set(ref, (fn = ajv.compile({ $ref: ref })));
  return fn;
}
const requestValidator = (path: string, method = 'post') =>
  validator('paths', path, method, 'requestBody', 'content', 'application/json', 'schema');
const responseValidator = (path: string, method: string, status: string) =>
  validator('paths', path, method, 'responses', status, 'content', 'application/json', 'schema');
const errorValidator = () => validator('components', 'schemas', 'Error');
const hasOperation = (path: string, method: string) => Boolean(doc.paths[path]?.[method]);

function allRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => allRefs(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else allRefs(v, out);
    }
  }
  return out;
}

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document with the 2020-12 dialect', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.jsonSchemaDialect, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.deepEqual(
      doc.servers.map((s: any) => s.url),
      ['/api'],
    );
  });

  it('describes every route and method of the live function list, and nothing else', () => {
    const expected = new Set<string>();
    for (const fn of functions) {
      const { path, params } = parseRoute(fn.route);
      for (const method of fn.methods.filter((m) => m !== 'OPTIONS')) {
        const key = `${method.toLowerCase()} ${path}`;
        expected.add(key);
        const op = doc.paths[path]?.[method.toLowerCase()];
        assert.ok(op, `${key} (function ${fn.name}) missing from the document`);
        assert.equal(op.summary, fn.docs.summary);
        assert.deepEqual(op.tags, fn.docs.tags);
        for (const name of params) {
          assert.ok(
            op.parameters?.some((p: any) => p.in === 'path' && p.name === name && p.required === true),
            `${key}: path parameter ${name}`,
          );
        }
        if (fn.docs.body) assert.ok(op.requestBody?.content?.['application/json']?.schema, `${key}: request body`);
        if (fn.docs.streams)
          assert.ok(op.responses['200']?.content?.['text/event-stream'], `${key}: text/event-stream answer`);
        for (const status of ['4XX', '5XX']) assert.ok(op.responses[status], `${key}: ${status} error response`);
      }
    }
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item as object).map((m) => `${m} ${path}`),
    );
    assert.deepEqual(new Set(documented), expected);
    // The routes this issue adds are in the list too.
    assert.ok(
      expected.has('get /v1/openapi.json') && expected.has('get /playground') && expected.has('get /playground/{file}'),
    );
  });

  it('has unique operation ids, resolvable $refs, and schemas that compile under draft 2020-12 in strict mode', () => {
    const ids = Object.values(doc.paths).flatMap((item) =>
      Object.values(item as object).map((op: any) => op.operationId),
    );
    assert.equal(new Set(ids).size, ids.length, `duplicate operationId in ${ids.join(', ')}`);
    for (const ref of allRefs(doc)) {
      assert.match(ref, /^#\/components\/(schemas|responses)\/[^/]+$/, ref);
      const [, , kind, name] = ref.split('/');
      assert.ok(doc.components[kind!][name!], `dangling ${ref}`);
    }
    for (const name of Object.keys(doc.components.schemas)) validator('components', 'schemas', name);
  });

  it('tokenize: sample bodies the document accepts, the server accepts; ones it rejects, the server answers 400', async () => {
    const valid = [
      { text: 'tiktoken is great!', encoding: 'cl100k_base' },
      { text: 'hello world', model: 'gpt-4o-mini' },
      { text: '<|endoftext|>', allowed_special: 'all' },
      { text: 'tiktoken is great!', count_only: true },
      {
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: 'Knock knock.' },
        ],
        model: 'gpt-35-turbo',
      },
    ];
    const invalid = [
      {},
      { text: 42 },
      { text: 'x', encoding: 'no_such_encoding' },
      { messages: [] },
      { messages: [{ role: 'wizard', content: 'hi' }] },
    ];
    const check = requestValidator('/v1/tokenize');
    for (const body of valid) {
      assert.ok(check(body), `document rejects ${JSON.stringify(body)}: ${ajv.errorsText(check.errors)}`);
      const res = await postJson(`${stack.url}/v1/tokenize`, body);
      assert.equal(res.status, 200, JSON.stringify(body));
      const answer = responseValidator('/v1/tokenize', 'post', '200');
      assert.ok(answer(res.json), `answer does not match the documented schema: ${ajv.errorsText(answer.errors)}`);
    }
    for (const body of invalid) {
      assert.equal(check(body), false, `document accepts ${JSON.stringify(body)}`);
      const res = await postJson(`${stack.url}/v1/tokenize`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(errorValidator()(res.json), `error body does not match the Error schema: ${res.text}`);
    }
  });

  it('chat, completions, embeddings and conversations: the document and the server agree on every sample body', async () => {
    assert.ok(
      hasOperation('/v1/chat/completions', 'post') && hasOperation('/v1/completions', 'post'),
      'the model routes are in the document',
    );
    const user = { 'x-ms-client-principal-id': `openapi-${Date.now()}` };
    const created = await postJson(
      `${stack.url}/v1/conversations`,
      { title: 'openapi test', system: 'You are terse.' },
      user,
    );
    assert.equal(created.status, 201, created.text);
    assert.ok(
      responseValidator('/v1/conversations', 'post', '201')(created.json),
      'conversation answer matches its schema',
    );
    const conversationId = String((created.json as { id: string }).id);
    const knock = [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Knock knock.' },
    ];
    const cases: { path: string; url: string; valid: unknown[]; invalid: unknown[] }[] = [
      {
        path: '/v1/chat/completions',
        url: '/v1/chat/completions',
        valid: [
          { messages: knock },
          {
            model: 'gpt-4o-mini',
            messages: [{ role: 'user', content: 'Count to 10. E.g. 1, 2, 3, 4, ...' }],
            temperature: 0,
            max_tokens: 50,
          },
          { messages: knock, stop: 'Who', n: 2, top_p: 0.5, presence_penalty: -2, frequency_penalty: 2 },
          { messages: knock, stop: ['a', 'b', 'c', 'd'], user: 'someone', seed: 7 },
          { messages: [{ role: 'user', content: [{ type: 'text', text: 'Knock knock.' }] }] },
        ],
        invalid: [
          {},
          { messages: [] },
          { messages: knock, temperature: 2.5 },
          { messages: knock, top_p: 1.5 },
          { messages: knock, presence_penalty: -3 },
          { messages: knock, stop: ['a', 'b', 'c', 'd', 'e'] },
          { messages: knock, n: 0 },
          { messages: [{ role: 'wizard', content: 'hi' }] },
          { messages: knock, max_tokens: 'many' },
        ],
      },
      {
        path: '/v1/completions',
        url: '/v1/completions',
        valid: [
          { prompt: '1, 2, 3, 4, ', max_tokens: 50, temperature: 0 },
          { prompt: '1, 2, 3, 4, ', temperature: 0, stop: ['11'] },
          { model: 'gpt-35-turbo-instruct', prompt: 'Hello', stop: '\n', top_p: 0.9, n: 2 },
          ...promptPresets.map((p) => p.body),
        ],
        invalid: [
          {},
          { prompt: 'x', temperature: 3 },
          { prompt: 'x', stop: ['a', 'b', 'c', 'd', 'e'] },
          { prompt: 'x', frequency_penalty: 2.5 },
          { prompt: 'x', n: 129 },
        ],
      },
      {
        path: '/v1/embeddings',
        url: '/v1/embeddings',
        valid: [
          { input: 'The food was delicious.' },
          { input: ['a', 'b'], dimensions: 256 },
          { input: [1, 2, 3] },
          { input: [[1, 2], [3]] },
          { input: 'x', encoding_format: 'base64' },
        ],
        invalid: [
          {},
          { input: 'x', encoding_format: 'hex' },
          { input: Array.from({ length: 2049 }, () => 'x') },
          { input: 42 },
        ],
      },
      {
        path: '/v1/conversations',
        url: '/v1/conversations',
        valid: [{}, { title: 'x' }, { system: 'Be brief.', model: 'gpt-4o-mini', title: 'y' }],
        invalid: [{ title: 42 }, { system: ['not', 'a', 'string'] }],
      },
      {
        path: '/v1/conversations/{id}/messages',
        url: `/v1/conversations/${conversationId}/messages`,
        valid: [{ content: 'Knock knock.' }, { content: 'Orange.', max_tokens: 20, temperature: 0 }],
        invalid: [{}, { content: 42 }, { content: 'x', temperature: 9 }],
      },
    ];
    for (const { path, url, valid, invalid } of cases) {
      const check = requestValidator(path);
      for (const body of valid) {
        assert.ok(
          check(body),
          `document rejects POST ${path} ${JSON.stringify(body).slice(0, 200)}: ${ajv.errorsText(check.errors)}`,
        );
        const res = await postJson(`${stack.url}${url}`, body, user);
        assert.ok(
          res.status >= 200 && res.status < 300,
          `server rejects POST ${path} ${JSON.stringify(body).slice(0, 200)}: ${res.status} ${res.text.slice(0, 300)}`,
        );
        const documented = doc.paths[path].post.responses[String(res.status)];
        assert.ok(documented, `POST ${path} answered ${res.status}, which the document does not list`);
        const answer = responseValidator(path, 'post', String(res.status));
        assert.ok(
          answer(res.json),
          `POST ${path} answer does not match its schema: ${ajv.errorsText(answer.errors)}\n${res.text.slice(0, 500)}`,
        );
      }
      for (const body of invalid) {
        assert.equal(check(body), false, `document accepts POST ${path} ${JSON.stringify(body).slice(0, 200)}`);
        const res = await postJson(`${stack.url}${url}`, body, user);
        assert.equal(
          res.status,
          400,
          `POST ${path} ${JSON.stringify(body).slice(0, 200)} → ${res.status} ${res.text.slice(0, 200)}`,
        );
        assert.ok(errorValidator()(res.json), res.text);
      }
    }
    // The list and read routes answer what the document says.
    for (const path of [
      '/v1/conversations',
      `/v1/conversations/${conversationId}`,
      `/v1/conversations/${conversationId}/messages`,
    ]) {
      const res = await fetch(`${stack.url}${path}`, { headers: user });
      assert.equal(res.status, 200, path);
      const template = path.replace(conversationId, '{id}');
      const answer = responseValidator(template, 'get', '200');
      assert.ok(answer(await res.json()), `GET ${template}: ${ajv.errorsText(answer.errors)}`);
    }
  });

  it('detokenize and health: answers match their documented schemas', async () => {
    const check = requestValidator('/v1/detokenize');
    assert.ok(check({ tokens: [83, 1609, 5963, 374, 2294, 0] }));
    assert.equal(check({ tokens: [-1] }), false);
    assert.equal(check({ tokens: 'abc' }), false);
    const res = await postJson(`${stack.url}/v1/detokenize`, { tokens: [83, 1609, 5963, 374, 2294, 0] });
    assert.ok(responseValidator('/v1/detokenize', 'post', '200')(res.json));
    assert.equal((await postJson(`${stack.url}/v1/detokenize`, { tokens: [-1] })).status, 400);
    const health = await (await fetch(`${stack.url}/v1/health`)).json();
    const answer = responseValidator('/v1/health', 'get', '200');
    assert.ok(answer(health), ajv.errorsText(answer.errors));
  });

  it("describes the server's own errors: unknown routes and wrong methods answer the Error schema", async () => {
    const missing = await fetch(`${stack.url}/v1/no-such-route`);
    assert.equal(missing.status, 404);
    const body = await missing.json();
    assert.ok(isErrorShape(body) && errorValidator()(body));
    const wrong = await postJson(`${stack.url}/v1/openapi.json`, {});
    assert.equal(wrong.status, 405);
    assert.ok(errorValidator()(wrong.json));
    assert.equal(
      errorValidator()({ error: { message: 'x', type: 'invalid_request_error', param: null } }),
      false,
      'code is required',
    );
  });

  it('validates the playground presets and the curl bodies of docs/examples.md against the completions request schema', () => {
    const check = requestValidator('/v1/completions');
    for (const preset of promptPresets)
      assert.ok(check({ ...preset.body, stream: true }), `${preset.id}: ${ajv.errorsText(check.errors)}`);
    const examples = readFileSync(`${root}docs/examples.md`, 'utf8');
    const curlBodies = [
      ...examples.matchAll(/curl[^\n]*\/v1\/(completions|chat\/completions)[\s\S]*?-d @- <<'JSON'\n([\s\S]*?)\nJSON/g),
    ];
    assert.ok(curlBodies.length >= promptPresets.length, 'docs/examples.md has a curl body per pattern');
    for (const [, route, body] of curlBodies) {
      const v = requestValidator(`/v1/${route}`);
      assert.ok(v(JSON.parse(body!)), `docs/examples.md ${route} body: ${ajv.errorsText(v.errors)}`);
    }
    assert.equal(check({ prompt: 'x', temperature: 3 }), false, 'temperature above 2');
    assert.equal(check({ prompt: 'x', stop: ['a', 'b', 'c', 'd', 'e'] }), false, 'more than 4 stop sequences');
  });

  it('generates path and query parameters, 204s, streams and shared or recursive schemas the way routes will use them', () => {
    const message = z
      .object({ role: z.enum(['user', 'assistant']), content: z.string() })
      .check(z.meta({ id: 'ExampleMessage' }));
    type Node = { name: string; children: Node[] };
    const node: z.ZodMiniType<Node> = z.lazy(() => z.object({ name: z.string(), children: z.array(node) }));
    const noop = async () => ({ status: 204 });
    const sample = buildOpenApiDocument(
      [
        defineFunction({
          name: 'things-list',
          route: 'v1/things/{id:guid}/items',
          methods: ['GET', 'POST'],
          query: z.object({
            limit: z
              .optional(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)))
              .register(z.globalRegistry, { description: 'Page size.' }),
            order: z.enum(['asc', 'desc']),
          }),
          body: z.object({
            messages: z.array(message).check(z.minLength(1)),
            tree: z.optional(node),
            stream: z._default(z.boolean(), false),
          }),
          docs: {
            summary: 'items',
            tags: ['t'],
            responses: { 200: z.object({ data: z.array(message) }), 201: z.object({ id: z.string() }) },
            streams: true,
          },
          handle: noop,
        }),
        defineFunction({
          name: 'thing-delete',
          route: 'v1/things/{id}',
          methods: ['DELETE'],
          docs: { summary: 'gone', tags: ['t'], responses: { 204: 'Deleted.' } },
          handle: noop,
        }),
      ],
      { basePath: '/x' },
    ) as any;
    assert.deepEqual(sample.servers, [{ url: '/x', description: 'This deployment' }]);
    const get = sample.paths['/v1/things/{id}/items'].get;
    const post = sample.paths['/v1/things/{id}/items'].post;
    assert.equal(get.operationId, 'things-list-get');
    assert.equal(post.operationId, 'things-list-post');
    assert.deepEqual(
      get.parameters.map((p: any) => [p.in, p.name, p.required]),
      [
        ['path', 'id', true],
        ['query', 'limit', false],
        ['query', 'order', true],
      ],
    );
    assert.equal(get.parameters[1].description, 'Page size.');
    assert.equal(get.requestBody, undefined, 'no body on GET');
    assert.ok(post.requestBody.required);
    assert.ok(post.responses['200'].content['text/event-stream']);
    assert.ok(post.responses['201'].content['application/json']);
    assert.ok(post.responses['404'] && post.responses['413'] && post.responses['400']);
    assert.deepEqual(sample.paths['/v1/things/{id}'].delete.responses['204'], { description: 'Deleted.' });
    // A schema with an id becomes one shared component; a recursive one refers to itself by component name.
    assert.ok(sample.components.schemas.ExampleMessage);
    assert.ok(!JSON.stringify(sample).includes('$defs'), 'every $defs is hoisted into components');
    const local = new Ajv2020({ strict: true });
    addFormats(local);
    local.addVocabulary(['openapi', 'info', 'servers', 'tags', 'paths', 'components', 'jsonSchemaDialect']);
    local.addSchema({ ...sample, $id: 'urn:test:sample' });
    const body = local.compile({
      $ref: 'urn:test:sample#/paths/~1v1~1things~1{id}~1items/post/requestBody/content/application~1json/schema',
    });
    assert.ok(
      body({
        messages: [{ role: 'user', content: 'hi' }],
        tree: { name: 'a', children: [{ name: 'b', children: [] }] },
      }),
      local.errorsText(body.errors),
    );
    assert.equal(
      body({ messages: [{ role: 'user', content: 'hi' }], tree: { name: 'a', children: [{ name: 3, children: [] }] } }),
      false,
    );
    assert.equal(body({ messages: [] }), false);
    assert.equal(body({ messages: [{ role: 'robot', content: 'hi' }] }), false);
    assert.deepEqual(routesWithoutResponseSchema([]), []);
  });

  it('lists the routes that document no response body schema', (t) => {
    const missing = routesWithoutResponseSchema(functions).filter((r) => !r.includes('playground'));
    t.diagnostic(
      missing.length
        ? `routes without a response schema: ${missing.join('; ')}`
        : 'every JSON route documents its response',
    );
    assert.deepEqual(missing, []);
  });
});
