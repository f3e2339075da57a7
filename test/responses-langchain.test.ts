/** LangChain's ChatOpenAI on the Responses API (`useResponsesApi: true`) against this service and the simulator. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatOpenAI } from '@langchain/openai';
import { simRequests, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
before(async () => {
  stack = await startStack({ azurite: true, simulator: true });
});
after(async () => stack?.stop());

describe('LangChain ChatOpenAI with useResponsesApi', () => {
  it('invoke and stream go through /v1/responses', async () => {
    const chat = new ChatOpenAI({
      model: 'gpt-4o-mini',
      apiKey: 'not-needed',
      temperature: 0,
      maxRetries: 0,
      useResponsesApi: true,
      configuration: { baseURL: `${stack.url}/v1`, defaultHeaders: { 'x-ms-client-principal-id': 'alice-langchain' } },
    });
    const before = (await simRequests(stack)).length;
    const answer = await chat.invoke([
      ['system', 'Be brief.'],
      ['human', 'Knock knock.'],
    ]);
    assert.equal(answer.text, "Who's there?");
    // A Responses API answer (chat completions ids are chatcmpl-…), stored for the caller.
    const id = (answer.response_metadata as { id?: string }).id ?? answer.id;
    assert.match(String(id), /^resp_/);
    const stored = await fetch(`${stack.url}/v1/responses/${id}`, {
      headers: { 'x-ms-client-principal-id': 'alice-langchain' },
    });
    assert.equal(stored.status, 200);
    let streamed = '';
    for await (const chunk of await chat.stream('Knock knock.')) streamed += chunk.text;
    assert.equal(streamed, "Who's there?");
    const log = (await simRequests(stack)).slice(before);
    assert.equal(log.length, 2);
    assert.deepEqual(
      (log[0]!.body as any).messages.map((m: any) => m.role),
      ['system', 'user'],
    );
  });
});
