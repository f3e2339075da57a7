/**
 * The local host (dev/host.ts) under clients that misbehave, from the attacks of issue 14: clients that leave before
 * the first token, clients that read slowly, bodies declared or sent past the limit, malformed paths, and the host's
 * own answers (404, 405, 413) carrying the same CORS and security headers as the app's.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { isErrorShape, simFault, simRequests, simReset, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
const ORIGIN = 'https://app.example.com';
const json = { 'content-type': 'application/json' };
const as = (user: string) => ({ ...json, 'x-ms-client-principal-id': user });

before(async () => {
  stack = await startStack({
    azurite: true,
    simulator: true,
    env: { CORS_ALLOWED_ORIGINS: ORIGIN, QUOTA_TOKENS_PER_MINUTE: '100000000' },
  });
});
after(async () => stack?.stop());

const usedBy = async (user: string): Promise<number> =>
  ((await (await fetch(`${stack.url}/v1/usage`, { headers: as(user) })).json()) as { minute: { used: number } }).minute
    .used;

/** A raw request whose body is written by `send`; resolves with the answer, whatever the body's fate. */
function rawRequest(path: string, headers: Record<string, string>, send: (req: http.ClientRequest) => void) {
  const url = new URL(stack.url);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: `${url.pathname}${path}`, method: 'POST', headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    send(req);
  });
}

describe('clients that leave before the first token (issue 14, item 1)', () => {
  it('300 early disconnects against a slow upstream: each request ends, is charged its prompt only, and others are served', async () => {
    const n = 300;
    const messages = [{ role: 'user', content: 'Knock knock.' }];
    await simReset(stack);
    const promptTokens = (
      (await (
        await fetch(`${stack.url}/v1/tokenize`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
        })
      ).json()) as { count: number }
    ).count;
    await simFault(stack, { kind: 'slow', delayMs: 1500, count: n });
    // One user each: quota reservations of one user are serialized, which would spread the requests out in time.
    const leave = async (i: number) => {
      const controller = new AbortController();
      const body = JSON.stringify({ messages, stream: true });
      const pending = fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: as(`leaver-${i}`),
        body,
        signal: controller.signal,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      controller.abort();
      await pending.catch(() => undefined);
    };
    // More than the upstream pool's 256 sockets: a request left hanging holds one for good.
    for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => leave(i + j)));

    // Every request ends, with a log line (before the fix they hung with no line at all): wait until the count of
    // ended requests stops moving. A request whose client left before the app sent it upstream is not sent at all
    // (the client-gone signal aborts it), so fewer than n may reach the upstream.
    const ended = () =>
      (readFileSync(stack.app.logFile, 'utf8').match(/POST \/api\/v1\/chat\/completions → client gone/g) ?? []).length;
    let [last, stable] = [-1, 0];
    for (let i = 0; i < 600 && stable < 15; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const now = ended();
      [last, stable] = [now, now === last ? stable + 1 : 0];
    }
    assert.ok(last > 0, 'requests ended with a log line');
    const handled = (readFileSync(stack.app.logFile, 'utf8').match(/information: POST chatCompletions →/g) ?? [])
      .length;
    assert.equal(last, handled, `every one of the ${handled} requests the app handled ended as "client gone"`);
    // No upstream request is left open: each one the simulator saw was completed or cancelled by the app.
    const upstreamSeen = await simRequests(stack);
    assert.deepEqual(
      upstreamSeen.filter((r) => !r.completed && !r.aborted).map((r) => r.id),
      [],
      'no upstream request left open',
    );
    const seen = upstreamSeen.length;

    // Another user is answered at once (before the fix the upstream pool ran out and this never returned).
    const other = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: as('bystander'),
      body: JSON.stringify({ messages }),
      signal: AbortSignal.timeout(60_000),
    });
    assert.equal(other.status, 200);
    assert.equal((await other.json()).choices[0].message.content, "Who's there?");

    // Each was charged its prompt (the model read it), not its 1,024-token reservation; one never sent, nothing.
    const used: number[] = [];
    for (let i = 0; i < n; i += 50)
      used.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => usedBy(`leaver-${i + j}`)))));
    assert.deepEqual(
      used.filter((u) => u !== promptTokens && u !== 0),
      [],
      `each request is charged its ${promptTokens} prompt tokens`,
    );
    assert.ok(
      used.filter((u) => u === promptTokens).length <= seen,
      'only requests that reached the model are charged',
    );
  });
});

