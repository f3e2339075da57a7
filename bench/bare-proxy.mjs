// The floor for bench/proxy.bench.ts: a bare Node pass-through proxy that maps this API's chat route onto the
// upstream deployment URL through a keep-alive agent, with no validation, auth or streaming logic.
import http from 'node:http';

const upstream = new URL(process.env.UPSTREAM);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const server = http.createServer((req, res) => {
  const path = `/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21`;
  const forward = http.request(
    {
      host: upstream.hostname,
      port: upstream.port,
      path,
      method: req.method,
      agent,
      headers: { 'content-type': 'application/json', 'api-key': 'bench' },
    },
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
