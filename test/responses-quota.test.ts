/** Quotas charge Responses like chat: reserved before the call, settled to the usage, 429 once spent. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isErrorShape, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
const LIMIT = 300;
const as = (user: string) => ({ 'x-ms-client-principal-id': user, 'content-type': 'application/json' });
const usage = async (user: string) => await (await fetch(`${stack.url}/v1/usage`, { headers: as(user) })).json();
const respond = (user: string, body: Record<string, unknown>) =>
  fetch(`${stack.url}/v1/responses`, {
    method: 'POST',
    headers: as(user),
    body: JSON.stringify({ input: 'Knock knock.', max_output_tokens: 50, ...body }),
  });

before(async () => {
  stack = await startStack({
    azurite: true,
    simulator: true,
    env: { QUOTA_TOKENS_PER_MINUTE: String(LIMIT), QUOTA_TOKENS_PER_DAY: '100000' },
  });
});
after(async () => stack?.stop());

describe('quotas on /v1/responses', () => {
  it('a whole and a streamed response are settled to their usage; the spent minute is a 429 quota_exceeded', async () => {
    // Compared on the day window: a minute boundary between a call and the read would reset the minute's figure.
    const first = await respond('carol', {});
    assert.equal(first.status, 200);
    const real = (await first.json()).usage.total_tokens;
    assert.equal((await usage('carol')).day.used, real);
    const streamed = await respond('carol', { stream: true });
    const events = [...(await streamed.text()).matchAll(/^data: (.+)$/gm)].map((m) => JSON.parse(m[1]!));
    const done = events.at(-1);
    assert.equal(done.type, 'response.completed');
    assert.equal((await usage('carol')).day.used, real + done.response.usage.total_tokens);
    let refused: Response | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const res = await respond('carol', {});
      if (res.status === 429) refused = res;
      else assert.equal(res.status, 200);
    }
    assert.ok(refused, 'the quota was enforced');
    const body = await refused.json();
    assert.ok(isErrorShape(body));
    assert.equal(body.error.code, 'quota_exceeded');
  });
});
