// A backend that throttles: passes requests to UPSTREAM, but answers every FAIL_EVERY-th one with a 429 and
// `retry-after-ms: RETRY_AFTER_MS` (FAIL_EVERY=0: never). For bench/backends.bench.ts; the same hop in both runs.
import http from 'node:http';

const upstream = new URL(process.env.UPSTREAM);
const failEvery = Number(process.env.FAIL_EVERY ?? 0);
const retryAfterMs = String(process.env.RETRY_AFTER_MS ?? '1');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
let count = 0;
const throttled = JSON.stringify({
  error: { code: '429', message: 'Requests to the deployment have exceeded the rate limit.' },
});
const server = http.createServer((req, res) => {
  if (failEvery > 0 && ++count % failEvery === 0) {
    req.resume();
    req.once('end', () => {
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': '1',
        'retry-after-ms': retryAfterMs,
        'content-length': Buffer.byteLength(throttled),
      });
      res.end(throttled);
    });
    return;
  }
  const forward = http.request(
    { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, agent, headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    },
  );
  forward.on('error', () => res.destroy());
  req.pipe(forward);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () =>
  console.log(`listening on http://127.0.0.1:${server.address().port}`),
);
