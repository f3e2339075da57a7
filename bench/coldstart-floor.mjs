// The floor for bench/coldstart.bench.ts: the least a function app does before its first answer — load
// `@azure/functions` and register one HTTP function — served the way bench/coldstart-child.mjs serves this API
// (a Headers object and a body stream per request, as the Functions worker builds them), answering the tokenize
// request with its canned answer after reading the body.
import http from 'node:http';

const entryStart = performance.now();
const { app } = await import('@azure/functions');
const answer = JSON.stringify({ encoding: 'cl100k_base', tokens: [83, 1609, 5963, 374, 2294, 0], count: 6 });
const handler = async (request) => {
  await request.text();
  return { status: 200, headers: { 'content-type': 'application/json' }, body: answer };
};
app.setup({ enableHttpStream: true });
app.http('tokenize', { route: 'v1/tokenize', methods: ['POST'], handler });
const entryMs = performance.now() - entryStart;

let firstRequestAt;
const server = http.createServer(async (req, res) => {
  firstRequestAt ??= performance.now();
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  const request = {
    method: req.method,
    headers: new Headers(req.headers),
    text: () =>
      new Response(new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array(bytes)), c.close()) })).text(),
  };
  const response = await handler(request);
  res.writeHead(response.status, response.headers);
  res.end(response.body);
  const m = process.memoryUsage();
  console.log(
    `DONE ${JSON.stringify({ answeredAt: performance.now(), readyAt, firstRequestAt, rssMb: m.rss / 1048576, heapMb: m.heapUsed / 1048576 })}`,
  );
});
let readyAt;
server.listen(
  0,
  '127.0.0.1',
  () => ((readyAt = performance.now()), console.log(`READY ${server.address().port} ${entryMs}`)),
);
