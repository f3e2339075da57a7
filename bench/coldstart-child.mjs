// One cold start for bench/coldstart.bench.ts, in plain JavaScript (no tsx): load the deployed entry
// (dist/index.js, as the Functions worker does), then serve requests by calling the handlers it registered,
// which load their route's module on the first request.
import http from 'node:http';

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
let firstRequestAt;
const server = http.createServer(async (req, res) => {
  firstRequestAt ??= performance.now();
  const url = new URL(req.url, 'http://localhost');
  const path = url.pathname.replace(/^\/api\//, '');
  const handler = handlers.get(ROUTES.find(([pattern]) => pattern.test(path))[1]);
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  const id = /conversations\/([^/]+)/.exec(path)?.[1];
  const request = {
    method: req.method,
    url: url.toString(),
    headers: new Headers(req.headers),
    params: id ? { id } : {},
    query: url.searchParams,
    body: new ReadableStream({
      start(c) {
        if (bytes.length) c.enqueue(new Uint8Array(bytes));
        c.close();
      },
    }),
  };
  const response = await handler(request, { log() {}, error() {}, warn() {} });
  res.writeHead(response.status ?? 200, response.headers);
  res.end(response.jsonBody !== undefined ? JSON.stringify(response.jsonBody) : (response.body ?? ''));
  if (req.headers['x-last'] === '1') {
    const m = process.memoryUsage();
    console.log(
      `DONE ${JSON.stringify({ answeredAt: performance.now(), readyAt, firstRequestAt, rssMb: m.rss / 1048576, heapMb: m.heapUsed / 1048576 })}`,
    );
  }
});
let readyAt;
server.listen(
  0,
  '127.0.0.1',
  () => ((readyAt = performance.now()), console.log(`READY ${server.address().port} ${entryMs}`)),
);
