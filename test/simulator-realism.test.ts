/**
 * The simulator produces what real Azure OpenAI deployments produce — tool calls, structured outputs, logprobs,
 * context-window errors, model listings — both through this API (official `openai` client against the app) and
 * alone through the `openai` package's `AzureOpenAI` class. Shapes follow the Azure OpenAI data-plane spec,
 * Azure/azure-rest-api-specs specification/cognitiveservices/data-plane/AzureOpenAI/inference/stable/2024-10-21/
 * inference.json at commit 132b90d1f06386034a6c2b34e903dbd3b03f9806.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import OpenAI, { AzureOpenAI } from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { startSimulator, type Simulator } from '../dev/simulator/server.js';
import { startStack, type Stack } from './helpers/stack.js';

const ajv = new Ajv2020({ strict: false, validateSchema: false });
/** Validates with ajv; the `$schema` zod writes (draft-07) is dropped so one validator reads every schema. */
function assertValid(schema: Record<string, unknown>, value: unknown) {
  const { $schema: _ignored, ...rest } = schema;
  const validate = ajv.compile(rest);
  assert.ok(validate(value), `${JSON.stringify(value)} does not match: ${ajv.errorsText(validate.errors)}`);
}

const weather = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city', 'unit'],
  additionalProperties: false,
};
const tools: ChatCompletionFunctionTool[] = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'Current weather for a city', parameters: weather, strict: true },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      description: 'Local time in a timezone',
      parameters: {
        type: 'object',
        properties: { timezone: { type: 'string' }, hours_ahead: { type: 'integer', minimum: 0, maximum: 48 } },
        required: ['timezone'],
      },
    },
  },
];
const parametersOf = (name: string) =>
  (tools.find((t) => t.function.name === name)!.function.parameters ?? {}) as Record<string, unknown>;

/** A schema in OpenAI's strict subset with $defs/$ref, anyOf, nullable, enums, nested arrays. */
const recipeSchema = {
  type: 'object',
  properties: {
    title: { type: 'string' },
    servings: { type: 'integer', minimum: 1, maximum: 12 },
    difficulty: { type: 'string', enum: ['easy', 'medium', 'hard'] },
    notes: { type: ['string', 'null'] },
    steps: { type: 'array', items: { $ref: '#/$defs/step' } },
    source: { anyOf: [{ $ref: '#/$defs/link' }, { type: 'null' }] },
  },
  required: ['title', 'servings', 'difficulty', 'notes', 'steps', 'source'],
  additionalProperties: false,
  $defs: {
    step: {
      type: 'object',
      properties: {
        text: { type: 'string' },
        minutes: { type: 'number' },
        substeps: { type: 'array', items: { $ref: '#/$defs/step' } },
      },
      required: ['text', 'minutes', 'substeps'],
      additionalProperties: false,
    },
    link: {
      type: 'object',
      properties: { url: { type: 'string' }, trusted: { type: 'boolean' } },
      required: ['url', 'trusted'],
      additionalProperties: false,
    },
  },
};

/** Keys whose value the 2024-10-21 spec allows to be null; any other null (e.g. a string-typed key) is a defect. */
const NULLABLE = new Set([
  'content',
  'refusal',
  'logprobs',
  'finish_reason',
  'usage',
  'bytes',
  'token_logprobs',
  'top_logprobs',
  'function_call',
  'notes',
  'source',
]);
function assertNoStrayNull(value: unknown, path = '$') {
  if (Array.isArray(value))
    return value.forEach((v, i) =>
      v === null ? assert.ok(/logprobs$/.test(path), `${path}[${i}] is null`) : assertNoStrayNull(v, `${path}[${i}]`),
    );
  if (typeof value !== 'object' || value === null) return;
  for (const [key, v] of Object.entries(value)) {
    if (v === null) assert.ok(NULLABLE.has(key), `${path}.${key} is null where the spec does not allow it`);
    else assertNoStrayNull(v, `${path}.${key}`);
  }
}

