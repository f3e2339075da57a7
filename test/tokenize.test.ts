import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isErrorShape, postJson, startStack, type Stack } from './helpers/stack.js';

/** A JSON POST through node:http: `written` once the whole body is handed to the socket, then `answered`. */
function postRaw(url: string, body: unknown, headers: Record<string, string> = {}) {
  const payload = JSON.stringify(body);
  let written!: () => void;
  const writtenPromise = new Promise<void>((resolve) => (written = resolve));
  const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.on('finish', () => written());
    req.end(payload);
  });
  return { written: writtenPromise, answered };
}

/** Real-looking text of about `chars` UTF-16 units (varied words, so no piece cache answers it all). */
const prose = (chars: number, seed = 0) => {
  const words = [
    'tokenize',
    'the',
    'Azure',
    'function',
    'answers',
    'Grüße',
    'while',
    'queues',
    'wait',
    '12345',
    'über',
    'model',
  ];
  const out: string[] = [];
  let length = 0;
  for (let i = 0; length < chars; i++) {
    const word = words[(i * 7 + seed + (i >> 3)) % words.length]! + (i % 11 === 0 ? '.\n' : ' ');
    out.push(word);
    length += word.length;
  }
  return out.join('');
};

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => stack?.stop());

describe('POST /api/v1/tokenize', () => {
  it('encodes the seed example exactly as tiktoken does', async () => {
    const res = await postJson(`${stack.url}/v1/tokenize`, { text: 'tiktoken is great!', encoding: 'cl100k_base' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { encoding: 'cl100k_base', tokens: [83, 1609, 5963, 374, 2294, 0], count: 6 });
  });

  it('chooses the encoding by model, the way tiktoken.encoding_for_model does', async () => {
    const cases: [string, string][] = [
      ['gpt-35-turbo', 'cl100k_base'],
      ['gpt-3.5-turbo', 'cl100k_base'],
      ['gpt-4', 'cl100k_base'],
      ['gpt-4o-mini', 'o200k_base'],
      ['text-davinci-003', 'p50k_base'],
      ['davinci', 'r50k_base'],
      ['text-embedding-ada-002', 'cl100k_base'],
    ];
    for (const [model, encoding] of cases) {
      const res = await postJson(`${stack.url}/v1/tokenize`, { text: 'hello world', model });
      assert.equal(res.status, 200, model);
      assert.equal(res.json.encoding, encoding, model);
    }
  });

  it('accepts gpt2 as r50k_base and defaults to cl100k_base', async () => {
    assert.equal(
      (await postJson(`${stack.url}/v1/tokenize`, { text: 'x', encoding: 'gpt2' })).json.encoding,
      'r50k_base',
    );
    assert.equal((await postJson(`${stack.url}/v1/tokenize`, { text: 'x' })).json.encoding, 'cl100k_base');
  });

  it('treats special-token text as ordinary text unless allowed', async () => {
    const plain = await postJson(`${stack.url}/v1/tokenize`, { text: '<|endoftext|>' });
    assert.ok(!plain.json.tokens.includes(100257));
    const allowed = await postJson(`${stack.url}/v1/tokenize`, { text: '<|endoftext|>', allowed_special: 'all' });
    assert.deepEqual(allowed.json.tokens, [100257]);
  });

  it('tokenizes large inputs (off the main thread) with the same ids', async () => {
    const { getEncoding } = await import('../src/tokens/encodings.js');
    const text = 'Grüße, world! '.repeat(6000) + 'a'.repeat(30_000);
    const res = await postJson(`${stack.url}/v1/tokenize`, { text, encoding: 'o200k_base' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.tokens, getEncoding('o200k_base').encode(text));
    const counted = await postJson(`${stack.url}/v1/tokenize`, { text, encoding: 'o200k_base', count_only: true });
    assert.deepEqual(counted.json, { encoding: 'o200k_base', count: res.json.count });
  });

  it('counts without returning ids when asked', async () => {
    const res = await postJson(`${stack.url}/v1/tokenize`, { text: 'tiktoken is great!', count_only: true });
    assert.deepEqual(res.json, { encoding: 'cl100k_base', count: 6 });
  });

  it("counts a chat messages array's prompt tokens (OpenAI cookbook: 3 per message, 3 to prime the reply)", async () => {
    const messages = [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Knock knock.' },
      { role: 'assistant', content: "Who's there?" },
      { role: 'user', content: 'Orange.' },
    ];
    const res = await postJson(`${stack.url}/v1/tokenize`, { messages, model: 'gpt-35-turbo' });
    assert.equal(res.status, 200);
    // tiktoken cl100k: system 1 + 6, user 1 + 4, assistant 1 + 4, user 1 + 2 → 20 content/role tokens + 4×3 framing + 3
    // priming.
    assert.deepEqual(res.json, { encoding: 'cl100k_base', count: 35 });
  });

  it('answers 400 naming the field for bad input', async () => {
    const cases: [unknown, string | null][] = [
      [{ text: 5 }, 'text'],
      [{}, 'text'],
      [{ text: 'x', encoding: 'nope' }, 'encoding'],
      [{ text: 'x', model: 'no-such-model' }, 'model'],
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
      ['{not json', null],
      ['[1,2]', null],
    ];
    for (const [body, param] of cases) {
      const res = await postJson(`${stack.url}/v1/tokenize`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(isErrorShape(res.json), res.text);
      if (param) assert.equal(res.json.error.param, param, JSON.stringify(body));
    }
  });

  it('encodes a lone surrogate as U+FFFD, like TextEncoder', async () => {
    const lone = await postJson(`${stack.url}/v1/tokenize`, '{"text":"a\\ud800b"}');
    const replaced = await postJson(`${stack.url}/v1/tokenize`, { text: 'a\uFFFDb' });
    assert.equal(lone.status, 200);
    assert.deepEqual(lone.json.tokens, replaced.json.tokens);
  });
});

describe('POST /api/v1/detokenize', () => {
  it('decodes the seed example', async () => {
    const res = await postJson(`${stack.url}/v1/detokenize`, { tokens: [83, 1609, 5963, 374, 2294, 0] });
    assert.deepEqual(res.json, { encoding: 'cl100k_base', text: 'tiktoken is great!' });
  });

  it('refuses an id outside the encoding with 400 naming its index', async () => {
    const res = await postJson(`${stack.url}/v1/detokenize`, { tokens: [83, 99_999_999] });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.param, 'tokens[1]');
  });
});

describe('host behaviour', () => {
  it('answers 404 for an unknown route and 405 with Allow for a wrong method, in the error shape', async () => {
    const missing = await fetch(`${stack.url}/v1/nothing-here`);
    assert.equal(missing.status, 404);
    assert.ok(isErrorShape(await missing.json()));
    const wrong = await fetch(`${stack.url}/v1/tokenize`, { method: 'GET' });
    assert.equal(wrong.status, 405);
    assert.match(wrong.headers.get('allow') ?? '', /POST/);
    assert.ok(isErrorShape(await wrong.json()));
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await postJson(`${stack.url}/v1/tokenize`, { text: 'a'.repeat(5 * 1024 * 1024) });
    assert.equal(res.status, 413);
    assert.ok(isErrorShape(res.json));
  });

  it('sets security headers on every response', async () => {
    const res = await fetch(`${stack.url}/v1/health`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.headers.get('content-security-policy'));
  });
});

describe('large inputs share a bounded pool of tokenizer workers (issue 14.7)', () => {
  let pool: Stack;
  before(async () => {
    pool = await startStack({ name: 'tokenize-pool', env: { TOKENIZER_WORKERS: '2' } });
  });
  after(async () => pool?.stop());

  it('answers a small request while big ones queue, before the last big one', async () => {
    // 8 bodies near the 4 MiB limit, then (once the first big one has answered, so the rest are queued or
    // running) one 72 KB text: with first-come first-served it would come back last.
    const order: string[] = [];
    const bigs = Array.from({ length: 8 }, (_, i) =>
      postJson(`${pool.url}/v1/tokenize`, { text: prose(3_800_000, i), count_only: true }).then((res) => {
        order.push(`big${i}`);
        return res;
      }),
    );
    await Promise.race(bigs);
    const small = await postJson(`${pool.url}/v1/tokenize`, { text: prose(72 * 1024, 99) });
    order.push('small');
    const results = await Promise.all(bigs);
    assert.equal(small.status, 200);
    assert.equal(small.json.tokens.length, small.json.count);
    for (const res of results) assert.equal(res.status, 200, res.text);
    assert.notEqual(order.at(-1), 'small', `small request answered last: ${order.join(' ')}`);
    assert.ok(
      order.indexOf('small') < order.length - 2,
      `small request waited for nearly every big one: ${order.join(' ')}`,
    );
  });

  it('refuses work past the queue bound with 503 and retry-after, then recovers', async () => {
    const tight = await startStack({
      name: 'tokenize-bound',
      env: { TOKENIZER_WORKERS: '1', TOKENIZER_QUEUE_MAX_CHARS: '1000000' },
    });
    try {
      // One 700K run of one letter is one slow piece of BPE work; one runs, one waits, the rest exceed the bound.
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          postJson(`${tight.url}/v1/tokenize`, { text: 'abcdef'[i]!.repeat(700_000), count_only: true }),
        ),
      );
      const refused = results.filter((r) => r.status === 503);
      const answered = results.filter((r) => r.status === 200);
      assert.ok(refused.length >= 1, `statuses: ${results.map((r) => r.status)}`);
      assert.ok(answered.length >= 2, `statuses: ${results.map((r) => r.status)}`);
      for (const res of answered) assert.equal(res.json.count > 0, true);
      for (const res of refused) {
        assert.ok(isErrorShape(res.json), res.text);
        assert.equal(res.json.error.code, 'tokenizer_busy');
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
      }
      const later = await postJson(`${tight.url}/v1/tokenize`, { text: 'z'.repeat(700_000), count_only: true });
      assert.equal(later.status, 200);
    } finally {
      await tight.stop();
    }
  });

  it('encodes large inputs in the pool with the same ids as the engine in-process', async () => {
    const { getEncoding } = await import('../src/tokens/encodings.js');
    const text = prose(300_000, 3) + 'x'.repeat(70_000) + ' <|endoftext|> done';
    for (const allowed_special of [undefined, 'all'] as const) {
      const res = await postJson(`${pool.url}/v1/tokenize`, { text, encoding: 'cl100k_base', allowed_special });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json.tokens, getEncoding('cl100k_base').encode(text, allowed_special));
      assert.equal(res.json.count, res.json.tokens.length);
    }
  });
});

