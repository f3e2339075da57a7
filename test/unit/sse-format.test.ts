import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSse, sseResponse, type SseEvent } from '../../src/http/sse.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function readAll(body: ReadableStream<Uint8Array>): Promise<string> {
  let out = '';
  for await (const chunk of body) out += text(chunk);
  return out;
}

describe('formatSse', () => {
  // The wire format of OpenAI's streams: `data: <json>\n\n`, ending with `data: [DONE]\n\n` (WHATWG SSE).
  it('sends a string as-is and anything else as JSON', () => {
    assert.equal(text(formatSse({ data: '[DONE]' })), 'data: [DONE]\n\n');
    assert.equal(text(formatSse({ data: { a: 1, b: 'x\ny' } })), 'data: {"a":1,"b":"x\\ny"}\n\n');
    assert.equal(text(formatSse({ data: null })), 'data: null\n\n');
    assert.equal(text(formatSse({ data: 0 })), 'data: 0\n\n');
  });

  it('puts a named event on its own line before the data', () => {
    assert.equal(
      text(formatSse({ event: 'response.created', data: { id: 'r' } })),
      'event: response.created\ndata: {"id":"r"}\n\n',
    );
    assert.equal(text(formatSse({ event: '', data: 'x' })), 'data: x\n\n');
  });

  it('encodes UTF-8', () => {
    assert.deepEqual([...formatSse({ data: 'é' })], [...Buffer.from('data: é\n\n')]);
  });
});

describe('sseResponse', () => {
  it('answers 200 with the event-stream headers, caller headers last', () => {
    async function* none(): AsyncGenerator<SseEvent, void, undefined> {}
    const response = sseResponse(none(), { 'x-request-id': 'abc', 'cache-control': 'no-store' });
    assert.equal(response.status, 200);
    assert.deepEqual(response.headers, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      'x-request-id': 'abc',
    });
  });

  it('streams every event in order and closes after the last', async () => {
    async function* events(): AsyncGenerator<SseEvent, void, undefined> {
      yield { data: { n: 1 } };
      yield { event: 'e', data: 'two' };
      yield { data: '[DONE]' };
    }
    const body = sseResponse(events()).body as ReadableStream<Uint8Array>;
    assert.equal(await readAll(body), 'data: {"n":1}\n\nevent: e\ndata: two\n\ndata: [DONE]\n\n');
  });

  it('errors the body when the events throw', async () => {
    async function* events(): AsyncGenerator<SseEvent, void, undefined> {
      yield { data: 'first' };
      throw new Error('upstream broke');
    }
    const reader = (sseResponse(events()).body as ReadableStream<Uint8Array>).getReader();
    assert.equal(text((await reader.read()).value!), 'data: first\n\n');
    await assert.rejects(reader.read(), /upstream broke/);
  });

  it("runs the generator's cleanup when the client cancels", async () => {
    let cleanedUp = false;
    let produced = 0;
    async function* events(): AsyncGenerator<SseEvent, void, undefined> {
      try {
        for (;;) yield { data: { n: ++produced } };
      } finally {
        cleanedUp = true;
      }
    }
    const reader = (sseResponse(events()).body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    assert.equal(cleanedUp, true);
    assert.ok(produced <= 2, `kept producing after cancel: ${produced}`);
  });
});
