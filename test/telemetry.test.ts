/**
 * Per-request telemetry as an operator sees it: the app runs in the local host with LOG_FORMAT=json, and the
 * records are read back from its log file (what the Functions logger sends to Application Insights in Azure).
 * Metrics: the same records fed to the OpenTelemetry instruments with an in-memory exporter.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { bindMeter, expectMeter, METRIC, recordMetrics, unbindMeter } from '../src/telemetry/metrics.js';
import { callerHash } from '../src/telemetry/caller.js';
import type { RequestFields } from '../src/telemetry/record.js';
import { postJson, simFault, SIMULATOR_TEST_KEY, startStack, type Stack } from './helpers/stack.js';

const SALT = 'telemetry-test-salt';
const LIMIT_PER_MINUTE = 50_000;

const RECORD_START = '{"event":"request"';

/** Every JSON request record the app wrote so far (the local host prefixes each log line with its function). */
function records(stack: Stack): RequestFields[] {
  return readFileSync(stack.app.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes(RECORD_START))
    .map((line) => JSON.parse(line.slice(line.indexOf(RECORD_START))) as RequestFields);
}

/** The record of one request (a stream's is written when it ends, so wait for it, bounded by the test timeout). */
async function recordOf(stack: Stack, requestId: string): Promise<RequestFields> {
  for (;;) {
    const found = records(stack).filter((r) => r.request_id === requestId);
    if (found.length > 1) assert.fail(`${found.length} records for ${requestId}`);
    if (found[0]) return found[0];
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const user = (id: string) => ({ 'x-ms-client-principal-id': id, 'x-ms-client-principal-name': `${id}@example.com` });

describe('telemetry records (LOG_FORMAT=json)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      azurite: true,
      simulator: { tokenDelayMs: 5 },
      name: 'telemetry-records',
      env: {
        LOG_FORMAT: 'json',
        TELEMETRY_CALLER_SALT: SALT,
        QUOTA_TOKENS_PER_MINUTE: String(LIMIT_PER_MINUTE),
        UPSTREAM_MAX_RETRIES: '2',
      },
    });
  });
  after(() => stack?.stop());

  it('a chat: one record with route, caller hash, deployment, backend, tokens, timings and quota', async () => {
    const res = await postJson(
      `${stack.url}/v1/chat/completions`,
      { messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 20 },
      { ...user('alice'), 'x-request-id': 'tel-chat-1' },
    );
    assert.equal(res.status, 200);
    const r = await recordOf(stack, 'tel-chat-1');
    assert.equal(r.function, 'chatCompletions');
    assert.equal(r.route, 'v1/chat/completions');
    assert.equal(r.method, 'POST');
    assert.equal(r.status, 200);
    assert.equal(r.caller, callerHash('alice', SALT));
    assert.notEqual(r.caller, 'alice');
    assert.equal(r.deployment, 'gpt-4o-mini');
    assert.ok(r.backend, 'the backend that answered');
    assert.match(r.apim_request_id ?? '', /\S/, "the upstream's apim-request-id");
    assert.equal(r.prompt_tokens, res.json.usage.prompt_tokens);
    assert.equal(r.completion_tokens, res.json.usage.completion_tokens);
    assert.equal(r.tokens_source, 'upstream');
    assert.equal(r.quota, 'granted');
    assert.equal(r.retries, 0);
    assert.equal(r.stream, undefined);
    assert.ok(r.upstream_ms! > 0 && r.ttfb_ms! > 0 && r.ttfb_ms! <= r.upstream_ms!);
    assert.ok(r.duration_ms >= r.upstream_ms!);
  });

  it('an invalid x-request-id is replaced by the invocation id', async () => {
    const before = records(stack).length;
    await postJson(`${stack.url}/v1/tokenize`, { text: 'abc' }, { 'x-request-id': 'has spaces and "quotes"' });
    let added: RequestFields[] = [];
    while (added.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      added = records(stack).slice(before);
    }
    assert.match(added[0]!.request_id, /^[0-9a-f-]{36}$/);
  });

  it('a streamed chat the client leaves: stream=client_left, tokens counted by the service', async () => {
    const controller = new AbortController();
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...user('bob'), 'x-request-id': 'tel-stream-left' },
      body: JSON.stringify({
        stream: true,
        messages: [{ role: 'user', content: 'Write a long essay about rivers.' }],
        max_tokens: 400,
      }),
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    const r = await recordOf(stack, 'tel-stream-left');
    assert.equal(r.status, 200);
    assert.equal(r.stream, 'client_left');
    assert.equal(r.tokens_source, 'service');
    assert.ok(r.prompt_tokens! > 0);
    assert.ok(r.completion_tokens! < 400, 'only what was delivered');
    assert.equal(r.caller, callerHash('bob', SALT));
  });

  it('a streamed chat read to the end: stream=done', async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'tel-stream-done' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10 }),
    });
    await res.text();
    const r = await recordOf(stack, 'tel-stream-done');
    assert.equal(r.stream, 'done');
    assert.equal(r.caller, 'anonymous');
    assert.ok(r.completion_tokens! > 0);
  });

  it('a stream the upstream cuts: stream=upstream_cut', async () => {
    await simFault(stack, { kind: 'cut', afterChunks: 2 });
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'tel-stream-cut' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 50 }),
    });
    await res.text().catch(() => '');
    const r = await recordOf(stack, 'tel-stream-cut');
    assert.equal(r.stream, 'upstream_cut');
    assert.equal(r.tokens_source, 'service');
  });

  it('a throttled call retried: retries and their causes, throttled count, final 200', async () => {
    await simFault(stack, { kind: '429', count: 2, retryAfterMs: 10 });
    const res = await postJson(
      `${stack.url}/v1/chat/completions`,
      { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10 },
      { 'x-request-id': 'tel-throttled' },
    );
    assert.equal(res.status, 200);
    const r = await recordOf(stack, 'tel-throttled');
    assert.equal(r.status, 200);
    assert.equal(r.retries, 2);
    assert.deepEqual(r.retry_causes, ['429', '429']);
    assert.equal(r.throttled, 2);
  });

  it('throttled past the retries: 429 with error_code rate_limit_exceeded', async () => {
    await simFault(stack, { kind: '429', count: 3, retryAfterMs: 10 });
    const res = await postJson(
      `${stack.url}/v1/chat/completions`,
      { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10 },
      { 'x-request-id': 'tel-throttled-out' },
    );
    assert.equal(res.status, 429);
    const r = await recordOf(stack, 'tel-throttled-out');
    assert.equal(r.status, 429);
    assert.equal(r.error_code, 'rate_limit_exceeded');
    assert.equal(r.retries, 2);
    assert.equal(r.throttled, 3);
  });

  it('a quota refusal: 429, quota=refused, no upstream call', async () => {
    const res = await postJson(
      `${stack.url}/v1/chat/completions`,
      { messages: [{ role: 'user', content: 'Hi' }], max_tokens: LIMIT_PER_MINUTE + 1 },
      { ...user('carol'), 'x-request-id': 'tel-quota' },
    );
    assert.equal(res.status, 429);
    const r = await recordOf(stack, 'tel-quota');
    assert.equal(r.quota, 'refused');
    assert.equal(r.error_code, 'quota_exceeded');
    assert.equal(r.deployment, 'gpt-4o-mini');
    assert.equal(r.upstream_ms, undefined);
    assert.equal(r.caller, callerHash('carol', SALT));
  });

  it('a conversation turn: the record of the turn, with the conversation route template and its tokens', async () => {
    const created = await postJson(
      `${stack.url}/v1/conversations`,
      { title: 't' },
      { ...user('dave'), 'x-request-id': 'tel-conv-create' },
    );
    assert.equal(created.status, 201);
    const turn = await postJson(
      `${stack.url}/v1/conversations/${created.json.id}/messages`,
      { content: 'Hello there', max_tokens: 20 },
      { ...user('dave'), 'x-request-id': 'tel-conv-turn' },
    );
    assert.equal(turn.status, 200);
    const r = await recordOf(stack, 'tel-conv-turn');
    assert.equal(r.function, 'postMessage');
    assert.equal(r.route, 'v1/conversations/{id}/messages');
    assert.equal(r.caller, callerHash('dave', SALT));
    assert.equal(r.deployment, 'gpt-4o-mini');
    assert.equal(r.prompt_tokens, turn.json.usage.prompt_tokens);
    assert.equal(r.completion_tokens, turn.json.usage.completion_tokens);
    assert.equal(r.quota, 'granted');
    const create = await recordOf(stack, 'tel-conv-create');
    assert.equal(create.status, 201);
    assert.equal(create.deployment, undefined);
  });

  describe('metrics from these records (in-memory OpenTelemetry exporter)', () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    after(async () => {
      unbindMeter();
      await provider.shutdown();
    });

    async function points(name: string) {
      await reader.forceFlush();
      const metrics =
        exporter
          .getMetrics()
          .at(-1)
          ?.scopeMetrics.flatMap((s) => s.metrics) ?? [];
      return metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? [];
    }

    it('tokens by deployment and caller, requests by status class, latency, throttles and retries', async () => {
      const all = records(stack);
      const byId = (id: string) => all.find((r) => r.request_id === id)!;
      // Records finished before the meter is bound wait for it (the lazy Azure Monitor start).
      unbindMeter();
      expectMeter();
      for (const r of all) recordMetrics(r);
      bindMeter(provider.getMeter('test'));

      const tokens = await points(METRIC.tokens);
      const alicePrompt = tokens.find(
        (p) => p.attributes.caller === callerHash('alice', SALT) && p.attributes.kind === 'prompt',
      );
      assert.equal(alicePrompt?.value, byId('tel-chat-1').prompt_tokens);
      assert.equal(alicePrompt?.attributes.deployment, 'gpt-4o-mini');
      assert.ok(!tokens.some((p) => Object.values(p.attributes).includes('alice')), 'no raw principal as a dimension');

      const requests = await points(METRIC.requests);
      const count = (cls: string) =>
        requests.filter((p) => p.attributes.status_class === cls).reduce((s, p) => s + (p.value as number), 0);
      assert.equal(count('2xx'), all.filter((r) => r.status < 300).length);
      assert.equal(count('4xx'), all.filter((r) => r.status >= 400 && r.status < 500).length);

      const throttles = await points(METRIC.throttles);
      const source = (s: string) =>
        throttles.filter((p) => p.attributes.source === s).reduce((sum, p) => sum + (p.value as number), 0);
      assert.equal(source('upstream'), 5);
      assert.equal(source('quota'), 1);

      const retries = await points(METRIC.retries);
      assert.equal(retries.find((p) => p.attributes.cause === '429')?.value, 4);

      const latency = await points(METRIC.upstreamDuration);
      const measured = latency
        .filter((p) => p.attributes.deployment === 'gpt-4o-mini')
        .reduce((sum, p) => sum + (p.value as { count: number }).count, 0);
      assert.equal(measured, all.filter((r) => r.upstream_ms !== undefined && r.deployment === 'gpt-4o-mini').length);
      assert.ok(
        latency.some((p) => p.attributes.status_class === '4xx'),
        'the throttled-out call is timed too',
      );
    });
  });
});