describe('slow readers', () => {
  it('a stream read slowly leaves no listener behind (no MaxListenersExceededWarning)', async () => {
    const url = new URL(stack.url);
    const slowRead = () =>
      new Promise<string>((resolve, reject) => {
        const body = JSON.stringify({
          messages: [{ role: 'user', content: 'Count to 4000' }],
          max_tokens: 16000,
          stream: true,
        });
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: `${url.pathname}/v1/chat/completions`,
            method: 'POST',
            headers: as('slow-reader'),
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            // Hold the answer back after every piece, so the host's writes meet backpressure again and again.
            res.on('data', (chunk: string) => {
              text += chunk;
              res.pause();
              setTimeout(() => res.resume(), 2);
            });
            res.on('end', () => resolve(text));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const texts = await Promise.all(Array.from({ length: 4 }, slowRead));
    for (const text of texts) assert.match(text, /data: \[DONE\]/);
    assert.doesNotMatch(readFileSync(stack.app.logFile, 'utf8'), /MaxListenersExceededWarning/);
  });
});

describe('bodies past the limit', () => {
  it('a declared 50 MB body is refused at once with 413, without sending it', async () => {
    const res = await rawRequest('/v1/tokenize', { ...json, 'content-length': String(50 * 1024 * 1024) }, (req) =>
      req.write('{"text":"'),
    );
    assert.equal(res.status, 413);
    assert.ok(isErrorShape(JSON.parse(res.body)));
  });

  it('a body sent past the limit without a length is refused once it passes the limit, while still sending', async () => {
    const res = await rawRequest('/v1/tokenize', json, (req) => req.write(`{"text":"${'a'.repeat(5 * 1024 * 1024)}`));
    assert.equal(res.status, 413);
    assert.ok(isErrorShape(JSON.parse(res.body)));
  });

  it("a body over the host limit is the host's own 413, with the same headers as the app's", async () => {
    const res = await rawRequest(
      '/v1/tokenize',
      { ...json, origin: ORIGIN, 'content-length': String(200 * 1024 * 1024) },
      (req) => req.write('{'),
    );
    assert.equal(res.status, 413);
    assert.ok(isErrorShape(JSON.parse(res.body)));
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(res.headers['x-request-id']);
  });
});

describe("the host's own answers", () => {
  it('404 and 405 carry CORS, security headers and a request id; a preflight to an unknown path is answered', async () => {
    const missing = await fetch(`${stack.url}/v1/models-that-do-not-exist`, { headers: { origin: ORIGIN } });
    assert.equal(missing.status, 404);
    assert.ok(isErrorShape(await missing.json()));
    const wrong = await fetch(`${stack.url}/v1/tokenize`, { method: 'GET', headers: { origin: ORIGIN } });
    assert.equal(wrong.status, 405);
    for (const res of [missing, wrong]) {
      assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN, String(res.status));
      assert.match(res.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(res.headers.get('content-security-policy'));
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    }
    const preflight = await fetch(`${stack.url}/v1/models-that-do-not-exist`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'authorization');
  });

  it('a path with malformed percent-encoding is 400 in the error shape, not 500', async () => {
    for (const path of [
      '/v1/conversations/%ff/messages',
      '/v1/conversations/%E0%A4%A',
      '/v1/conversations/%E0%A4%A/messages',
    ]) {
      const res = await fetch(`${stack.url}${path}`, { headers: { ...as('pct-user'), origin: ORIGIN } });
      assert.equal(res.status, 400, path);
      const body = await res.json();
      assert.ok(isErrorShape(body), path);
      assert.equal(body.error.code, 'invalid_path');
      assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    }
  });

  it('every answer has a unique x-request-id; a valid incoming one is kept, anything else replaced', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await fetch(`${stack.url}/v1/health`)).headers.get('x-request-id') ?? '');
    assert.equal(ids.size, 5);
    const kept = await fetch(`${stack.url}/v1/health`, { headers: { 'x-request-id': 'my-trace.123' } });
    assert.equal(kept.headers.get('x-request-id'), 'my-trace.123');
    const replaced = await fetch(`${stack.url}/v1/health`, { headers: { 'x-request-id': 'bad id <script>' } });
    assert.match(replaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it("logs the request id of each request, with the upstream's apim-request-id beside it", async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...as('logged'), 'x-request-id': 'trace-log-1' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    // The app's output reaches its log file through a pipe: give the line a moment to land.
    const line = /x-request-id=trace-log-1 apim-request-id=apim-\S+/;
    for (let i = 0; i < 50 && !line.test(readFileSync(stack.app.logFile, 'utf8')); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    assert.match(readFileSync(stack.app.logFile, 'utf8'), line);
  });
});