describe('model routes count large prompts off the main thread (issue 14.6)', () => {
  it('keeps /health answering while a chat request with a 3 MB prompt is counted', async () => {
    // A small quota: each big request is counted, then refused with 429 before any upstream call (the attack of
    // issue 14.6), so the only work they cause in the app is the count.
    const quota = await startStack({
      azurite: true,
      simulator: true,
      name: 'tokenize-model-routes',
      env: { QUOTA_TOKENS_PER_MINUTE: '1000' },
    });
    try {
      // Prompts of one letter, the slowest text to count per byte (one long piece of BPE work): reading the body
      // takes ~50 turns of the event loop, the count seconds. Counted on the main thread, the prompt holds the
      // event loop from the end of its body to its answer, so health gets through only while the body is read
      // (~100 answers measured); off the main thread it answers all along (~1,000).
      let firstBigDone = false;
      const bigs = Array.from({ length: 1 }, (_, i) =>
        postRaw(
          `${quota.url}/v1/chat/completions`,
          { messages: [{ role: 'user', content: 'abc'[i]!.repeat(3_000_000) }] },
          { 'x-ms-client-principal-id': `u${i}` },
        ),
      );
      await Promise.all(bigs.map((b) => b.written));
      const firstAnswered = Promise.race(bigs.map((b) => b.answered)).then(() => (firstBigDone = true));
      let healthBeforeFirstBig = 0;
      while (!firstBigDone) {
        const health = await fetch(`${quota.url}/v1/health`);
        assert.equal(health.status, 200);
        await health.arrayBuffer();
        if (!firstBigDone) healthBeforeFirstBig++;
      }
      await firstAnswered;
      for (const res of await Promise.all(bigs.map((b) => b.answered))) {
        assert.equal(res.status, 429, res.text);
        assert.equal(JSON.parse(res.text).error.code, 'quota_exceeded');
      }
      assert.ok(
        healthBeforeFirstBig >= 300,
        `only ${healthBeforeFirstBig} health answers before the first big request answered`,
      );
    } finally {
      await quota.stop();
    }
  });
});
