/** CORS, security headers on every route, and no secret in any log line or error body. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AZURITE_KEY } from '../dev/azurite.js';
import { functions } from '../src/functions/registry.js';
import { logDir, SIMULATOR_TEST_KEY, simFault, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
const ORIGIN = 'https://app.example.com';

before(async () => {
  stack = await startStack({
    azurite: true,
    simulator: true,
    env: { CORS_ALLOWED_ORIGINS: `${ORIGIN},https://other.example.com`, UPSTREAM_RETRY_DEADLINE_MS: '1500' },
  });
});
after(async () => stack?.stop());

const user = { 'x-ms-client-principal-id': 'sec-user' };
const concrete = (route: string) =>
  route.replace('{id}', 'conv_AAAAAAAAAAAAAAAAAAAAAAAA').replace(/\{(\w+)\??\}/g, 'x');

describe('CORS', () => {
  it('answers a preflight from an allowed origin with the methods, headers and max-age', async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, authorization');
    assert.ok(Number(res.headers.get('access-control-max-age')) > 0);
    assert.match(res.headers.get('vary') ?? '', /Origin/);
  });

  it('lets the browser read answers (and retry-after) from an allowed origin, and nothing from another', async () => {
    const allowed = await fetch(`${stack.url}/v1/health`, { headers: { origin: ORIGIN } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(allowed.headers.get('access-control-expose-headers') ?? '', /retry-after/);
    const denied = await fetch(`${stack.url}/v1/health`, { headers: { origin: 'https://evil.example.com' } });
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
    const preflight = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  });
});

describe('bodies that need no preflight (CSRF)', () => {
  it('every POST route refuses text/plain, form and multipart bodies with 415, and changes nothing', async () => {
    // Issue 14, item 9. Fetch's CORS "simple request" rule: these three content types (or none) skip the preflight
    // (https://fetch.spec.whatwg.org/#cors-safelisted-request-header), so a page on any origin could send them with
    // the visitor's cookies. Only a JSON content type is accepted.
    const victim = { 'x-ms-client-principal-id': 'csrf-victim' };
    const created = await fetch(`${stack.url}/v1/conversations`, {
      method: 'POST',
      headers: { ...victim, 'content-type': 'application/json' },
      body: '{}',
    });
    const id = ((await created.json()) as { id: string }).id;
    const routes = functions.filter((f) => f.methods.includes('POST')).map((f) => f.route.replace('{id}', id));
    const bodies: Record<string, string> = {
      title: 'csrf',
      content: 'hi',
      text: 'hi',
      input: 'hi',
      prompt: 'hi',
      tokens: '[1]',
    };
    for (const route of routes) {
      for (const type of [
        'text/plain',
        'text/plain;charset=UTF-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        undefined,
      ]) {
        const res = await fetch(`${stack.url}/${route}`, {
          method: 'POST',
          headers: { ...victim, origin: 'https://evil.example.com', ...(type ? { 'content-type': type } : {}) },
          body: type === undefined ? new Uint8Array(Buffer.from(JSON.stringify(bodies))) : JSON.stringify(bodies),
        });
        assert.equal(res.status, 415, `${route} as ${type}`);
        const body = await res.json();
        assert.equal(body.error.code, 'unsupported_media_type');
      }
    }
    const list = await (await fetch(`${stack.url}/v1/conversations`, { headers: victim })).json();
    assert.equal(list.data.length, 1, 'no conversation was created');
    const history = await (await fetch(`${stack.url}/v1/conversations/${id}/messages`, { headers: victim })).json();
    assert.equal(history.data.filter((m: any) => m.role === 'user').length, 0, 'no message was posted');
    // `application/json` (with a charset, or a +json type) is read as before.
    for (const type of ['application/json; charset=utf-8', 'application/merge-patch+json']) {
      const ok = await fetch(`${stack.url}/v1/tokenize`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: '{"text":"hi"}',
      });
      assert.equal(ok.status, 200, type);
    }
  });
});

describe('security headers', () => {
  it('are on every route of the function list, success or error', async () => {
    for (const fn of functions) {
      for (const method of fn.methods.filter((m) => m !== 'OPTIONS')) {
        const res = await fetch(`${stack.url}/${concrete(fn.route)}`, {
          method,
          headers: user,
          body: method === 'POST' ? '{}' : undefined,
        });
        await res.arrayBuffer();
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${method} ${fn.route} (${res.status})`);
        assert.ok(res.headers.get('content-security-policy'), `${method} ${fn.route}`);
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer', `${method} ${fn.route}`);
      }
    }
  });
});

describe('no secrets in logs or errors', () => {
  it('keeps the upstream key, storage key and tokens out of every log line and error body', async () => {
    const bodies: string[] = [];
    const call = async (path: string, body: unknown) => {
      const res = await fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { ...user, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      bodies.push(await res.text());
    };
    // Success, caller errors, upstream failures of every kind, and a broken store.
    await call('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] });
    await call('/v1/chat/completions', { messages: [] });
    for (const kind of ['429', '500', 'content_filter'] as const) {
      await simFault(stack, { kind, count: 5, retryAfterSeconds: 60 });
      await call('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] });
    }
    await simFault(stack, { kind: 'cut', afterChunks: 1 });
    await call('/v1/chat/completions', { messages: [{ role: 'user', content: 'Count to 20' }], stream: true });
    await call('/v1/conversations', {});
    await stack.azurite!.stop();
    await call('/v1/conversations', {});
    await new Promise((r) => setTimeout(r, 300));

    const secrets = [SIMULATOR_TEST_KEY, AZURITE_KEY, 'AccountKey='];
    for (const body of bodies)
      for (const secret of secrets)
        assert.ok(!body.includes(secret), `a response body contains ${secret.slice(0, 6)}…`);
    assert.ok(
      bodies.some((b) => b.includes('store_unavailable')),
      'the broken store was exercised',
    );
    const logs = readdirSync(logDir).map((f) => readFileSync(`${logDir}/${f}`, 'utf8'));
    assert.ok(readFileSync(stack.app.logFile, 'utf8').length > 0, 'the app logged something');
    for (const log of logs)
      for (const secret of secrets) assert.ok(!log.includes(secret), `a log contains ${secret.slice(0, 6)}…`);
  });
});
