/**
 * A tiny HTTP proxy put between the app and Azurite: it records every request the app sends to the store, so a
 * test can assert how many storage round trips an API call cost (instead of timing it). When the store behind it
 * is down, the app's connection is reset, as it would be by a dead host.
 */
import { Agent, createServer, request } from 'node:http';
import { freePort } from '../../dev/ports.js';

export interface StoreRequest {
  method: string;
  path: string;
}

export interface CountingProxy {
  port: number;
  /** Every request received, oldest first (also those that could not reach the store). */
  requests: StoreRequest[];
  /** Sends what follows to another port (e.g. Azurite restarted elsewhere). */
  retarget(port: number): void;
  /** Answers the next `times` requests that match with 503 ServerBusy (Table Storage's throttling answer). */
  failNext(match: (request: StoreRequest) => boolean, times: number): void;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  let target = targetPort;
  const requests: StoreRequest[] = [];
  let failing: { match: (request: StoreRequest) => boolean; times: number } | undefined;
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const seen = { method: req.method ?? '', path: decodeURIComponent(req.url ?? '') };
    requests.push(seen);
    if (failing && failing.times > 0 && failing.match(seen)) {
      failing.times--;
      req.resume();
      const body = JSON.stringify({ 'odata.error': { code: 'ServerBusy', message: { lang: 'en-US', value: 'busy' } } });
      res.writeHead(503, { 'content-type': 'application/json;odata=minimalmetadata' }).end(body);
      return;
    }
    const upstream = request(
      { host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    requests,
    retarget: (next) => void (target = next),
    failNext: (match, times) => void (failing = { match, times }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
