/**
 * The managed-identity path, end to end with the real @azure/identity ManagedIdentityCredential: a fake
 * App Service identity endpoint on 127.0.0.1 (IDENTITY_ENDPOINT / IDENTITY_HEADER, protocol 2019-08-01)
 * issues a token, and the simulator must see it as the bearer token of the upstream call.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { postJson, simRequests, startStack, type Stack } from './helpers/stack.js';

const IDENTITY_HEADER = 'fake-identity-header-7d2e';
const TOKEN = 'fake-mi-access-token-93ab71';
const CLIENT_ID = '00000000-0000-0000-0000-00000000c1d0';
const asked: {
  resource: string | null;
  clientId: string | null;
  header: string | undefined;
  apiVersion: string | null;
}[] = [];

let identity: Server;
let stack: Stack;

before(async () => {
  identity = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://identity');
    asked.push({
      resource: url.searchParams.get('resource'),
      clientId: url.searchParams.get('client_id'),
      header: req.headers['x-identity-header'] as string | undefined,
      apiVersion: url.searchParams.get('api-version'),
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        access_token: TOKEN,
        expires_on: String(Math.floor(Date.now() / 1000) + 3600),
        resource: url.searchParams.get('resource'),
        token_type: 'Bearer',
      }),
    );
  });
  await new Promise<void>((resolve) => identity.listen(0, '127.0.0.1', () => resolve()));
  const port = (identity.address() as { port: number }).port;
  stack = await startStack({
    simulator: true,
    env: {
      AZURE_OPENAI_API_KEY: '', // no key: the app must use its managed identity
      AZURE_CLIENT_ID: CLIENT_ID,
      IDENTITY_ENDPOINT: `http://127.0.0.1:${port}/msi/token`,
      IDENTITY_HEADER,
    },
  });
});
after(async () => {
  await stack?.stop();
  identity?.close();
});

describe('managed identity', () => {
  it('calls Azure OpenAI with a bearer token for the cognitiveservices scope, cached across calls', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await postJson(`${stack.url}/v1/chat/completions`, {
        messages: [{ role: 'user', content: 'Knock knock.' }],
      });
      assert.equal(res.status, 200, res.text);
    }
    const seen = await simRequests(stack);
    assert.equal(seen.length, 3);
    for (const request of seen) {
      assert.equal(request.auth, 'bearer');
      assert.equal(request.bearerToken, TOKEN);
      assert.equal(request.apiKey, undefined);
    }
    assert.equal(asked.length, 1, 'the token is cached, not fetched per call');
    assert.equal(asked[0]!.resource, 'https://cognitiveservices.azure.com');
    assert.equal(asked[0]!.clientId, CLIENT_ID);
    assert.equal(asked[0]!.header, IDENTITY_HEADER);
    assert.equal(asked[0]!.apiVersion, '2019-08-01');
  });

  it('health says the upstream authenticates with managed identity, without any secret', async () => {
    const res = await fetch(`${stack.url}/v1/health`);
    const text = await res.text();
    assert.equal(JSON.parse(text).upstream.auth, 'managed-identity');
    assert.ok(!text.includes(TOKEN));
  });
});
