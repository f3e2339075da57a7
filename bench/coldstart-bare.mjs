// Baseline for bench/coldstart.bench.ts: a bare Node HTTP server answering the tokenize request with its answer.
import http from 'node:http';
const answer = JSON.stringify({ encoding: 'cl100k_base', tokens: [83, 1609, 5963, 374, 2294, 0], count: 6 });
let firstRequestAt;
const server = http.createServer((req, res) => {
  firstRequestAt ??= performance.now();
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer);
    const m = process.memoryUsage();
    console.log(
      `DONE ${JSON.stringify({ answeredAt: performance.now(), readyAt, firstRequestAt, rssMb: m.rss / 1048576, heapMb: m.heapUsed / 1048576 })}`,
    );
  });
});
let readyAt;
server.listen(0, '127.0.0.1', () => ((readyAt = performance.now()), console.log(`READY ${server.address().port} 0`)));
