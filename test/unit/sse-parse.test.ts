import assert from 'node:assert/strict';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ConnectionError, TimeoutError } from '../../src/upstream/http.js';
import { sseData } from '../../src/upstream/sse.js';

/**
 * A stand-in for an upstream response body: the chunks arrive in order (a number is a pause of that many ms), then the
 * body ends cleanly (`complete`), breaks off (`ends: 'early'`), fails (`ends: Error`) or stays silent
 * (`ends: 'silent'`). Like an IncomingMessage, `destroy(error)` fails a pending read, and every later one, with that
 * error.
 */
function body(chunks: (string | Uint8Array | number)[], ends: 'clean' | 'early' | 'silent' | Error = 'clean') {
  let fail: ((error: Error) => void) | undefined;
  const fake = {
    complete: false,
    destroyed: false,
    destroyedWith: undefined as Error | undefined,
    destroy(error?: Error) {
      fake.destroyed = true;
      fake.destroyedWith ??= error;
      if (error) fail?.(error);
    },
    async *[Symbol.asyncIterator]() {
      for (const chunk of chunks) {
        if (typeof chunk === 'number')
          await new Promise((resolve, reject) => {
            fail = reject;
            setTimeout(resolve, chunk);
          });
        else if (fake.destroyedWith) throw fake.destroyedWith;
        else yield Buffer.from(chunk);
      }
      if (ends instanceof Error) throw ends;
      if (ends === 'silent') await new Promise((_, reject) => (fail = reject));
      if (ends === 'clean') fake.complete = true;
    },
  };
  return fake;
}
const asBody = (fake: ReturnType<typeof body>) => fake as unknown as IncomingMessage;

async function collect(fake: ReturnType<typeof body>, idleMs = 5_000): Promise<string[]> {
  const out: string[] = [];
  for await (const data of sseData(asBody(fake), idleMs)) out.push(data);
  return out;
}

describe('sseData', () => {
  // Event-stream parsing after the WHATWG HTML spec, §9.2 "Server-sent events".
  it('yields each data payload and stops at [DONE]', async () => {
    const fake = body(['data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\ndata: {"after":"done"}\n\n']);
    assert.deepEqual(await collect(fake), ['{"a":1}', '{"b":2}']);
  });

  it('reassembles lines and UTF-8 characters split across chunks', async () => {
    const bytes = Buffer.from('data: {"t":"héllo \u{1F600}"}\n\ndata: [DONE]\n\n');
    const chunks = [...bytes].map((b) => Uint8Array.of(b));
    assert.deepEqual(await collect(body(chunks)), ['{"t":"héllo \u{1F600}"}']);
  });

  it('accepts CRLF line ends and data without the space', async () => {
    assert.deepEqual(await collect(body(['data:x\r\n\r\ndata:  two spaces\r\n\r\n'])), ['x', ' two spaces']);
  });

  it('joins the data lines of one event with newlines', async () => {
    assert.deepEqual(await collect(body(['data: a\ndata: b\n\ndata: c\n\n'])), ['a\nb', 'c']);
  });

  it('skips comments, event names, ids, retry hints and empty events', async () => {
    const text = ': keep-alive\n\nevent: ping\nid: 7\nretry: 100\n\n\n\ndata: real\n\n';
    assert.deepEqual(await collect(body([text])), ['real']);
  });

  // The spec drops an event the body ends inside; the parser keeps a complete last line rather than lose an answer.
  it('yields a last event that the body ended without a blank line after', async () => {
    assert.deepEqual(await collect(body(['data: one\n\ndata: last\n'])), ['one', 'last']);
    assert.deepEqual(await collect(body(['data: one\n\ndata: [DONE]\n'])), ['one']);
  });

  it('throws ConnectionError when the body closes before it ended, after what came', async () => {
    const out: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const data of sseData(asBody(body(['data: 1\n\ndata: 2'], 'early')), 5_000)) out.push(data);
      })(),
      (error: unknown) => error instanceof ConnectionError && error.message === 'stream closed before it ended',
    );
    assert.deepEqual(out, ['1']);
  });

  it('throws ConnectionError with the cause when the body fails', async () => {
    const fake = body(['data: 1\n\n'], new Error('socket hang up'));
    await assert.rejects(
      collect(fake),
      (error: unknown) => error instanceof ConnectionError && error.message === 'socket hang up',
    );
    assert.equal(fake.destroyed, true);
  });

  it('throws TimeoutError when the body stays silent longer than the idle limit', async () => {
    const fake = body(['data: 1\n\n'], 'silent');
    await assert.rejects(
      collect(fake, 30),
      (error: unknown) => error instanceof TimeoutError && error.message === 'stream idle for 30 ms',
    );
    assert.equal(fake.destroyed, true);
  });

  it('releases the upstream body when the reader stops early, and not after a clean end', async () => {
    const early = body(['data: 1\n\ndata: 2\n\n'], 'silent');
    for await (const data of sseData(asBody(early), 5_000)) {
      assert.equal(data, '1');
      break;
    }
    assert.equal(early.destroyed, true);
    const clean = body(['data: 1\n\n']);
    await collect(clean);
    assert.equal(clean.destroyed, false);
  });
  it('counts silence from each wait for the next chunk: gaps under the limit never time out, however many', async () => {
    const chunks = ['data: 0\n\n', ...Array.from({ length: 6 }, (_, i) => [20, `data: ${i + 1}\n\n`]).flat()];
    assert.deepEqual(await collect(body(chunks), 60), ['0', '1', '2', '3', '4', '5', '6']);
  });

  it('does not count the time the consumer spends with a payload (a slow client) as silence', async () => {
    const out: string[] = [];
    for await (const data of sseData(asBody(body(['data: 1\n\n', 'data: 2\n\n'])), 30)) {
      out.push(data);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    assert.deepEqual(out, ['1', '2']);
  });

  // Node's own IncomingMessage: destroying it with an error is what ends the wait for a silent upstream.
  it('times out a real upstream response that goes silent, and closes its connection', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
    const server = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {"a":1}\n\n');
      response.on('close', () => closed());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const upstream = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get({ host: '127.0.0.1', port, path: '/' }, resolve).on('error', reject),
      );
      const out: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const data of sseData(upstream, 80)) out.push(data);
        })(),
        (error: unknown) => error instanceof TimeoutError && error.message === 'stream idle for 80 ms',
      );
      assert.deepEqual(out, ['{"a":1}']);
      await serverSawClose;
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
