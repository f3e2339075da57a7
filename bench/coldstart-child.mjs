// One cold start for bench/coldstart.bench.ts, in plain JavaScript (no tsx): load the deployed entry
// (dist/index.js, as the Functions worker does), then serve requests by calling the handlers it registered,
// which load their route's module on the first request.
import { serveColdStart } from './coldstart-serve.mjs';

const entryStart = performance.now();
const { handlers } = await import('../dist/index.js');
const entryMs = performance.now() - entryStart;

// The POST routes the benchmark calls (the Functions host routes by the registered templates).
const ROUTES = [
  [/^v1\/tokenize$/, 'tokenize'],
  [/^v1\/chat\/completions$/, 'chatCompletions'],
  [/^v1\/embeddings$/, 'embeddings'],
  [/^v1\/conversations$/, 'createConversation'],
  [/^v1\/conversations\/[^/]+\/messages$/, 'postMessage'],
];
serveColdStart(entryMs, (path) => handlers.get(ROUTES.find(([pattern]) => pattern.test(path))[1]));
