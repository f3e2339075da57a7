/**
 * The keyless path production takes, end to end: the app configured as infra/main.bicep configures it
 * (AZURE_STORAGE_TABLE_ENDPOINT + AZURE_CLIENT_ID, no account key or connection string, the upstream by managed
 * identity too), the platform's identity endpoint faked on 127.0.0.1 (IDENTITY_ENDPOINT / IDENTITY_HEADER), and
 * Azurite checking bearer tokens (`--oauth basic`, over HTTPS on a certificate made for this run and trusted by
 * the app process alone through NODE_EXTRA_CA_CERTS). A recording proxy in front of Azurite shows what each
 * storage request carried. See docs/keyless-storage.md for what this proves and what only Azure can.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AZURITE_KEY } from '../dev/azurite.js';
import { jwtClaims } from '../dev/fake-identity.js';
import { KEYLESS_CLIENT_ID } from '../dev/keyless-storage.js';
import { isErrorShape, simRequests, startApp, startStack, type AppProcess, type Stack } from './helpers/stack.js';

// Client ids for which the fake identity endpoint refuses, or issues a token Azurite must reject.
const REFUSED_CLIENT = '00000000-0000-0000-0000-0000000000ff';
const WRONG_AUDIENCE_CLIENT = '00000000-0000-0000-0000-0000000000aa';
// The audience of Azure Storage tokens (Azure docs, "Authorize access to tables using Microsoft Entra ID");
// @azure/data-tables asks for the scope https://storage.azure.com/.default.
const STORAGE_RESOURCE = 'https://storage.azure.com';
const COGNITIVE_RESOURCE = 'https://cognitiveservices.azure.com';
const LIMIT = 5000;

let stack: Stack;
const alice = { 'x-ms-client-principal-id': 'alice-keyless', 'content-type': 'application/json' };

async function call(url: string, method: string, path: string, body?: unknown) {
  const init = { method, headers: alice, body: body === undefined ? undefined : JSON.stringify(body) };
  const response = await fetch(`${url}${path}`, init);
  const text = await response.text();
  const json = /json/.test(response.headers.get('content-type') ?? '') && text ? JSON.parse(text) : undefined;
  return { status: response.status, json, text, headers: response.headers };
}

before(async () => {
  stack = await startStack({
    keyless: { behaviour: { [REFUSED_CLIENT]: 'refuse', [WRONG_AUDIENCE_CLIENT]: 'wrong-audience' } },
    simulator: true,
    env: { QUOTA_TOKENS_PER_MINUTE: String(LIMIT) },
  });
});
after(async () => stack?.stop());

describe('keyless Table Storage, as configured in Azure', () => {
  it('is configured like the Bicep: table endpoint and client id, no key, no connection string', async () => {
    for (const name of ['AZURE_STORAGE_CONNECTION_STRING', 'AZURE_OPENAI_API_KEY', 'OPENAI_API_KEY']) {
      assert.equal(stack.env[name], undefined, name);
    }
    assert.equal(stack.env.AZURE_CLIENT_ID, KEYLESS_CLIENT_ID);
    assert.match(stack.env.AZURE_STORAGE_TABLE_ENDPOINT!, /^https:\/\//);
    const health = await (await fetch(`${stack.url}/v1/health`)).json();
    assert.equal(health.store.kind, 'table-endpoint');
    assert.equal(health.upstream.auth, 'managed-identity');
  });

  it('runs conversations: create, a plain and a streamed turn, list, history, delete', async () => {
    const created = await call(stack.url, 'POST', '/v1/conversations', { system: 'Be brief.', title: 'Keyless' });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id;

    const turn = (body: unknown) => call(stack.url, 'POST', `/v1/conversations/${id}/messages`, body);
    const plain = await turn({ content: 'Knock knock.', temperature: 0 });
    assert.equal(plain.status, 200, plain.text);
    assert.equal(plain.json.message.content, "Who's there?");

    const streamed = await turn({ content: 'Count to 5. E.g. 1, 2, ...', stream: true });
    assert.equal(streamed.status, 200, streamed.text);
    const events = streamed.text
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));
    assert.equal(events.at(-1), '[DONE]');
    const content = events
      .slice(0, -1)
      .map((e) => JSON.parse(e).choices[0]?.delta?.content ?? '')
      .join('');
    assert.equal(content, '1, 2, 3, 4, 5.');

    const listed = await call(stack.url, 'GET', '/v1/conversations');
    assert.equal(listed.status, 200, listed.text);
    assert.ok(listed.json.data.some((c: any) => c.id === id));
    const messages = await call(stack.url, 'GET', `/v1/conversations/${id}/messages?order=asc&limit=100`);
    assert.deepEqual(
      messages.json.data.map((m: any) => m.content),
      ['Knock knock.', "Who's there?", 'Count to 5. E.g. 1, 2, ...', content],
    );

    assert.equal((await call(stack.url, 'DELETE', `/v1/conversations/${id}`)).status, 200); // OpenAI's {id, object: "conversation.deleted", deleted: true} since issue 18
    assert.equal((await call(stack.url, 'GET', `/v1/conversations/${id}`)).status, 404);
  });

  it('charges quotas in Table Storage and reads them back', async () => {
    const before = (await call(stack.url, 'GET', '/v1/usage')).json;
    assert.equal(before.minute.limit, LIMIT);
    const messages = [{ role: 'user', content: 'Knock knock.' }];
    const answer = await call(stack.url, 'POST', '/v1/chat/completions', { messages, max_tokens: 20 });
    assert.equal(answer.status, 200, answer.text);
    const after = (await call(stack.url, 'GET', '/v1/usage')).json;
    assert.equal(after.minute.used - before.minute.used, answer.json.usage.total_tokens);
    assert.equal(after.minute.remaining, LIMIT - after.minute.used);
  });

  it('sent every storage request with a storage-audience bearer token, none with SharedKey or SAS', async () => {
    const requests = stack.keyless!.requests;
    assert.ok(requests.length > 10, `${requests.length} storage requests`);
    const schemes = new Set(requests.map((r) => r.scheme));
    assert.deepEqual([...schemes], ['Bearer'], `schemes seen: ${[...schemes].join(', ')}`);
    for (const request of requests) {
      assert.equal(request.audience, STORAGE_RESOURCE);
      assert.equal(jwtClaims(request.token!)?.appid, KEYLESS_CLIENT_ID);
      const expected = request.status! < 400 || request.status === 404 || request.status === 409;
      assert.ok(expected, `${request.method} ${request.path} → ${request.status}`);
    }
    // The production path's steps, each under a bearer token: table creation at first use, entity transactions
    // (conversation turns), and ETag-conditional updates (quota settlement).
    assert.ok(
      requests.some((r) => r.method === 'POST' && r.path.endsWith('/Tables')),
      'tables created',
    );
    assert.ok(
      requests.some((r) => r.path.endsWith('/$batch')),
      'a transaction',
    );
    assert.ok(
      requests.some((r) => r.ifMatch && r.ifMatch !== '*'),
      'an ETag-conditional update',
    );

    // Tokens came from the managed identity: the user-assigned client id, the platform's header, both audiences.
    const asked = stack.keyless!.identity.requests;
    assert.ok(asked.every((a) => a.clientId === KEYLESS_CLIENT_ID && a.headerOk && a.apiVersion === '2019-08-01'));
    const storageAsks = asked.filter((a) => a.resource === STORAGE_RESOURCE).length;
    assert.ok(storageAsks >= 1 && storageAsks < requests.length, `${storageAsks} storage token requests: cached`);
    assert.ok(
      asked.some((a) => a.resource === COGNITIVE_RESOURCE),
      'the upstream used the same identity',
    );
    const upstream = await simRequests(stack);
    assert.ok(upstream.length > 0);
    assert.ok(upstream.every((r) => r.auth === 'bearer' && jwtClaims(r.bearerToken!)?.aud === COGNITIVE_RESOURCE));
  });
});

describe('a system-assigned identity (no AZURE_CLIENT_ID)', () => {
  it('reaches storage with the platform identity, asked without a client id', async () => {
    const { AZURE_CLIENT_ID: _, ...env } = stack.env;
    const seen = stack.keyless!.identity.requests.length;
    const app = await startApp(env, 'keyless-system-assigned');
    try {
      const created = await call(app.url, 'POST', '/v1/conversations', {});
      assert.equal(created.status, 201, created.text);
      const asked = stack.keyless!.identity.requests.slice(seen);
      const ok = asked.some((a) => a.resource === STORAGE_RESOURCE && a.clientId === null && a.headerOk);
      assert.ok(ok, JSON.stringify(asked));
    } finally {
      await app.stop();
    }
  });
});

describe('keyless storage failures', () => {
  const identityApp = (clientId: string, name: string) => startApp({ ...stack.env, AZURE_CLIENT_ID: clientId }, name);
  const secrets = () => {
    const identity = stack.keyless!.identity;
    return [identity.refusalMessage, stack.env.IDENTITY_HEADER!, ...identity.issued, AZURITE_KEY, 'AccountKey='];
  };

  async function expectClear503(app: AppProcess, code: string) {
    const bodies: string[] = [];
    for (const [method, path, body] of [
      ['POST', '/v1/conversations', {}],
      ['GET', '/v1/conversations', undefined],
      ['GET', '/v1/usage', undefined],
    ] as const) {
      const res = await call(app.url, method, path, body);
      assert.equal(res.status, 503, `${method} ${path}: ${res.text}`);
      assert.ok(isErrorShape(res.json));
      assert.equal(res.json.error.code, code);
      assert.equal(res.json.error.type, 'service_unavailable');
      bodies.push(res.text);
    }
    await app.stop();
    const log = readFileSync(app.logFile, 'utf8');
    assert.match(log, code === 'store_credential_unavailable' ? /could not obtain a token/ : /refused the app/);
    for (const text of [...bodies, log]) {
      for (const secret of secrets()) assert.ok(!text.includes(secret), `leaked ${secret.slice(0, 12)}…`);
    }
  }

  it('a token the identity endpoint refuses gives a clear 503, nothing of the refusal in body or log', async () => {
    const app = await identityApp(REFUSED_CLIENT, 'keyless-refused');
    try {
      await expectClear503(app, 'store_credential_unavailable');
      assert.ok(stack.keyless!.identity.requests.some((a) => a.clientId === REFUSED_CLIENT && a.outcome === 'refuse'));
    } finally {
      await app.stop();
    }
  });

  it('a token Azurite rejects (wrong audience) gives a clear 503: the store really checks tokens', async () => {
    const seen = stack.keyless!.requests.length;
    const app = await identityApp(WRONG_AUDIENCE_CLIENT, 'keyless-wrong-audience');
    try {
      await expectClear503(app, 'store_auth_failed');
      const rejected = stack.keyless!.requests.slice(seen);
      assert.ok(rejected.length > 0);
      assert.ok(rejected.every((r) => r.scheme === 'Bearer' && r.audience !== STORAGE_RESOURCE && r.status === 403));
    } finally {
      await app.stop();
    }
  });
});
