/**
 * Several Azure OpenAI backends (AZURE_OPENAI_BACKENDS): priority, weights, failover on 429 without waiting,
 * a circuit breaker on 5xx, streams that fail over only before their first byte. Real HTTP: two or three
 * simulators on free ports as the backends, the app in the local host, and the simulators' request logs as
 * the witness of where each call went (never timing).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startAzurite, type Azurite } from '../dev/azurite.js';
import { startSimulator, type RequestLogEntry, type Simulator } from '../dev/simulator/server.js';
import type { Fault } from '../dev/simulator/faults.js';
import { parseBackends } from '../src/upstream/backends.js';
import { Router } from '../src/upstream/router.js';
import { postJson, SIMULATOR_TEST_KEY, startApp, type AppProcess } from './helpers/stack.js';

const chat = { messages: [{ role: 'user', content: 'hi' }] };
let a: Simulator;
let b: Simulator;
let c: Simulator;
const apps: AppProcess[] = [];
/** A real store, so health's status is about the upstream (health probes the store) and turns can be stored. */
let azurite: Azurite;

before(async () => {
  [a, b, c, azurite] = await Promise.all([startSimulator(), startSimulator(), startSimulator(), startAzurite()]);
});
after(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  await Promise.all([a?.close(), b?.close(), c?.close(), azurite?.stop()]);
});

