// The server side of one cold start (bench/coldstart-child.mjs, bench/coldstart-floor.mjs): listens, builds each
// request's objects as the Functions worker does (a Headers object and a body stream), calls the handler that
// `handlerFor(path)` names, and reports the process's own clock once the request marked `x-last` is answered.
import http from 'node:http';

export function serveColdStart(entryMs, handlerFor) {
  let firstRequestAt;
  let readyAt;
  const server = http.createServer(async (req, res) => {
    firstRequestAt ??= performance.now();
    const url = new URL(req.url, 'http://localhost');
    const path = url.pathname.replace(/^\/api\//, '');
    const handler = handlerFor(path);
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
      const heapMb = m.heapUsed / 1048576;
      console.log(
        `DONE ${JSON.stringify({ answeredAt: performance.now(), readyAt, firstRequestAt, rssMb: m.rss / 1048576, heapMb })}`,
      );
    }
  });
  server.listen(
    0,
    '127.0.0.1',
    () => ((readyAt = performance.now()), console.log(`READY ${server.address().port} ${entryMs}`)),
  );
}
