// The floor for bench/coldstart.bench.ts: the least a function app does before its first answer — load
// `@azure/functions` and register one HTTP function — served the way bench/coldstart-child.mjs serves this API
// (bench/coldstart-serve.mjs: the same request objects), answering the tokenize request with its canned answer after
// reading the body.
import { serveColdStart } from './coldstart-serve.mjs';

const entryStart = performance.now();
const { app } = await import('@azure/functions');
const answer = JSON.stringify({ encoding: 'cl100k_base', tokens: [83, 1609, 5963, 374, 2294, 0], count: 6 });
const handler = async (request) => {
  await new Response(request.body).text();
  return { status: 200, headers: { 'content-type': 'application/json' }, body: answer };
};
app.setup({ enableHttpStream: true });
app.http('tokenize', { route: 'v1/tokenize', methods: ['POST'], handler });
const entryMs = performance.now() - entryStart;

serveColdStart(entryMs, () => handler);
