/**
 * Completions accept OpenAI's four `prompt` forms (issue 15): a string, an array of strings, an array of token ids,
 * and an array of token-id arrays (https://platform.openai.com/docs/api-reference/completions/create, `prompt`).
 * Quotas count a token array by its length and every prompt of an array.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isErrorShape, postJson, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({ azurite: true, simulator: true, env: { QUOTA_TOKENS_PER_MINUTE: '1000000' } });
});
after(async () => stack?.stop());

const tokensOf = async (text: string): Promise<number[]> =>
  (await postJson(`${stack.url}/v1/tokenize`, { model: 'gpt-35-turbo-instruct', text })).json.tokens;

describe('completions prompt forms', () => {
  it('answers each form with a choice per prompt, and charges the quota what the upstream counted', async () => {
    const [one, two] = [await tokensOf('1, 2, 3, 4,'), await tokensOf('a, b, c,')];
    const forms: [string, unknown, number, number][] = [
      ['string', '1, 2, 3, 4,', 1, one.length],
      ['array of strings', ['1, 2, 3, 4,', 'a, b, c,'], 2, one.length + two.length],
      ['array of token ids', one, 1, one.length],
      ['array of token-id arrays', [one, two], 2, one.length + two.length],
    ];
    let charged = 0;
    for (const [name, prompt, choices, promptTokens] of forms) {
      for (const stream of [false, true]) {
        const user = { 'x-ms-client-principal-id': `prompt-forms-${name.replace(/\W/g, '-')}-${stream}` };
        const res = await postJson(
          `${stack.url}/v1/completions`,
          {
            prompt,
            max_tokens: 5,
            temperature: 0,
            stream,
            stream_options: stream ? { include_usage: true } : undefined,
          },
          user,
        );
        assert.equal(res.status, 200, `${name}: ${res.text.slice(0, 200)}`);
        let usage: { prompt_tokens: number; total_tokens: number };
        if (stream) {
          const events = res.text
            .split('\n\n')
            .filter((e) => e.startsWith('data: {'))
            .map((e) => JSON.parse(e.slice(6)));
          assert.equal(new Set(events.flatMap((e) => e.choices.map((c: any) => c.index))).size, choices, name);
          usage = events.at(-1).usage;
        } else {
          assert.equal(res.json.choices.length, choices, name);
          usage = res.json.usage;
        }
        assert.equal(usage.prompt_tokens, promptTokens, `${name}: a token array counts as its length`);
        const used = (await (await fetch(`${stack.url}/v1/usage`, { headers: user })).json()).minute.used;
        assert.equal(used, usage.total_tokens, `${name} (stream ${stream}): the quota is charged the answer's usage`);
        charged += used;
      }
    }
    assert.ok(charged > 0);
    // The continuation of the token prompt is the continuation of its text.
    const text = await postJson(`${stack.url}/v1/completions`, {
      prompt: '1, 2, 3, 4,',
      max_tokens: 5,
      temperature: 0,
    });
    const ids = await postJson(`${stack.url}/v1/completions`, { prompt: one, max_tokens: 5, temperature: 0 });
    assert.equal(ids.json.choices[0].text, text.json.choices[0].text);
  });

  it('refuses what OpenAI refuses: empty, mixed, negative or fractional ids, ids outside the vocabulary', async () => {
    for (const prompt of [[], [[]], ['a', [1]], [1, 'a'], [-1], [1.5], [[1], 'a']]) {
      const res = await postJson(`${stack.url}/v1/completions`, { prompt, max_tokens: 5 });
      assert.equal(res.status, 400, JSON.stringify(prompt));
      assert.ok(isErrorShape(res.json));
      assert.match(res.json.error.param ?? '', /^prompt/);
    }
    const outside = await postJson(`${stack.url}/v1/completions`, { prompt: [10_000_000], max_tokens: 5 });
    assert.equal(outside.status, 400, outside.text);
    assert.ok(isErrorShape(outside.json));
  });
});