const sim = async (s: Simulator, method: string, path: string, body?: unknown) =>
  (
    await fetch(`${s.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  ).json();
const fault = (s: Simulator, f: Fault) => sim(s, 'POST', '/_sim/faults', f);
const requests = async (s: Simulator): Promise<RequestLogEntry[]> => (await sim(s, 'GET', '/_sim/requests')).data;
const resetAll = () => Promise.all([a, b, c].map((s) => sim(s, 'POST', '/_sim/reset', {})));

/** A fresh app (fresh routing state) with these backends; the extra env tunes the breaker or adds storage. */
async function appWith(
  backends: { sim: Simulator; name: string; priority?: number; weight?: number }[],
  env: Record<string, string> = {},
) {
  await resetAll();
  const list = backends.map((x) => ({
    name: x.name,
    endpoint: x.sim.url,
    priority: x.priority ?? 1,
    weight: x.weight ?? 1,
  }));
  const app = await startApp(
    {
      AZURE_OPENAI_BACKENDS: JSON.stringify(list),
      AZURE_OPENAI_API_KEY: SIMULATOR_TEST_KEY,
      TRUST_PRINCIPAL_HEADERS: 'true',
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      ...env,
    },
    'backends',
  );
  apps.push(app);
  return { url: `${app.url}`, app };
}

const health = async (url: string) =>
  (await (await fetch(`${url}/v1/health`)).json()) as {
    status: string;
    upstream: { backends: { name: string; state: string; until?: string; recent: Record<string, number> }[] };
  };
const stateOf = async (url: string, name: string) => (await health(url)).upstream.backends.find((x) => x.name === name);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('429 on the preferred backend', () => {
  it('cools it for its retry-after and sends every request to the next backend at once', async () => {
    const { url, app } = await appWith(
      [
        { sim: a, name: 'a', priority: 1 },
        { sim: b, name: 'b', priority: 2 },
      ],
      { LOG_LEVEL: 'debug' },
    );
    await fault(a, { kind: '429', retryAfterSeconds: 10 });
    for (let i = 0; i < 8; i++) {
      const res = await postJson(`${url}/v1/chat/completions`, chat);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get('x-backend'), 'b');
    }
    // a saw the one throttled call and nothing while it cooled: no request waited on it or retried it.
    assert.equal((await requests(a)).length, 1);
    assert.equal((await requests(b)).length, 8);
    const cooling = await stateOf(url, 'a');
    assert.equal(cooling?.state, 'cooling');
    assert.ok(Date.parse(cooling.until!) > Date.now() + 5000, 'cools for about the 10 s retry-after');
    assert.equal(cooling?.recent.throttled, 1);
    assert.equal((await health(url)).status, 'ok', 'b is still healthy');
    // Every routing decision is logged at debug with the backend's name.
    const log = readFileSync(app.logFile, 'utf8');
    assert.match(log, /upstream: chat gpt-4o-mini → a \(priority 1\)/);
    assert.match(log, /a throttled \(429\), cooling 10000 ms/);
    assert.match(log, /upstream: chat gpt-4o-mini → b \(priority 2\)/);
  });

  it('gives the traffic back to the preferred backend once its cool-down is over', async () => {
    const { url } = await appWith([
      { sim: a, name: 'a', priority: 1 },
      { sim: b, name: 'b', priority: 2 },
    ]);
    await fault(a, { kind: '429', retryAfterMs: 300 });
    assert.equal((await postJson(`${url}/v1/chat/completions`, chat)).headers.get('x-backend'), 'b');
    await sleep(400);
    for (let i = 0; i < 3; i++)
      assert.equal((await postJson(`${url}/v1/chat/completions`, chat)).headers.get('x-backend'), 'a');
    assert.equal((await requests(a)).length, 4);
    assert.equal((await requests(b)).length, 1);
  });

  it('answers 429 with the smallest retry-after when every backend is throttled', async () => {
    const { url } = await appWith([
      { sim: a, name: 'a', priority: 1 },
      { sim: b, name: 'b', priority: 1 },
      { sim: c, name: 'c', priority: 2 },
    ]);
    await fault(a, { kind: '429', retryAfterSeconds: 50 });
    await fault(b, { kind: '429', retryAfterSeconds: 40 });
    await fault(c, { kind: '429', retryAfterSeconds: 45 });
    const res = await postJson(`${url}/v1/chat/completions`, chat);
    assert.equal(res.status, 429);
    assert.equal(res.json.error.code, 'rate_limit_exceeded');
    assert.equal(res.headers.get('retry-after'), '40');
    // Each backend was asked once; the service did not wait 40 s (longer than UPSTREAM_RETRY_DEADLINE_MS).
    for (const s of [a, b, c]) assert.equal((await requests(s)).length, 1);
    // While all cool, later calls are answered at once without troubling any backend.
    const again = await postJson(`${url}/v1/chat/completions`, chat);
    assert.equal(again.status, 429);
    assert.ok(Number(again.headers.get('retry-after')) <= 40);
    for (const s of [a, b, c]) assert.equal((await requests(s)).length, 1);
    assert.equal((await health(url)).status, 'degraded');
  });
});

describe('circuit breaker', () => {
  /** a (priority 1) before b (priority 2); a backend's circuit opens after `failures` failures and cools for 5 s. */
  const breakerApp = (failures: number) =>
    appWith(
      [
        { sim: a, name: 'a', priority: 1 },
        { sim: b, name: 'b', priority: 2 },
      ],
      {
        UPSTREAM_BREAKER_FAILURES: String(failures),
        UPSTREAM_BREAKER_WINDOW_MS: '60000',
        UPSTREAM_BREAKER_COOLDOWN_MS: '5000',
      },
    );

  it('opens on a 5xx storm, sends nothing to the open backend, and a trial call closes it after recovery', async () => {
    const { url } = await breakerApp(3);
    await fault(a, { kind: '500', count: 3 });
    for (let i = 0; i < 3; i++)
      assert.equal((await postJson(`${url}/v1/chat/completions`, chat)).headers.get('x-backend'), 'b');
    assert.equal((await stateOf(url, 'a'))?.state, 'open');
    // Open: calls go straight to b, a is not asked.
    for (let i = 0; i < 3; i++)
      assert.equal((await postJson(`${url}/v1/chat/completions`, chat)).headers.get('x-backend'), 'b');
    assert.equal((await requests(a)).length, 3);
    await sleep(5100);
    assert.equal((await stateOf(url, 'a'))?.state, 'half-open');
    // a has recovered (its faults are used up): the trial succeeds and closes the circuit.
    assert.equal((await postJson(`${url}/v1/chat/completions`, chat)).headers.get('x-backend'), 'a');
    assert.equal((await stateOf(url, 'a'))?.state, 'healthy');
    assert.equal((await postJson(`${url}/v1/chat/completions`, chat)).headers.get('x-backend'), 'a');
    assert.equal((await requests(a)).length, 5);
  });

  it('a failed trial opens it again; client errors never open it', async () => {
    const { url } = await breakerApp(2);
    // Content refusals are the upstream's 400s: many of them say nothing of the backend's health.
    for (let i = 0; i < 4; i++) {
      await fault(a, { kind: 'content_filter' });
      assert.equal((await postJson(`${url}/v1/chat/completions`, chat)).status, 400);
    }
    assert.equal((await stateOf(url, 'a'))?.state, 'healthy');
    assert.equal((await requests(b)).length, 0, 'a 400 is the caller’s: it is not retried elsewhere');

    await fault(a, { kind: '503', count: 3 });
    await postJson(`${url}/v1/chat/completions`, chat);
    await postJson(`${url}/v1/chat/completions`, chat);
    assert.equal((await stateOf(url, 'a'))?.state, 'open');
    await sleep(5100);
    assert.equal(
      (await postJson(`${url}/v1/chat/completions`, chat)).headers.get('x-backend'),
      'b',
      'the trial failed over to b',
    );
    assert.equal((await stateOf(url, 'a'))?.state, 'open');
  });
});

describe('a backend set up wrong', () => {
  it('one that refuses our credentials (401) is skipped for the call, counted, and never opened', async () => {
    const locked = await startSimulator({ apiKeys: ['a-key-this-app-does-not-have'] });
    try {
      const env = { UPSTREAM_BREAKER_FAILURES: '2' };
      const { url } = await appWith(
        [
          { sim: locked, name: 'locked', priority: 1 },
          { sim: b, name: 'b', priority: 2 },
        ],
        env,
      );
      for (let i = 0; i < 3; i++) {
        const res = await postJson(`${url}/v1/chat/completions`, chat);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.headers.get('x-backend'), 'b');
      }
      const state = await stateOf(url, 'locked');
      assert.equal(state?.state, 'healthy', 'a 401 says nothing of its health: no circuit opens');
      assert.equal(state?.recent.rejected, 3);
      assert.equal((await requests(locked)).length, 3);
    } finally {
      await locked.close();
    }
  });
});

describe('streams', () => {
  it('a stream whose backend breaks before the first chunk is served whole by the other', async () => {
    const { url } = await appWith([
      { sim: a, name: 'a', priority: 1 },
      { sim: b, name: 'b', priority: 2 },
    ]);
    await fault(a, { kind: 'cut', afterChunks: 0 });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...chat, stream: true }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-backend'), 'b');
    const text = await res.text();
    assert.match(text, /data: \[DONE\]/);
    assert.doesNotMatch(text, /event: error/);
    const [cut] = await requests(a);
    assert.equal(cut?.completed, false);
    assert.equal((await requests(b)).length, 1);
  });

  it('a 503 before the stream starts fails over too; a stream cut after its first chunk does not', async () => {
    const { url } = await appWith([
      { sim: a, name: 'a', priority: 1 },
      { sim: b, name: 'b', priority: 2 },
    ]);
    await fault(a, { kind: '503' });
    const early = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Count to 5', stream: true }),
    });
    assert.equal(early.headers.get('x-backend'), 'b');
    assert.match(await early.text(), /\[DONE\]/);

    await fault(a, { kind: 'cut', afterChunks: 3 });
    const late = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Count to 40' }], stream: true }),
    });
    assert.equal(late.headers.get('x-backend'), 'a');
    const text = await late.text();
    assert.match(text, /event: error/);
    assert.doesNotMatch(text, /\[DONE\]/);
    assert.equal((await requests(b)).length, 1, 'nothing was replayed on b after chunks were relayed');
  });
});

describe('weights', () => {
  it('splits traffic by weight within ±10% over 1,000 requests at one priority', async () => {
    const { url } = await appWith([
      { sim: a, name: 'a', weight: 3 },
      { sim: b, name: 'b', weight: 1 },
    ]);
    const seen: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 1000; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, () =>
          fetch(`${url}/v1/embeddings`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ input: 'w' }),
          }),
        ),
      );
      for (const res of batch) {
        assert.equal(res.status, 200);
        seen[res.headers.get('x-backend')!]!++;
        await res.arrayBuffer();
      }
    }
    assert.equal(seen.a! + seen.b!, 1000);
    assert.ok(seen.a! >= 675 && seen.a! <= 825, `a (weight 3) got ${seen.a} of 1000, expected 750 ± 75`);
    assert.equal((await requests(a)).length, seen.a);
    assert.equal((await requests(b)).length, seen.b);
  });
});

describe('conversations', () => {
  it('turns use the same routing, streamed or not', async () => {
    const { url } = await appWith([
      { sim: a, name: 'a', priority: 1 },
      { sim: b, name: 'b', priority: 2 },
    ]);
    const user = { 'x-ms-client-principal-id': 'backends-user' };
    const created = await postJson(`${url}/v1/conversations`, {}, user);
    assert.equal(created.status, 201, created.text);
    await fault(a, { kind: '429', retryAfterSeconds: 10 });
    const turn = await postJson(`${url}/v1/conversations/${created.json.id}/messages`, { content: 'hello' }, user);
    assert.equal(turn.status, 200, turn.text);
    assert.equal(turn.headers.get('x-backend'), 'b');
    const streamed = await fetch(`${url}/v1/conversations/${created.json.id}/messages`, {
      method: 'POST',
      headers: { ...user, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'again', stream: true }),
    });
    assert.equal(streamed.headers.get('x-backend'), 'b');
    assert.match(await streamed.text(), /\[DONE\]/);
    assert.equal((await requests(a)).length, 1);
    assert.equal((await requests(b)).length, 2);
  });
});

describe('configuration', () => {
  it('names the bad entry of AZURE_OPENAI_BACKENDS, without echoing its values', () => {
    assert.throws(
      () =>
        parseBackends(
          JSON.stringify([
            { endpoint: 'https://one.openai.azure.com', priority: 1, weight: 1 },
            { name: 'west', endpoint: 'not a url', weight: 1 },
          ]),
          '2024-10-21',
        ),
      (e: Error) => /AZURE_OPENAI_BACKENDS\[1\] \("west"\): endpoint/.test(e.message) && !/not a url/.test(e.message),
    );
    assert.throws(() => parseBackends('{"endpoint":"x"}', '2024-10-21'), /non-empty JSON array/);
    assert.throws(
      () => parseBackends('[{"endpoint":"https://a.example.com","weight":0}]', '2024-10-21'),
      /AZURE_OPENAI_BACKENDS\[0\]: weight/,
    );
    assert.throws(
      () => parseBackends('[{"endpoint":"https://a.example.com","wieght":2}]', '2024-10-21'),
      /AZURE_OPENAI_BACKENDS\[0\]: .*wieght/,
    );
    const dup = JSON.stringify([{ endpoint: 'https://a.example.com' }, { endpoint: 'https://a.example.com/' }]);
    assert.throws(() => parseBackends(dup, '2024-10-21'), /\[1\]: the name "a.example.com" is used twice/);
    assert.deepEqual(
      parseBackends('[{"endpoint":"https://a.example.com/","apiVersion":"2025-01-01-preview"}]', '2024-10-21'),
      [
        {
          name: 'a.example.com',
          endpoint: 'https://a.example.com',
          priority: 1,
          weight: 1,
          apiVersion: '2025-01-01-preview',
        },
      ],
    );
  });

  it('a bad setting fails the first call that needs it, and the log names the entry', async () => {
    const app = await startApp(
      {
        AZURE_OPENAI_BACKENDS:
          '[{"endpoint":"https://ok.example.com"},{"name":"b2","priority":-1,"endpoint":"https://x.example.com"}]',
        AZURE_OPENAI_API_KEY: SIMULATOR_TEST_KEY,
      },
      'backends-bad',
    );
    apps.push(app);
    const res = await postJson(`${app.url}/v1/chat/completions`, chat);
    assert.equal(res.status, 500);
    assert.doesNotMatch(res.text, /x\.example\.com/);
    await sleep(100);
    assert.match(readFileSync(app.logFile, 'utf8'), /AZURE_OPENAI_BACKENDS\[1\] \("b2"\): priority/);
  });

  it('health lists each backend with no key or token', async () => {
    const { url } = await appWith([
      { sim: a, name: 'a', priority: 1 },
      { sim: b, name: 'b', priority: 2, weight: 2 },
    ]);
    const text = await (await fetch(`${url}/v1/health`)).text();
    assert.doesNotMatch(text, new RegExp(SIMULATOR_TEST_KEY));
    const body = JSON.parse(text);
    assert.deepEqual(
      body.upstream.backends.map((x: any) => [x.name, x.priority, x.weight, x.state]),
      [
        ['a', 1, 1, 'healthy'],
        ['b', 2, 2, 'healthy'],
      ],
    );
  });

  it('infra: the optional second account gets the identity’s role, and its endpoint reaches AZURE_OPENAI_BACKENDS', () => {
    const main = readFileSync(new URL('../infra/main.bicep', import.meta.url), 'utf8');
    const secondary = readFileSync(new URL('../infra/modules/openai-secondary.bicep', import.meta.url), 'utf8');
    assert.match(main, /param openAiSecondaryLocation string = ''/, 'off by default');
    assert.match(
      main,
      /module openaiSecondary 'modules\/openai-secondary.bicep' = if \(!empty\(openAiSecondaryLocation\)\)/,
    );
    assert.match(main, /AZURE_OPENAI_BACKENDS: openAiBackends/);
    assert.match(main, /endpoint: openaiSecondary.outputs.endpoint/);
    // Cognitive Services OpenAI User on the second account, for the app identity.
    assert.match(secondary, /cognitiveServicesOpenAIUser = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'/);
    assert.match(
      secondary,
      /scope: secondary\n\s+properties: \{\n\s+roleDefinitionId: subscriptionResourceId\('Microsoft.Authorization\/roleDefinitions', cognitiveServicesOpenAIUser\)\n\s+principalId: identityPrincipalId/,
    );
  });
});

describe('router state (pure, with a fake clock)', () => {
  const config = (name: string, priority = 1, weight = 1) => ({
    name,
    endpoint: `https://${name}.example.com`,
    priority,
    weight,
    apiVersion: '2024-10-21',
  });
  const breaker = { failures: 3, windowMs: 1000, cooldownMs: 5000 };

  it('opens only on N failures within the window, and lets exactly one trial through after the cool-down', () => {
    const router = new Router([config('a'), config('b', 2)], { routed: true, breaker });
    const a = router.backends[0]!;
    // Three failures, but spread wider than the window: stays closed.
    for (const t of [0, 600, 1200, 1800]) assert.equal(router.failed(a, t), false);
    assert.equal(router.failed(a, 1900), true, 'the 3rd failure within 1 s (1200, 1800, 1900) opens it');
    assert.equal(router.pick(2000)?.name, 'b');
    assert.equal(router.pick(6899)?.name, 'b');
    assert.equal(router.pick(6900)?.name, 'a', 'the trial');
    assert.equal(router.pick(6901)?.name, 'b', 'only one trial at a time');
    router.succeeded(a, 6950);
    assert.equal(router.status(6951)[0]!.state, 'healthy');
    assert.equal(router.pick(6951)?.name, 'a');
  });

  it('keeps a minute of counts in fixed memory, and none of the state without routing', () => {
    const router = new Router([config('a')], { routed: true, breaker });
    const a = router.backends[0]!;
    for (let t = 0; t < 120_000; t += 10) router.succeeded(a, t);
    assert.equal(router.status(119_999)[0]!.recent.ok, 6000, 'six 10-second buckets: the last 50–60 s');
    assert.equal(router.status(300_000)[0]!.recent.ok, 0);
    const single = new Router([config('x')], { routed: false, breaker });
    const x = single.backends[0]!;
    single.throttled(x, 60_000, 0);
    for (let i = 0; i < 10; i++) single.failed(x, 1);
    assert.equal(single.pick(2)?.name, 'x', 'one endpoint without AZURE_OPENAI_BACKENDS: no cool-down, no circuit');
    assert.deepEqual(single.status(2)[0]!.recent, { ok: 0, throttled: 1, failed: 10, rejected: 0 });
  });

  it('chooses by weight within a priority, and skips what this call already excluded', () => {
    let r = 0;
    const router = new Router([config('a', 1, 3), config('b', 1, 1), config('c', 2)], {
      routed: true,
      breaker,
      random: () => r,
    });
    r = 0.74;
    assert.equal(router.pick(0)?.name, 'a');
    r = 0.76;
    assert.equal(router.pick(0)?.name, 'b');
    const [a, b] = router.backends;
    assert.equal(
      router.pick(
        0,
        new Map([
          [a!, 10],
          [b!, 10],
        ]),
      )?.name,
      'c',
    );
    assert.equal(
      router.waitMs(
        0,
        new Map([
          [a!, 10],
          [b!, 20],
          [router.backends[2]!, 30],
        ]),
      ),
      10,
    );
  });
});
