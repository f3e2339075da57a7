/**
 * The floor for bench/proxy.bench.ts (issue 20): the least a function on `@azure/functions` can do for the chat
 * route — read the body from the library's HttpRequest, forward it to the upstream deployment through a
 * keep-alive agent (the transport this API uses), answer with the upstream's text — served by the same local
 * host as the API. Its distance to the bare Node proxy is the framework's and the host's; the API's distance to
 * it is this project's own code.
 */
import http from 'node:http';
import { startLocalHost } from '../dev/host.js';
import type { ApiFunction } from '../src/http/handler.js';

const upstream = new URL(process.env.UPSTREAM!);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function forward(body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const path = '/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21';
    const req = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'api-key': 'bench', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const floor: ApiFunction = {
  name: 'floor',
  route: 'v1/chat/completions',
  methods: ['POST'],
  authLevel: 'anonymous',
  docs: { summary: 'floor', tags: [] },
  async handler(request) {
    const answer = await forward(Buffer.from(await request.arrayBuffer()));
    return { status: answer.status, headers: { 'content-type': 'application/json' }, body: answer.text };
  },
};

const host = await startLocalHost({ functions: [floor], port: Number(process.env.PORT), log: false });
console.log(`Floor host listening on ${host.url}`);
process.once('SIGINT', () => host.close().then(() => process.exit(0)));
