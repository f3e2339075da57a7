import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConnectionError, send } from '../../src/upstream/http.js';

/**
 * A failed call says whether the whole request had left first: a caller who leaves after that is charged its prompt
 * (the model may have read it), one whose request never left is not (src/services/model-call.ts).
 */
describe('send: whether a failed request had been delivered', () => {
  let server: http.Server;
  let url: URL;
  const received: string[] = [];
  let arrived: (() => void) | undefined;

  before(async () => {
    server = http.createServer((request, _response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push(body);
        arrived?.();
        if (body.includes('hang up')) request.socket.destroy(); // else never answers
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/chat`);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (signal: AbortSignal, body: string) =>
    send(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal, timeoutMs: 5_000 });

  it('after the upstream has the whole request: delivered', async () => {
    const controller = new AbortController();
    const there = new Promise<void>((resolve) => (arrived = resolve));
    const pending = post(controller.signal, '{"n":1}');
    await there;
    controller.abort();
    await assert.rejects(pending, (error: unknown) => error instanceof ConnectionError && error.delivered);
    assert.ok(received.includes('{"n":1}'));
  });

  it('while the connection is still being made: not delivered, and the upstream never sees it', async () => {
    const controller = new AbortController();
    const pending = post(controller.signal, '{"n":2}');
    controller.abort(); // the same turn of the event loop: no connection yet
    await assert.rejects(pending, (error: unknown) => error instanceof ConnectionError && !error.delivered);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(!received.includes('{"n":2}'));
  });
  it('the upstream hangs up after reading it: delivered', async () => {
    const pending = post(new AbortController().signal, '{"n":3,"hang up":true}');
    await assert.rejects(pending, (error: unknown) => error instanceof ConnectionError && error.delivered);
  });

  it('nothing listens at the address: not delivered', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const pending = send(new URL(`http://127.0.0.1:${port}/chat`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"n":4}',
      timeoutMs: 5_000,
    });
    await assert.rejects(pending, (error: unknown) => error instanceof ConnectionError && !error.delivered);
  });
});
