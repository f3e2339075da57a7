/**
 * Faults the upstream tests do not cover: the table store going away and coming back, and many clients
 * leaving mid-stream. After each, the service answers normally again and nothing is half-written.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAzurite, type Azurite } from '../dev/azurite.js';
import { simRequests, simReset, startStack, type Stack } from './helpers/stack.js';

const user = { 'x-ms-client-principal-id': 'faults-user', 'content-type': 'application/json' };
let azurite: Azurite;
let stack: Stack;
const dataDir = mkdtempSync(join(tmpdir(), 'azurite-faults-'));

before(async () => {
  azurite = await startAzurite({ location: dataDir });
  stack = await startStack({
    simulator: { tokenDelayMs: 5 },
    env: { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString },
  });
});
after(async () => {
  await stack?.stop();
  await azurite?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const post = (path: string, body: unknown) =>
  fetch(`${stack.url}${path}`, { method: 'POST', headers: user, body: JSON.stringify(body) });

describe('table store unreachable', () => {
  it('answers 503 on conversation routes, keeps serving the rest, and recovers with no partial writes', async () => {
    const id = ((await (await post('/v1/conversations', {})).json()) as { id: string }).id;
    assert.equal((await post(`/v1/conversations/${id}/messages`, { content: 'before the outage' })).status, 200);

    await azurite.stop();
    const during = await post(`/v1/conversations/${id}/messages`, { content: 'during the outage' });
    assert.equal(during.status, 503);
    const error = (await during.json()) as { error: { code: string; message: string } };
    assert.equal(error.error.code, 'store_unavailable');
    assert.doesNotMatch(error.error.message, /AccountKey|127\.0\.0\.1/);
    assert.equal((await post('/v1/tokenize', { text: 'still here' })).status, 200);
    assert.equal((await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] })).status, 200);

    azurite = await startAzurite({ port: azurite.port, location: dataDir });
    const history = await fetch(`${stack.url}/v1/conversations/${id}/messages?order=asc`, { headers: user });
    assert.equal(history.status, 200);
    const messages = ((await history.json()) as { data: { content: string }[] }).data.map((m) => m.content);
    assert.deepEqual(messages.slice(0, 1), ['before the outage']);
    assert.equal(messages.length, 2, 'nothing of the failed turn was stored');
    assert.equal((await post(`/v1/conversations/${id}/messages`, { content: 'after the outage' })).status, 200);
  });
});

describe('clients leaving mid-stream', () => {
  function rssKb(pid: number): number {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  }

  it('each departure cancels its upstream request, and memory does not grow', async () => {
    const pid = stack.app.process.pid!;
    const abortMany = async (n: number) => {
      for (let i = 0; i < n; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            const controller = new AbortController();
            const res = await fetch(`${stack.url}/v1/chat/completions`, {
              method: 'POST',
              headers: user,
              body: JSON.stringify({ messages: [{ role: 'user', content: 'Count to 500' }], stream: true }),
              signal: controller.signal,
            });
            const reader = res.body!.getReader();
            await reader.read();
            controller.abort();
          }),
        );
      }
    };
    await abortMany(50); // warm up
    await new Promise((r) => setTimeout(r, 500));
    const before = rssKb(pid);
    await simReset(stack);
    await abortMany(200);
    await new Promise((r) => setTimeout(r, 1000));
    const log = await simRequests(stack);
    assert.equal(log.length, 200);
    assert.ok(
      log.every((r) => r.aborted && !r.completed),
      `${log.filter((r) => !r.aborted).length} upstream requests were not cancelled`,
    );
    const grownMb = (rssKb(pid) - before) / 1024;
    assert.ok(grownMb < 40, `RSS grew ${grownMb.toFixed(1)} MB over 200 abandoned streams`);
    assert.equal((await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] })).status, 200);
  });
});
