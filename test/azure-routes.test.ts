/**
 * Azure OpenAI's own paths (issue 23): code written for Azure OpenAI runs against this service by changing only its
 * endpoint. Real clients do the talking — the `openai` package's AzureOpenAI and OpenAI, LangChain's
 * AzureChatOpenAI — against the app in the local host, with the simulator as upstream and Azurite for quotas.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AzureChatOpenAI } from '@langchain/openai';
import { AzureOpenAI, OpenAI } from 'openai';
import {
  isErrorShape,
  postJson,
  SIMULATOR_TEST_KEY,
  simRequests,
  simReset,
  startStack,
  type Stack,
} from './helpers/stack.js';

/** Looks like an Azure OpenAI key (32 hex digits) so a leak would be a real one; it must never pass this service. */
const CALLER_KEY = '7c1e4b9a2f5d48e3a0b6c9d2e1f4a7b3';
const CALLER_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.caller-bearer-token-4d2a91.sig';
const ORIGIN = 'https://frontend.example';
/** The upstream is spoken to with this version whatever the caller names (the caller's is only validated). */
const UPSTREAM_VERSION = '2024-06-01';

let stack: Stack;
let azure: AzureOpenAI;

before(async () => {
  stack = await startStack({
    simulator: true,
    env: { CORS_ALLOWED_ORIGINS: ORIGIN, AZURE_OPENAI_API_VERSION: UPSTREAM_VERSION },
  });
  // The client setup: endpoint = this service's /api, any key, the GA api-version, a deployment.
  azure = new AzureOpenAI({
    endpoint: stack.url,
    apiKey: 'any-key',
    apiVersion: '2024-10-21',
    deployment: 'gpt-4o-mini',
    maxRetries: 0,
  });
});
after(async () => stack?.stop());

const knock = [
  { role: 'system' as const, content: 'You are a helpful assistant.' },
  { role: 'user' as const, content: 'Knock knock.' },
];