describe('telemetry: privacy across every route', () => {
  // Markers that must never reach a log: message content, prompts, titles, keys, bearer tokens, principals.
  const SECRET = {
    content: 'privacy-content-marker-4b7e',
    system: 'privacy-system-marker-91ac',
    title: 'privacy-title-marker-c2d0',
    principal: 'privacy-principal-marker-5f33',
    principalName: 'privacy-name-marker@example.com',
    clientKey: 'privacy-client-api-key-8d21',
    bearer: 'privacy-bearer-token-0e6f',
    embedding: 'privacy-embedding-marker-77aa',
  };
  let stack: Stack;
  let sent = 0;
  before(async () => {
    stack = await startStack({
      azurite: true,
      simulator: true,
      name: 'telemetry-privacy',
      env: { LOG_FORMAT: 'json', TELEMETRY_CALLER_SALT: SALT },
    });
  });
  after(() => stack?.stop());

  const headers = {
    'x-ms-client-principal-id': SECRET.principal,
    'x-ms-client-principal-name': SECRET.principalName,
    'api-key': SECRET.clientKey,
    authorization: `Bearer ${SECRET.bearer}`,
  };
  async function call(method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
    sent++;
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { ...headers, ...extra, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  }

  it('logs a record of every request and none of the content, keys, tokens or principals', async () => {
    const chat = {
      messages: [
        { role: 'system', content: SECRET.system },
        { role: 'user', content: SECRET.content },
      ],
      max_tokens: 10,
    };
    assert.equal((await call('POST', '/v1/chat/completions', chat)).status, 200);
    assert.equal((await call('POST', '/v1/chat/completions', { ...chat, stream: true })).status, 200);
    assert.equal((await call('POST', '/v1/completions', { prompt: SECRET.content, max_tokens: 5 })).status, 200);
    assert.equal(
      (await call('POST', '/v1/completions', { prompt: SECRET.content, max_tokens: 5, stream: true })).status,
      200,
    );
    assert.equal(
      (await call('POST', '/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21', chat)).status,
      200,
    );
    assert.equal((await call('POST', '/openai/v1/chat/completions', { ...chat, stream: true })).status, 200);
    assert.equal((await call('POST', '/v1/embeddings', { input: [SECRET.embedding, SECRET.content] })).status, 200);
    assert.equal((await call('POST', '/v1/tokenize', { text: SECRET.content })).status, 200);
    assert.equal((await call('POST', '/v1/tokenize', { messages: chat.messages })).status, 200);
    assert.equal((await call('POST', '/v1/detokenize', { tokens: [9906, 1917] })).status, 200);
    const created = await call('POST', '/v1/conversations', { title: SECRET.title, system: SECRET.system });
    assert.equal(created.status, 201);
    const id = JSON.parse(created.text).id as string;
    assert.equal(
      (await call('POST', `/v1/conversations/${id}/messages`, { content: SECRET.content, max_tokens: 10 })).status,
      200,
    );
    assert.equal(
      (
        await call('POST', `/v1/conversations/${id}/messages`, {
          content: SECRET.content,
          max_tokens: 10,
          stream: true,
        })
      ).status,
      200,
    );
    assert.equal((await call('GET', `/v1/conversations/${id}/messages`)).status, 200);
    assert.equal((await call('GET', '/v1/conversations')).status, 200);
    assert.equal((await call('GET', `/v1/conversations/${id}`)).status, 200);
    const response = await call('POST', '/v1/responses', {
      input: SECRET.content,
      instructions: SECRET.system,
      max_output_tokens: 16,
    });
    assert.equal(response.status, 200);
    const responseId = JSON.parse(response.text).id as string;
    const streamed = await call(
      'POST',
      '/v1/responses',
      { input: SECRET.content, stream: true, max_output_tokens: 16 },
      { 'x-request-id': 'privacy-responses-stream' },
    );
    assert.equal(streamed.status, 200);
    assert.equal((await call('GET', `/v1/responses/${responseId}`)).status, 200);
    assert.equal((await call('GET', `/v1/responses/${responseId}/input_items`)).status, 200);
    assert.equal((await call('DELETE', `/v1/responses/${responseId}`)).status, 200);
    assert.equal((await call('GET', '/v1/models')).status, 200);
    assert.equal((await call('GET', '/v1/usage')).status, 200);
    assert.equal((await call('GET', '/v1/health')).status, 200);
    // Failures: malformed JSON, a wrong field carrying content, unknown model, upstream errors, content filter.
    assert.equal((await call('POST', '/v1/chat/completions', `{"messages": "${SECRET.content}`)).status, 400);
    assert.equal(
      (await call('POST', '/v1/chat/completions', { messages: [{ role: SECRET.content, content: 'x' }] })).status,
      400,
    );
    assert.equal((await call('POST', '/v1/chat/completions', { ...chat, model: SECRET.content })).status, 404);
    await simFault(stack, { kind: '500', count: 5 });
    assert.equal((await call('POST', '/v1/chat/completions', chat)).status, 502);
    await simFault(stack, { kind: 'content_filter' });
    assert.ok((await call('POST', '/v1/chat/completions', chat)).status >= 400);
    await simFault(stack, { kind: 'cut', afterChunks: 1 });
    await call('POST', '/v1/chat/completions', { ...chat, stream: true }).catch(() => undefined);
    assert.equal((await call('DELETE', `/v1/conversations/${id}`)).status, 200);
    assert.equal((await call('GET', `/v1/conversations/${id}`)).status, 404);

    let logged: RequestFields[] = [];
    while (logged.length < sent) {
      logged = records(stack);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(logged.length, sent, 'one record per request');
    assert.ok(logged.every((r) => r.caller === callerHash(SECRET.principal, SALT)));
    // The Responses event stream ends through the pipeline's accounting, as chat streams do.
    assert.equal(logged.find((r) => r.request_id === 'privacy-responses-stream')?.stream, 'done');
    const log = readFileSync(stack.app.logFile, 'utf8');
    for (const [what, marker] of Object.entries({ ...SECRET, simulatorKey: SIMULATOR_TEST_KEY })) {
      assert.ok(!log.includes(marker), `the log contains the ${what}`);
    }
  });
});

describe('telemetry records with quotas off (the answer relayed as the upstream sent it)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      simulator: { tokenDelayMs: 0 },
      name: 'telemetry-relayed',
      env: { LOG_FORMAT: 'json' },
    });
  });
  after(() => stack?.stop());

  it("the tokens are the answer's own usage figures, read from its text without parsing it", async () => {
    for (const [i, max_tokens] of [3, 40].entries()) {
      const requestId = `tel-relayed-${i}`;
      const res = await postJson(
        `${stack.url}/v1/chat/completions`,
        { messages: [{ role: 'user', content: 'Tell me about "usage": {"prompt_tokens": 1}.' }], max_tokens },
        { 'x-request-id': requestId },
      );
      assert.equal(res.status, 200);
      const r = await recordOf(stack, requestId);
      assert.equal(r.quota, 'off');
      assert.equal(r.tokens_source, 'upstream');
      assert.equal(r.prompt_tokens, res.json.usage.prompt_tokens);
      assert.equal(r.completion_tokens, res.json.usage.completion_tokens);
      assert.ok(r.prompt_tokens! > 1 && r.completion_tokens! > 0);
    }
  });
});
