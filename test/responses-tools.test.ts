/**
 * Function calling and structured output through /v1/responses, against a small tool-emitting upstream in this
 * test (test/helpers/tool-upstream.ts) since the simulator does not emit tool calls yet. Shapes follow OpenAI's
 * function-calling guide for the Responses API (function_call → function_call_output → final text).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { startStack, type Stack } from './helpers/stack.js';
import { startToolUpstream, type ToolUpstream } from './helpers/tool-upstream.js';

let upstream: ToolUpstream;
let stack: Stack;
let client: OpenAI;
const alice = { 'x-ms-client-principal-id': 'alice-tools' };

before(async () => {
  upstream = await startToolUpstream();
  stack = await startStack({
    azurite: true,
    env: { AZURE_OPENAI_ENDPOINT: upstream.url, AZURE_OPENAI_API_KEY: 'tool-upstream-key' },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'not-needed', maxRetries: 0, defaultHeaders: alice });
});
after(async () => {
  await stack?.stop();
  await upstream?.close();
});

const weather: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather of a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
    additionalProperties: false,
  },
  strict: true,
};

describe('function calling', () => {
  it('round trip: function_call → function_call_output (by previous_response_id) → final text', async () => {
    const first = await client.responses.create({ input: 'Weather in Paris?', tools: [weather], tool_choice: 'auto' });
    const call = first.output.find((item) => item.type === 'function_call')!;
    assert.ok(call, JSON.stringify(first.output));
    assert.equal(call.name, 'get_weather');
    assert.equal(call.arguments, '{"city":"Paris"}');
    assert.equal(call.call_id, 'call_abc123');
    // The upstream got the tool in chat completions form.
    assert.deepEqual(upstream.requests.at(-1).tools, [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather of a city',
          parameters: weather.parameters,
          strict: true,
        },
      },
    ]);
    assert.equal(upstream.requests.at(-1).tool_choice, 'auto');

    const second = await client.responses.create({
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '22°C and sunny' }],
      tools: [weather],
    });
    assert.equal(second.output_text, 'The tool said: 22°C and sunny');
    const sent = upstream.requests.at(-1).messages;
    assert.deepEqual(sent, [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_abc123', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_abc123', content: '22°C and sunny' },
    ]);
  });

  it('the same round trip with the items sent by the client (store: false)', async () => {
    const first = await client.responses.create({ input: 'Weather in Paris?', tools: [weather], store: false });
    const call = first.output.find((item) => item.type === 'function_call')!;
    const second = await client.responses.create({
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        call,
        { type: 'function_call_output', call_id: call.call_id, output: 'rain' },
      ],
      tools: [weather],
      store: false,
    });
    assert.equal(second.output_text, 'The tool said: rain');
  });

  it('streams a function call as function_call_arguments events', async () => {
    const stream = client.responses.stream({ input: 'Weather in Paris?', tools: [weather] });
    const deltas: string[] = [];
    const types = new Set<string>();
    for await (const event of stream) {
      types.add(event.type);
      if (event.type === 'response.function_call_arguments.delta') deltas.push(event.delta);
    }
    const final = await stream.finalResponse();
    assert.equal(deltas.join(''), '{"city":"Paris"}');
    assert.ok(
      types.has('response.function_call_arguments.done') &&
        types.has('response.output_item.done') &&
        types.has('response.completed'),
    );
    const call = final.output.find((item) => item.type === 'function_call')!;
    assert.deepEqual([call.name, call.arguments, call.status], ['get_weather', '{"city":"Paris"}', 'completed']);
  });
});

describe('text.format', () => {
  it('json_schema: responses.parse with zodTextFormat gives the parsed object; the upstream got response_format', async () => {
    const Event = z.object({ name: z.string(), date: z.string(), participants: z.array(z.string()) });
    const response = await client.responses.parse({
      input: 'Alice and Bob go to a fair on Friday.',
      text: { format: zodTextFormat(Event, 'event') },
    });
    assert.deepEqual(response.output_parsed, { name: 'sample', date: 'sample', participants: ['sample'] });
    const format = upstream.requests.at(-1).response_format;
    assert.equal(format.type, 'json_schema');
    assert.equal(format.json_schema.name, 'event');
    assert.equal(format.json_schema.strict, true);
    assert.deepEqual(Object.keys(format.json_schema.schema.properties), ['name', 'date', 'participants']);
    assert.deepEqual((await client.responses.retrieve(response.id)).text, {
      format: { type: 'json_schema', name: 'event', schema: format.json_schema.schema, strict: true },
    });
  });

  it('json_object is passed on as response_format json_object', async () => {
    await client.responses.create({ input: 'Answer in JSON.', text: { format: { type: 'json_object' } } });
    assert.deepEqual(upstream.requests.at(-1).response_format, { type: 'json_object' });
  });
});
