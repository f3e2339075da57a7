/**
 * The Vercel AI SDK (`ai` + `@ai-sdk/openai`) against /v1/responses: its default `openai(model)` speaks the
 * Responses API (https://ai-sdk.dev/providers/ai-sdk-providers/openai). Against Azurite and the simulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import { simFault, simRequests, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
let openai: ReturnType<typeof createOpenAI>;
const alice = { 'x-ms-client-principal-id': 'alice-ai-sdk' };

before(async () => {
  stack = await startStack({ azurite: true, simulator: true, env: { UPSTREAM_RETRY_DEADLINE_MS: '2000' } });
  openai = createOpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'not-needed', headers: alice });
});
after(async () => stack?.stop());

describe('AI SDK', () => {
  it('generateText with the default openai(model) gets the answer and a stored response id', async () => {
    const result = await generateText({
      model: openai('gpt-4o-mini'),
      prompt: 'Knock knock.',
      temperature: 0,
      maxRetries: 0,
    });
    assert.equal(result.text, "Who's there?");
    assert.ok(result.usage.inputTokens! > 0 && result.usage.outputTokens! > 0);
    const id = result.providerMetadata?.openai?.responseId as string;
    assert.match(id, /^resp_/);
    const stored = await fetch(`${stack.url}/v1/responses/${id}`, { headers: alice }).then((r) => r.json());
    assert.equal(stored.output[0].content[0].text, "Who's there?");
  });

  it('streamText streams the text', async () => {
    const result = streamText({ model: openai('gpt-4o-mini'), prompt: 'Knock knock.', temperature: 0, maxRetries: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    assert.equal(text, "Who's there?");
    assert.equal(await result.finishReason, 'stop');
  });

  it('providerOptions.openai.previousResponseId continues the stored chain', async () => {
    const first = await generateText({
      model: openai('gpt-4o-mini'),
      prompt: 'Knock knock.',
      temperature: 0,
      maxRetries: 0,
    });
    await generateText({
      model: openai('gpt-4o-mini'),
      prompt: 'Orange.',
      maxRetries: 0,
      providerOptions: { openai: { previousResponseId: first.providerMetadata!.openai!.responseId } },
    });
    const sent = ((await simRequests(stack)).at(-1)!.body as any).messages;
    assert.deepEqual(
      sent.map((m: any) => [m.role, m.content]),
      [
        ['user', 'Knock knock.'],
        ['assistant', "Who's there?"],
        ['user', 'Orange.'],
      ],
    );
  });

  it('a multi-turn message history (stored assistant turns sent as item_reference) answers', async () => {
    const first = await generateText({
      model: openai('gpt-4o-mini'),
      prompt: 'Knock knock.',
      temperature: 0,
      maxRetries: 0,
    });
    const second = await generateText({
      model: openai('gpt-4o-mini'),
      messages: [
        { role: 'user', content: 'Knock knock.' },
        ...first.response.messages,
        { role: 'user', content: 'Orange.' },
      ],
      maxRetries: 0,
    });
    assert.ok(second.text.length > 0);
    const log = await simRequests(stack);
    assert.deepEqual(
      (log.at(-1)!.body as any).messages.map((m: any) => m.content),
      ['Knock knock.', "Who's there?", 'Orange.'],
    );
  });

  it('a broken upstream stream is an error part, not a silently short text', async () => {
    await simFault(stack, { kind: 'cut', afterChunks: 2 });
    const result = streamText({
      model: openai('gpt-4o-mini'),
      prompt: 'Tell me a long story about a fox.',
      maxRetries: 0,
      onError: () => {},
    });
    const parts: string[] = [];
    for await (const part of result.fullStream) parts.push(part.type);
    assert.ok(parts.includes('error'), parts.join(','));
  });
});
