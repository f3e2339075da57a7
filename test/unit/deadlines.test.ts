/**
 * Upstream deadlines on a shared clock (src/upstream/deadlines.ts): never early, fire once, cancel for good, and
 * bound the transport's waits (no headers, a stalled body) as a timer of their own did.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deadline, pendingDeadlines, SHARED_FROM_MS, TICK_MS } from '../../src/upstream/deadlines.js';
import { readText, send, TimeoutError } from '../../src/upstream/http.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with how long after setting it the deadline fired. */
const firedAfter = (ms: number) =>
  new Promise<number>((resolve) => {
    const set = performance.now();
    deadline(ms, () => resolve(performance.now() - set));
  });

describe('deadlines', () => {
  // The shared clock never keeps the process alive (an upstream socket does, where a deadline matters): here a
  // timer of the test's own does.
  let hold: NodeJS.Timeout;
  before(() => void (hold = setInterval(() => undefined, 1000)));
  after(() => clearInterval(hold));

  it('a shared deadline fires once, never before its time, within a tick after it', async () => {
    let fired = 0;
    deadline(SHARED_FROM_MS, () => fired++);
    const elapsed = await firedAfter(SHARED_FROM_MS);
    assert.ok(elapsed >= SHARED_FROM_MS, `fired after ${elapsed} ms`);
    // Generous upper bound (a loaded CI machine delays timers); what matters is that it fires at all.
    assert.ok(elapsed < SHARED_FROM_MS + TICK_MS + 2_000, `fired after ${elapsed} ms`);
    await sleep(TICK_MS * 2);
    assert.equal(fired, 1);
  });

  it('a short deadline keeps a timer of its own', async () => {
    const elapsed = await firedAfter(50);
    assert.ok(elapsed >= 49, `fired after ${elapsed} ms`); // Node's timers round to the millisecond
    assert.ok(elapsed < SHARED_FROM_MS, `fired after ${elapsed} ms: it waited for the shared tick`);
  });

  it('a cancelled deadline never fires, shared or not, and the shared clock lets go of it', async () => {
    let fired = 0;
    deadline(SHARED_FROM_MS, () => fired++).cancel();
    deadline(20, () => fired++).cancel();
    await sleep(SHARED_FROM_MS + TICK_MS * 3);
    assert.equal(fired, 0);
    assert.equal(pendingDeadlines(), 0);
  });

  it('one deadline that throws does not keep the others from firing', async () => {
    let fired = 0;
    deadline(SHARED_FROM_MS, () => {
      throw new Error('boom');
    });
    deadline(SHARED_FROM_MS, () => fired++);
    await sleep(SHARED_FROM_MS + TICK_MS * 3);
    assert.equal(fired, 1);
  });
});

describe('the transport on shared deadlines', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/silent') return; // never answers
      if (req.url === '/stall') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"partial":'); // the body never ends
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const post = (path: string, timeoutMs: number) =>
    send(new URL(`${base}${path}`), { method: 'POST', headers: {}, body: Buffer.from('{}'), timeoutMs });

  it('no headers within the deadline: a TimeoutError, not before it', async () => {
    const start = performance.now();
    await assert.rejects(post('/silent', SHARED_FROM_MS), TimeoutError);
    assert.ok(performance.now() - start >= SHARED_FROM_MS);
  });

  it('a body that stalls: a TimeoutError, not before the deadline', async () => {
    const response = await post('/stall', SHARED_FROM_MS);
    const start = performance.now();
    await assert.rejects(readText(response.body, SHARED_FROM_MS), TimeoutError);
    assert.ok(performance.now() - start >= SHARED_FROM_MS);
  });

  it('an answer within the deadline is read, and its deadlines never fire later', async () => {
    const response = await post('/ok', SHARED_FROM_MS);
    assert.equal(await readText(response.body, SHARED_FROM_MS), '{"ok":true}');
    await sleep(SHARED_FROM_MS + TICK_MS * 3);
    assert.equal(pendingDeadlines(), 0);
  });
});