describe('simulator alone, through AzureOpenAI', () => {
  let sim: Simulator;
  const client = (deployment?: string) =>
    new AzureOpenAI({
      endpoint: sim.url,
      apiKey: 'k',
      apiVersion: '2024-10-21',
      maxRetries: 0,
      ...(deployment ? { deployment } : {}),
    });
  const raw = (path: string, body?: unknown) =>
    fetch(`${sim.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'api-key': 'k' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  before(async () => {
    sim = await startSimulator();
  });
  after(async () => sim?.close());

  it('auto tool choice: calls every tool the user names, with arguments valid against each schema', async () => {
    const res = await client('gpt-4o-mini').chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'What is the weather in Paris, and the local time there?' }],
      tools,
    });
    const choice = res.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    const calls = choice.message.tool_calls!.filter((c) => c.type === 'function');
    assert.deepEqual(
      calls.map((c) => c.function.name),
      ['get_weather', 'get_time'],
    );
    for (const call of calls) {
      assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
      assertValid(parametersOf(call.function.name), JSON.parse(call.function.arguments));
    }
    assert.equal(JSON.parse(calls[0]!.function.arguments).city, 'Paris', "the string is drawn from the user's words");
    assertNoStrayNull(res);
  });

  it('parallel_tool_calls false makes one call; no mention answers in text; none never calls', async () => {
    const one = await client('gpt-4o-mini').chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'Weather and time in Oslo?' }],
      tools,
      parallel_tool_calls: false,
    });
    assert.equal(one.choices[0]!.message.tool_calls!.length, 1);
    const text = await client('gpt-4o-mini').chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'Knock knock.' }],
      tools,
    });
    assert.equal(text.choices[0]!.finish_reason, 'stop');
    assert.equal(text.choices[0]!.message.content, "Who's there?");
    const none = await client('gpt-4o-mini').chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools,
      tool_choice: 'none',
    });
    assert.equal(none.choices[0]!.finish_reason, 'stop');
  });

  it('required and named tool_choice always call; the same request gives the same arguments', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Hello there' }];
    const required = await client('gpt-4o').chat.completions.create({
      model: '',
      messages,
      tools,
      tool_choice: 'required',
    });
    assert.equal(
      required.choices[0]!.message.tool_calls![0]!.type === 'function' &&
        required.choices[0]!.message.tool_calls![0]!.function.name,
      'get_weather',
    );
    const named = () =>
      client('gpt-4o').chat.completions.create({
        model: '',
        messages,
        tools,
        tool_choice: { type: 'function', function: { name: 'get_time' } },
      });
    const [a, b] = [await named(), await named()];
    const call = a.choices[0]!.message.tool_calls![0]!;
    assert.ok(call.type === 'function' && call.function.name === 'get_time');
    assert.deepEqual(a.choices[0]!.message.tool_calls, b.choices[0]!.message.tool_calls);
    const unknown = await raw('/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21', {
      messages,
      tools,
      tool_choice: { type: 'function', function: { name: 'nope' } },
    });
    assert.equal(unknown.status, 400);
    assert.equal((await unknown.json()).error.param, 'tool_choice');
  });

  it('streams tool calls as Azure does: index, id, type and name first, then argument fragments', async () => {
    const stream = await client('gpt-4o-mini').chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'What is the weather in Lisbon and the time?' }],
      tools,
      stream: true,
    });
    const calls: { id?: string; name?: string; args: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      finish = choice.finish_reason ?? finish;
      for (const delta of choice.delta.tool_calls ?? []) {
        if (!calls[delta.index]) {
          assert.ok(
            delta.id && delta.type === 'function' && delta.function?.name,
            'the first delta of a call names it',
          );
          calls[delta.index] = { id: delta.id, name: delta.function.name, args: delta.function.arguments ?? '' };
        } else {
          assert.equal(delta.id, undefined);
          calls[delta.index]!.args += delta.function?.arguments ?? '';
        }
      }
    }
    assert.equal(finish, 'tool_calls');
    assert.deepEqual(
      calls.map((c) => c.name),
      ['get_weather', 'get_time'],
    );
    for (const call of calls) assertValid(parametersOf(call.name!), JSON.parse(call.args));
  });

  it('answers with the tool results once they are in', async () => {
    const res = await client('gpt-4o-mini').chat.completions.create({
      model: '',
      tools,
      messages: [
        { role: 'user', content: 'Weather in Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Rome","unit":"celsius"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temperature":21,"sky":"clear"}' },
      ],
    });
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    assert.match(res.choices[0]!.message.content!, /get_weather returned: \{"temperature":21,"sky":"clear"\}/);
  });

  it('legacy functions/function_call answer with function_call', async () => {
    const res = await raw('/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21', {
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      functions: [tools[0]!.function],
      function_call: { name: 'get_weather' },
    });
    const body = await res.json();
    assert.equal(body.choices[0].finish_reason, 'function_call');
    assert.equal(body.choices[0].message.function_call.name, 'get_weather');
    assertValid(weather, JSON.parse(body.choices[0].message.function_call.arguments));
  });

  it('json_schema output validates against the schema; refusal is null; a non-strict-subset schema is a 400', async () => {
    const res = await client('gpt-4o').chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'A recipe for "Lemon Pasta" for 4 people' }],
      response_format: { type: 'json_schema', json_schema: { name: 'recipe', strict: true, schema: recipeSchema } },
    });
    const message = res.choices[0]!.message;
    assert.equal(message.refusal, null);
    const recipe = JSON.parse(message.content!);
    assertValid(recipeSchema, recipe);
    assert.equal(recipe.title, 'Lemon Pasta');
    assert.equal(recipe.servings, 4);
    const loose = { type: 'object', properties: { a: { type: 'string' } } };
    await assert.rejects(
      client('gpt-4o').chat.completions.create({
        model: '',
        messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'json_schema', json_schema: { name: 'loose', strict: true, schema: loose } },
      }),
      (error: any) =>
        error.status === 400 && error.param === 'response_format' && /additionalProperties/.test(error.message),
    );
  });

  it('json_object gives a JSON object, and needs the word JSON in the messages as on Azure', async () => {
    const res = await client('gpt-4o-mini').chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'Describe a cat as JSON.' }],
      response_format: { type: 'json_object' },
    });
    const parsed = JSON.parse(res.choices[0]!.message.content!);
    assert.ok(parsed && typeof parsed === 'object' && !Array.isArray(parsed));
    await assert.rejects(
      client('gpt-4o-mini').chat.completions.create({
        model: '',
        messages: [{ role: 'user', content: 'Describe a cat.' }],
        response_format: { type: 'json_object' },
      }),
      (error: any) => error.status === 400 && error.param === 'messages',
    );
  });

  it('chat logprobs: tokenizer tokens, UTF-8 bytes, logprob ≤ 0, top_logprobs most likely first', async () => {
    const res = await client('gpt-4o-mini').chat.completions.create({
      model: '',
      logprobs: true,
      top_logprobs: 3,
      messages: [
        { role: 'user', content: '天气?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '晴天 22°C' },
      ],
    });
    const { content, logprobs } = { content: res.choices[0]!.message.content!, logprobs: res.choices[0]!.logprobs! };
    assert.equal(logprobs.refusal, null);
    const entries = logprobs.content!;
    assert.equal(Buffer.from(entries.flatMap((e) => e.bytes!)).toString('utf8'), content, 'the bytes rebuild the text');
    for (const e of entries) {
      assert.ok(e.logprob <= 0);
      assert.ok(e.top_logprobs.length >= 1 && e.top_logprobs.length <= 3);
      assert.equal(e.top_logprobs[0]!.token, e.token);
      for (let i = 1; i < e.top_logprobs.length; i++)
        assert.ok(e.top_logprobs[i]!.logprob <= e.top_logprobs[i - 1]!.logprob);
      if (!e.token.startsWith('\\x')) assert.deepEqual(e.bytes, [...Buffer.from(e.token)]);
    }
    assert.ok(
      entries.some((e) => e.token.startsWith('\\x')),
      'a token holding part of a character shows its bytes',
    );
    const bad = await raw('/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21', {
      messages: [{ role: 'user', content: 'hi' }],
      top_logprobs: 2,
    });
    assert.equal(bad.status, 400);
  });

  it('completions honour logprobs, echo and suffix', async () => {
    const c = client('gpt-35-turbo-instruct');
    const res = await c.completions.create({
      model: '',
      prompt: 'Once upon a time',
      max_tokens: 8,
      logprobs: 2,
      echo: true,
      temperature: 0,
    });
    const choice = res.choices[0]!;
    assert.ok(choice.text.startsWith('Once upon a time'));
    const lp = choice.logprobs!;
    assert.equal(lp.tokens!.join(''), choice.text);
    assert.equal(lp.token_logprobs![0], null, 'the first echoed token has no logprob');
    assert.ok(lp.token_logprobs!.slice(1).every((x) => x <= 0));
    assert.ok(lp.top_logprobs!.slice(1).every((t) => Object.keys(t).length <= 3));
    assert.deepEqual(lp.text_offset!.slice(0, 2), [0, 'Once'.length]);
    assert.equal(res.usage!.completion_tokens, 8);
    const plain = await c.completions.create({ model: '', prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
    const withSuffix = await c.completions.create({
      model: '',
      prompt: 'Once upon a time',
      suffix: ' The end.',
      max_tokens: 8,
      temperature: 0,
    });
    assert.equal(choice.text, 'Once upon a time' + plain.choices[0]!.text);
    assert.notEqual(withSuffix.choices[0]!.text, plain.choices[0]!.text, 'the insertion depends on the suffix');
    assert.ok(!withSuffix.choices[0]!.text.includes('The end.'));
  });

  it('prompt plus max_tokens over the window is context_length_exceeded; windows are set per deployment', async () => {
    const over = await raw('/openai/deployments/gpt-4/chat/completions?api-version=2024-10-21', {
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 9000,
    });
    assert.equal(over.status, 400);
    const body = await over.json();
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error.code, 'context_length_exceeded');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /maximum context length is 8192 tokens/);
    await raw('/_sim/context-window', { deployment: 'gpt-4o-mini', tokens: 20 });
    try {
      const long = 'Tell me everything about the history of the printing press in Europe, please.';
      await assert.rejects(
        client('gpt-4o-mini').chat.completions.create({ model: '', messages: [{ role: 'user', content: long }] }),
        (e: any) => e.status === 400 && e.code === 'context_length_exceeded',
      );
      assert.equal(
        (
          await client('gpt-4o-mini').chat.completions.create({
            model: '',
            messages: [{ role: 'user', content: 'hi' }],
          })
        ).choices.length,
        1,
      );
    } finally {
      await raw('/_sim/context-window', { deployment: 'gpt-4o-mini', tokens: null });
    }
  });

  it('lists models and deployments for AzureOpenAI clients', async () => {
    const models = [];
    for await (const model of client().models.list()) models.push(model);
    assert.ok(models.some((m) => m.id === 'gpt-4o-mini-2024-07-18' && m.object === 'model'));
    const one = await client().models.retrieve('text-embedding-3-small');
    assert.equal((one as any).capabilities.embeddings, true);
    const deployment = await raw('/openai/deployments/gpt-4o-mini?api-version=2024-10-21');
    assert.equal(deployment.status, 200);
    assert.equal((await deployment.json()).model, 'gpt-4o-mini-2024-07-18');
    assert.equal((await raw('/openai/deployments/nope?api-version=2024-10-21')).status, 404);
  });

  it('spec conformance: usage null on every chunk before the last, no null strings in errors, Azure headers', async () => {
    const res = await raw('/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21', {
      messages: [{ role: 'user', content: 'Count to 5' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)));
    assert.ok(events.length > 3);
    for (const event of events.slice(0, -1)) assert.equal(event.usage, null);
    assert.equal(
      events.at(-1).usage.total_tokens,
      events.at(-1).usage.prompt_tokens + events.at(-1).usage.completion_tokens,
    );
    const missing = await raw('/openai/deployments/nope/chat/completions?api-version=2024-10-21', {
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(missing.status, 404);
    const error = (await missing.json()).error;
    assert.equal(error.code, 'DeploymentNotFound');
    for (const key of ['code', 'message', 'param', 'type'])
      assert.ok(!(key in error) || typeof error[key] === 'string', `error.${key} is a string or absent`);
    for (const response of [res, missing]) {
      for (const header of [
        'apim-request-id',
        'x-request-id',
        'x-ratelimit-remaining-requests',
        'x-ratelimit-remaining-tokens',
      ]) {
        assert.ok(response.headers.get(header), `${header} on ${response.status}`);
      }
    }
  });
});

describe('through this API, against the simulator', () => {
  let stack: Stack;
  let client: OpenAI;
  before(async () => {
    stack = await startStack({ simulator: true, env: { UPSTREAM_RETRY_DEADLINE_MS: '5000' } });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
  });
  after(async () => stack?.stop());

  it('chat.completions.parse() with a zod schema returns a parsed object that validates', async () => {
    const Event = z.object({
      name: z.string(),
      date: z.string(),
      kind: z.enum(['meeting', 'party', 'trip']),
      attendees: z.array(z.object({ name: z.string(), role: z.string().nullable() })),
      location: z.union([z.object({ city: z.string() }), z.null()]),
    });
    const format = zodResponseFormat(Event, 'event');
    const res = await client.chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Alice and Bob are going to a party in Berlin on Friday.' }],
      response_format: format,
    });
    const message = res.choices[0]!.message;
    assert.equal(message.refusal, null);
    assert.ok(message.parsed);
    assertValid(format.json_schema.schema as Record<string, unknown>, message.parsed);
    assert.equal(message.parsed.kind, 'party');
  });

  it('tools round trip, not streamed: call, run the tool, answer with its result', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Madrid?' }];
    const first = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
    assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
    const call = first.choices[0]!.message.tool_calls![0]!;
    assert.ok(call.type === 'function');
    const args = JSON.parse(call.function.arguments);
    assertValid(weather, args);
    messages.push(first.choices[0]!.message, {
      role: 'tool',
      tool_call_id: call.id,
      content: `Sunny in ${args.city}, 30 degrees`,
    });
    const second = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
    assert.equal(second.choices[0]!.finish_reason, 'stop');
    assert.match(second.choices[0]!.message.content!, /Sunny in Madrid, 30 degrees/);
  });

  it('tools round trip, streamed', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Quito?' }];
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools, stream: true });
    const calls: { id: string; name: string; args: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      finish = choice?.finish_reason ?? finish;
      for (const d of choice?.delta.tool_calls ?? []) {
        if (d.id) calls[d.index] = { id: d.id, name: d.function?.name ?? '', args: d.function?.arguments ?? '' };
        else calls[d.index]!.args += d.function?.arguments ?? '';
      }
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(calls.length, 1);
    assert.equal(JSON.parse(calls[0]!.args).city, 'Quito');
    messages.push(
      {
        role: 'assistant',
        content: null,
        tool_calls: calls.map((c) => ({
          id: c.id,
          type: 'function' as const,
          function: { name: c.name, arguments: c.args },
        })),
      },
      { role: 'tool', tool_call_id: calls[0]!.id, content: 'Cloudy, 14 degrees' },
    );
    const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools, stream: true });
    let text = '';
    for await (const chunk of answer) text += chunk.choices[0]?.delta.content ?? '';
    assert.match(text, /get_weather returned: Cloudy, 14 degrees/);
  });

  it('json_object', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Reply in JSON: what is a cat?' }],
      response_format: { type: 'json_object' },
    });
    const parsed = JSON.parse(res.choices[0]!.message.content!);
    assert.equal(typeof parsed, 'object');
    assert.ok(!Array.isArray(parsed) && parsed !== null);
  });

  it('logprobs pass through, whole and streamed', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Knock knock.' }];
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      logprobs: true,
      top_logprobs: 2,
    });
    const entries = res.choices[0]!.logprobs!.content!;
    assert.equal(entries.map((e) => e.token).join(''), "Who's there?");
    assert.ok(entries.every((e) => e.logprob <= 0 && e.top_logprobs.length === 2));
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      logprobs: true,
      stream: true,
    });
    const streamed: string[] = [];
    for await (const chunk of stream) for (const e of chunk.choices[0]?.logprobs?.content ?? []) streamed.push(e.token);
    assert.deepEqual(
      streamed,
      entries.map((e) => e.token),
    );
  });

  it('the context-length error reaches the caller as a 400 naming the cause', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 200_000,
      }),
      (error: any) =>
        error.status === 400 &&
        error.code === 'context_length_exceeded' &&
        /maximum context length is 128000/.test(error.message),
    );
  });
});