describe('AzureOpenAI client against /api/openai/deployments/{deployment}/…', () => {
  it('chat: the answer keeps Azure fields (prompt_filter_results, content_filter_results)', async () => {
    const completion = await azure.chat.completions.create({ model: 'ignored-by-azure', messages: knock });
    assert.equal(completion.object, 'chat.completion');
    assert.ok(completion.choices[0]!.message.content, 'an answer');
    const raw = completion as unknown as {
      prompt_filter_results?: unknown[];
      choices: { content_filter_results?: unknown }[];
    };
    assert.ok(Array.isArray(raw.prompt_filter_results) && raw.prompt_filter_results.length === 1);
    assert.ok(raw.choices[0]!.content_filter_results);
    const sent = (await simRequests(stack)).at(-1)!;
    assert.equal(sent.path, '/openai/deployments/gpt-4o-mini/chat/completions');
    assert.equal(sent.query['api-version'], UPSTREAM_VERSION);
  });

  it("chat stream with usage: Azure's empty first chunk is kept, text and usage arrive", async () => {
    const stream = await azure.chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'Count to 10. E.g. 1, 2, 3, 4, ...' }],
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: any[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    // Azure sends a first chunk with no choices and the prompt's filter results (as the simulator does).
    assert.deepEqual(chunks[0].choices, []);
    assert.ok(Array.isArray(chunks[0].prompt_filter_results));
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.ok(text.length > 0);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.ok(
      last.usage.completion_tokens > 0 &&
        last.usage.total_tokens === last.usage.prompt_tokens + last.usage.completion_tokens,
    );
    assert.equal(chunks.filter((c) => c.usage).length, 1, 'one usage chunk');

    // The OpenAI-style route keeps its normalisation: no empty-choices chunk but the usage one.
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const plain: any[] = [];
    const s2 = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count to 10. E.g. 1, 2, 3, 4, ...' }],
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of s2) plain.push(chunk);
    assert.deepEqual(
      plain.filter((c) => c.choices.length === 0).map((c) => Boolean(c.usage)),
      [true],
    );
    assert.ok(!plain.some((c) => 'prompt_filter_results' in c));
    assert.equal(plain.map((c) => c.choices[0]?.delta?.content ?? '').join(''), text, 'same answer on both routes');
  });

  it('completions with stop: the seed tutorial\'s "1, 2, 3, 4, " stops before 11', async () => {
    const client = new AzureOpenAI({
      endpoint: stack.url,
      apiKey: 'x',
      apiVersion: '2024-10-21',
      deployment: 'gpt-35-turbo-instruct',
      maxRetries: 0,
    });
    const completion = await client.completions.create({
      model: 'gpt-35-turbo-instruct',
      prompt: '1, 2, 3, 4, ',
      temperature: 0,
      stop: ['11'],
    });
    assert.equal(completion.choices[0]!.text, '5, 6, 7, 8, 9, 10, ');
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
    assert.ok((completion as any).prompt_filter_results);

    const stream = await client.completions.create({
      model: '',
      prompt: '1, 2, 3, 4, ',
      temperature: 0,
      stop: ['11'],
      stream: true,
    });
    const chunks: any[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks[0].prompt_filter_results, 'the first streamed chunk keeps the prompt filter results');
    assert.equal(chunks.map((c) => c.choices[0]?.text ?? '').join(''), '5, 6, 7, 8, 9, 10, ');
  });

  it('embeddings', async () => {
    const client = new AzureOpenAI({
      endpoint: stack.url,
      apiKey: 'x',
      apiVersion: '2024-10-21',
      deployment: 'text-embedding-3-small',
      maxRetries: 0,
    });
    const result = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['The food was delicious.', 'So was the wine.'],
    });
    assert.equal(result.data.length, 2);
    assert.equal(result.data[0]!.embedding.length, 1536);
    assert.ok(result.usage.prompt_tokens > 0);
  });

  it("the seed tutorial's old-SDK call (engine=, 2023-03-15-preview, api-key header) works as sent", async () => {
    const res = await postJson(
      `${stack.url}/openai/deployments/gpt-35-turbo-instruct/completions?api-version=2023-03-15-preview`,
      { prompt: '1, 2, 3, 4, ', max_tokens: 50, temperature: 0 },
      { 'api-key': 'REPLACE_WITH_YOUR_API_KEY_HERE' },
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.choices[0].finish_reason, 'length');
    assert.match(res.json.choices[0].text, /^5, 6, 7, 8, 9, 10, 11, /);
  });

  it("errors have Azure's codes: api-version missing or unknown, unknown deployment, wrong capability", async () => {
    const url = (deployment: string, query: string) =>
      `${stack.url}/openai/deployments/${deployment}/chat/completions${query}`;
    const body = { messages: knock };
    // Azure: a missing api-version is 404 "Resource not found", an unknown one 400 "BadRequest".
    const missing = await postJson(url('gpt-4o-mini', ''), body);
    assert.equal(missing.status, 404);
    assert.ok(isErrorShape(missing.json));
    assert.equal(missing.json.error.code, '404');
    const unknown = await postJson(url('gpt-4o-mini', '?api-version=1999-01-01'), body);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.error.code, 'BadRequest');
    assert.match(unknown.json.error.message, /2024-10-21/);

    // Through the client: DeploymentNotFound is a NotFoundError carrying Azure's code.
    const nowhere = new AzureOpenAI({
      endpoint: stack.url,
      apiKey: 'x',
      apiVersion: '2024-10-21',
      deployment: 'no-such-deployment',
      maxRetries: 0,
    });
    await assert.rejects(nowhere.chat.completions.create({ model: '', messages: knock }), (error: any) => {
      assert.equal(error.status, 404);
      assert.equal(error.code, 'DeploymentNotFound');
      return true;
    });
    const wrong = await postJson(url('text-embedding-3-small', '?api-version=2024-10-21'), body);
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.error.code, 'OperationNotSupported');
    // A field of Azure's request this service does not serve is named, not silently dropped.
    const onYourData = await postJson(url('gpt-4o-mini', '?api-version=2024-10-21'), {
      messages: knock,
      data_sources: [{ type: 'azure_search' }],
    });
    assert.equal(onYourData.status, 400);
    assert.equal(onYourData.json.error.param, 'data_sources');
    const bad = await postJson(url('gpt-4o-mini', '?api-version=2024-10-21'), { messages: knock, temperature: 3 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'temperature');
  });

  it('CORS as on the other routes: a preflight asking for api-key is allowed for a configured origin', async () => {
    const res = await fetch(`${stack.url}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'api-key, content-type',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /api-key/);
    const other = await fetch(`${stack.url}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`, {
      method: 'OPTIONS',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});

describe('OpenAPI', () => {
  it('lists the Azure-shaped routes under their own tag, api-version a required query parameter', async () => {
    const doc = await (await fetch(`${stack.url}/v1/openapi.json`)).json();
    assert.ok(doc.tags.some((t: { name: string }) => t.name === 'azure-openai'));
    for (const path of ['chat/completions', 'completions', 'embeddings']) {
      const op = doc.paths[`/openai/deployments/{deployment}/${path}`].post;
      assert.deepEqual(op.tags, ['azure-openai']);
      const version = op.parameters.find((p: { name: string }) => p.name === 'api-version');
      assert.equal(version.in, 'query');
      assert.equal(version.required, true);
      assert.ok(version.schema.enum.includes('2024-10-21') && version.schema.enum.includes('2023-03-15-preview'));
      assert.deepEqual(doc.paths[`/openai/v1/${path}`].post.tags, ['azure-openai']);
    }
  });
});

describe("the caller's api-key and Authorization never leave the service", () => {
  it("the upstream sees only the configured key; no log holds the caller's", async () => {
    await simReset(stack);
    const client = new AzureOpenAI({
      endpoint: stack.url,
      apiKey: CALLER_KEY,
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini',
      maxRetries: 0,
    });
    await client.chat.completions.create({ model: '', messages: knock });
    const streamed = await client.chat.completions.create({ model: '', messages: knock, stream: true });
    for await (const _ of streamed);
    const bearer = await postJson(
      `${stack.url}/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21`,
      { input: 'hello' },
      { authorization: `Bearer ${CALLER_TOKEN}`, 'api-key': CALLER_KEY },
    );
    assert.equal(bearer.status, 200, bearer.text);
    // An error path too: the caller's key on a request the service refuses.
    assert.equal(
      (
        await postJson(
          `${stack.url}/openai/deployments/nope/completions?api-version=2024-10-21`,
          { prompt: 'x' },
          { 'api-key': CALLER_KEY },
        )
      ).status,
      404,
    );

    const seen = await simRequests(stack);
    assert.equal(seen.length, 3, 'three calls reached the upstream');
    for (const entry of seen) {
      assert.equal(entry.auth, 'api-key');
      assert.equal(entry.apiKey, SIMULATOR_TEST_KEY, 'the service authenticates upstream with its own key');
      assert.equal(entry.bearerToken, undefined);
    }
    const upstreamLog = JSON.stringify(seen);
    assert.ok(
      !upstreamLog.includes(CALLER_KEY) && !upstreamLog.includes(CALLER_TOKEN),
      "the caller's credentials never reach the upstream",
    );

    // The host logs each request when it is answered; one last request marks where this test's lines end.
    await fetch(`${stack.url}/v1/health?mark=azure-leak-check`);
    let appLog = '';
    for (let polls = 0; !/GET \/api\/v1\/health/.test(appLog); polls++) {
      assert.ok(polls < 400, 'the app logged the marker request');
      await new Promise((resolve) => setTimeout(resolve, 50));
      appLog = readFileSync(stack.app.logFile, 'utf8');
    }
    assert.match(
      appLog,
      /\/api\/openai\/deployments\/gpt-4o-mini\/chat\/completions/,
      'the Azure requests were logged',
    );
    assert.ok(
      !appLog.includes(CALLER_KEY) && !appLog.includes(CALLER_TOKEN),
      "the caller's credentials never appear in the app log",
    );
  });
});

describe("LangChain's AzureChatOpenAI with the same endpoint", () => {
  it('invokes and streams', async () => {
    // @langchain/openai builds `${azureOpenAIEndpoint}/openai/deployments/${deployment}` (src/utils/azure.ts).
    const model = new AzureChatOpenAI({
      azureOpenAIEndpoint: stack.url,
      azureOpenAIApiKey: 'any-key',
      azureOpenAIApiDeploymentName: 'gpt-4o-mini',
      azureOpenAIApiVersion: '2024-10-21',
      temperature: 0,
      maxRetries: 0,
    });
    const answer = await model.invoke([
      ['system', 'You are a helpful assistant.'],
      ['human', 'Knock knock.'],
    ]);
    assert.equal(typeof answer.content, 'string');
    assert.ok((answer.content as string).length > 0);
    let streamed = '';
    for await (const chunk of await model.stream('Count to 10. E.g. 1, 2, 3, 4, ...'))
      streamed += chunk.content as string;
    assert.ok(streamed.length > 0);
    const direct = await azure.chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'Count to 10. E.g. 1, 2, 3, 4, ...' }],
      temperature: 0,
    });
    assert.equal(streamed, direct.choices[0]!.message.content);
  });
});

describe("/api/openai/v1/… aliases of this service's routes", () => {
  it('chat, completions and embeddings answer as /v1 does', async () => {
    // Azure's v1 API is used with the plain OpenAI client and `model` = deployment name.
    const client = new OpenAI({ baseURL: `${stack.url}/openai/v1`, apiKey: CALLER_KEY, maxRetries: 0 });
    const chat = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: knock });
    assert.ok(chat.choices[0]!.message.content);
    const completion = await client.completions.create({
      model: 'gpt-35-turbo-instruct',
      prompt: '1, 2, 3, 4, ',
      temperature: 0,
      stop: ['11'],
    });
    assert.equal(completion.choices[0]!.text, '5, 6, 7, 8, 9, 10, ');
    const embeddings = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    assert.equal(embeddings.data[0]!.embedding.length, 1536);
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages: knock }),
      (error: any) => error.status === 404,
    );
  });

  it('models and responses answer as /v1 does', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/openai/v1`, apiKey: CALLER_KEY, maxRetries: 0 });
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.ok(ids.includes('gpt-4o-mini') && ids.includes('text-embedding-3-small'), ids.join());
    assert.equal((await client.models.retrieve('gpt-4o-mini')).id, 'gpt-4o-mini');
    const response = await client.responses.create({ model: 'gpt-4o-mini', input: 'Knock knock.', store: false });
    assert.equal(response.object, 'response');
    assert.equal(response.output_text, "Who's there?");
  });
});

