/** Per-user token quotas kept in Table Storage: reserved before a call, settled to real usage after. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awayFromMinuteEnd, isErrorShape, startApp, startStack, type AppProcess, type Stack } from './helpers/stack.js';

let stack: Stack;
const LIMIT = 300;
const as = (user: string) => ({ 'x-ms-client-principal-id': user, 'content-type': 'application/json' });
const chat = (url: string, user: string, body: Record<string, unknown>) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: as(user),
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Knock knock.' }], ...body }),
  });
const usage = async (url: string, user: string) => await (await fetch(`${url}/v1/usage`, { headers: as(user) })).json();

before(async () => {
  stack = await startStack({
    azurite: true,
    simulator: true,
    env: { QUOTA_TOKENS_PER_MINUTE: String(LIMIT), QUOTA_TOKENS_PER_DAY: '100000' },
  });
});
after(async () => stack?.stop());

describe('token quotas', () => {
  it('are off by default', async () => {
    const plain = await startStack({ simulator: true, name: 'quotas-off' });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await chat(plain.url, 'u', { max_tokens: 2000 })).status, 200);
      const u = await usage(plain.url, 'u');
      assert.equal(u.minute.limit, null);
      assert.equal(u.day.limit, null);
    } finally {
      await plain.stop();
    }
  });

  it('settle to the real usage, then refuse with 429 + retry-after once the minute is spent', async () => {
    await awayFromMinuteEnd(10_000);
    const first = await chat(stack.url, 'alice', { max_tokens: 50 });
    assert.equal(first.status, 200);
    const real = (await first.json()).usage.total_tokens;
    let u = await usage(stack.url, 'alice');
    assert.equal(u.minute.used, real, 'the reservation of prompt + 50 was settled to the real total');
    assert.equal(u.day.used, real);
    assert.equal(u.minute.remaining, LIMIT - real);
    let refused: Response | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const res = await chat(stack.url, 'alice', { max_tokens: 50 });
      if (res.status === 429) refused = res;
      else assert.equal(res.status, 200);
    }
    assert.ok(refused, 'the quota was enforced');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1 && Number(refused.headers.get('retry-after')) <= 60);
    const body = await refused.json();
    assert.ok(isErrorShape(body));
    assert.equal(body.error.code, 'quota_exceeded');
    u = await usage(stack.url, 'alice');
    assert.ok(u.minute.used <= LIMIT);
    // Another user has their own budget.
    assert.equal((await chat(stack.url, 'bob', { max_tokens: 50 })).status, 200);
  });

  it('counts streamed answers (the service counts them) and conversation turns', async () => {
    const res = await chat(stack.url, 'carol', {
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 20,
    });
    const text = await res.text();
    const chunks = text
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)));
    const total = chunks.at(-1).usage.total_tokens;
    assert.equal((await usage(stack.url, 'carol')).minute.used, total);
    const conv = await (
      await fetch(`${stack.url}/v1/conversations`, { method: 'POST', headers: as('carol'), body: '{}' })
    ).json();
    const turn = await (
      await fetch(`${stack.url}/v1/conversations/${conv.id}/messages`, {
        method: 'POST',
        headers: as('carol'),
        body: '{"content":"hi","max_tokens":20}',
      })
    ).json();
    assert.equal((await usage(stack.url, 'carol')).minute.used, total + turn.usage.total_tokens);
  });

  it('does not overspend under concurrency', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => chat(stack.url, 'dave', { max_tokens: 100 })));
    const ok = results.filter((r) => r.status === 200).length;
    // ~111 tokens reserved each against 300: a few fit at once (more as earlier ones settle to their real usage).
    assert.ok(ok >= 1 && ok < 12, `${ok} of 12 admitted`);
    assert.ok(results.every((r) => r.status === 200 || r.status === 429));
    assert.ok((await usage(stack.url, 'dave')).minute.used <= LIMIT);
  });

  it('is shared by every instance using the same storage', async () => {
    let second: AppProcess | undefined;
    try {
      second = await startApp(stack.env, 'quotas-second');
      assert.equal((await chat(stack.url, 'erin', { max_tokens: 50 })).status, 200);
      const seenByOther = await usage(second.url, 'erin');
      assert.equal(seenByOther.minute.used, (await usage(stack.url, 'erin')).minute.used);
      assert.ok(seenByOther.minute.used > 0);
    } finally {
      await second?.stop();
    }
  });
});
