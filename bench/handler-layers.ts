/**
 * The chat route rebuilt one layer at a time, for bench/handler-cpu.bench.ts (BENCH_LAYERS=1): each handler adds
 * one layer of this API's own code to the one before, so the CPU each layer costs per request is the difference
 * between neighbours. Bundled by the bench (esbuild, as dist/ is) and run in its plain-JavaScript child.
 */
import type { HttpResponseInit } from '@azure/functions';
import { defineFunction, type ApiHandler, type RouteInput } from '../src/http/handler.js';
import { answerResponse, callContext } from '../src/http/model-answer.js';
import { readBodyText, readJson } from '../src/http/request.js';
import { chatCompletionRequestSchema } from '../src/schemas/chat.js';
import { createChatCompletion } from '../src/services/chat.js';
import { upstream as upstreamClient } from '../src/upstream/client.js';
import { readText, send } from '../src/upstream/http.js';

const target = new URL(
  `${process.env.AZURE_OPENAI_ENDPOINT}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`,
);

/** Our transport (src/upstream/http.ts), no retries, no telemetry. */
async function forward(value: unknown): Promise<HttpResponseInit> {
  const body = Buffer.from(JSON.stringify(value));
  const headers = { 'content-type': 'application/json', 'api-key': 'bench' };
  const response = await send(target, { method: 'POST', headers, body, timeoutMs: 60_000 });
  return { status: 200, headers: { 'content-type': 'application/json' }, body: await readText(response.body, 60_000) };
}

/** A chat route on `defineFunction` (request id, CORS and security headers, the telemetry record) doing `handle`. */
type Input = RouteInput<Record<string, unknown>, undefined, { id: string } | null>;
const route = (handle: (body: Record<string, unknown>, input: Input) => Promise<HttpResponseInit>) =>
  defineFunction({
    name: 'chatCompletions',
    route: 'v1/chat/completions',
    methods: ['POST'],
    body: chatCompletionRequestSchema,
    docs: { summary: 'bench', tags: [] },
    handle: (input) => handle(input.body, input),
  }).handler;

const withoutModel = ({ model: _model, ...rest }: Record<string, unknown>) => rest;

export const layers: [string, ApiHandler][] = [
  // The body read and parsed as the API reads it, forwarded re-serialised: no schema.
  [
    '+ body read as text, JSON parse and re-serialise',
    async (request) => forward(JSON.parse(await readBodyText(request))),
  ],
  ['+ schema validation (readJson)', async (request) => forward(await readJson(request, chatCompletionRequestSchema))],
  ['+ route wrapper (defineFunction: ids, headers, telemetry record)', route((body) => forward(body))],
  [
    '+ upstream client (backend choice, retry loop, auth, timeouts)',
    route(async (body) => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: await upstreamClient().rawJson('chat', withoutModel(body), { deployment: 'gpt-4o-mini' }),
    })),
  ],
  [
    '+ model-call pipeline, no telemetry observer',
    route(async (body, input) =>
      answerResponse(await createChatCompletion(body as never, { ...callContext(input), telemetry: undefined })),
    ),
  ],
  [
    '+ telemetry observer (the whole chat route, bundled here)',
    route(async (body, input) => answerResponse(await createChatCompletion(body as never, callContext(input)))),
  ],
];
