/**
 * Reading a request body (src/http/request.ts readBodyText): it stops reading once the declared content-length is
 * in, and must still read every byte when there is no declared length, when the body comes in several chunks, or
 * when it is longer than declared (a proxy that inflated it); past the limit it is a 413 however it arrives.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpRequest } from '@azure/functions';
import { readBodyText } from '../../src/http/request.js';
import { ApiError } from '../../src/http/errors.js';

/**
 * A request whose body arrives as these chunks, with this content-length header (none when undefined); with
 * `ends: false` the stream never says it is done after them.
 */
function requestWith(chunks: (string | Uint8Array)[], contentLength?: number, ends = true) {
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next !== undefined) controller.enqueue(Buffer.from(next));
      else if (ends) controller.close();
      else return new Promise<void>(() => undefined);
    },
  });
  const headers = new Headers(contentLength === undefined ? {} : { 'content-length': String(contentLength) });
  return { request: { headers, body } as unknown as HttpRequest };
}

const bytes = (s: string) => Buffer.byteLength(s);

describe('readBodyText', () => {
  it('one chunk of the declared length: read without waiting for the end of the stream', async () => {
    const text = '{"messages":[{"role":"user","content":"Knock knock. 🚪"}]}';
    const { request } = requestWith([text], bytes(text), false);
    assert.equal(await readBodyText(request, 1_000_000), text);
  });

  it('several chunks, a character split between two of them', async () => {
    const text = '{"content":"日本語のテキスト"}';
    const raw = Buffer.from(text);
    const { request } = requestWith([raw.subarray(0, 13), raw.subarray(13, 14), raw.subarray(14)], raw.length);
    assert.equal(await readBodyText(request, 1_000_000), text);
  });

  it('no declared length: read to the end of the stream', async () => {
    const { request } = requestWith(['{"a":', '1}']);
    assert.equal(await readBodyText(request, 1_000_000), '{"a":1}');
  });

  it('a body longer than declared is read whole, never cut at the declared length', async () => {
    const { request } = requestWith(['{"a":1', ',"b":2}'], 4);
    assert.equal(await readBodyText(request, 1_000_000), '{"a":1,"b":2}');
  });

  it('past the limit: 413, declared or not', async () => {
    const big = 'x'.repeat(100);
    for (const declared of [100, undefined, 10]) {
      const { request } = requestWith([big.slice(0, 50), big.slice(50)], declared);
      await assert.rejects(readBodyText(request, 60), (e: unknown) => e instanceof ApiError && e.status === 413);
    }
  });

  it('an empty body', async () => {
    assert.equal(await readBodyText(requestWith([], 0).request, 100), '');
    assert.equal(await readBodyText(requestWith([]).request, 100), '');
  });
});