describe('quotas apply on the Azure routes', () => {
  let quota: Stack;
  before(async () => {
    quota = await startStack({
      azurite: true,
      simulator: true,
      env: { QUOTA_TOKENS_PER_DAY: '2000' },
      name: 'azure-routes-quota',
    });
  });
  after(async () => quota?.stop());

  it("a call is charged to the platform's principal, and one past the budget is 429", async () => {
    const user = { 'x-ms-client-principal-id': 'azure-quota-user' };
    const client = new AzureOpenAI({
      endpoint: quota.url,
      apiKey: CALLER_KEY,
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini',
      maxRetries: 0,
      defaultHeaders: user,
    });
    const completion = await client.chat.completions.create({ model: '', messages: knock, max_tokens: 50 });
    // With quotas on, the answer is read to settle usage; Azure's fields still come through.
    assert.ok((completion as any).prompt_filter_results);
    const usage = await (await fetch(`${quota.url}/v1/usage`, { headers: user })).json();
    assert.equal(usage.user, 'azure-quota-user');
    assert.equal(usage.day.used, completion.usage!.total_tokens);
    await assert.rejects(
      client.chat.completions.create({ model: '', messages: knock, max_tokens: 5000 }),
      (error: any) => {
        assert.equal(error.status, 429);
        assert.ok(error.headers.get('retry-after'));
        return true;
      },
    );
    const untouched = await (
      await fetch(`${quota.url}/v1/usage`, { headers: { 'x-ms-client-principal-id': 'someone-else' } })
    ).json();
    assert.equal(untouched.day.used, 0, 'another principal is not charged');
  });
});
