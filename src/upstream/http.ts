/**
 * One keep-alive connection pool per upstream origin, on node:http/https directly: Node's fetch allocates
 * web-stream and Request/Response objects per call, which dominated a gateway's CPU when measured.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';

const agents = new Map<string, http.Agent>();

function agentFor(url: URL): http.Agent {
  let agent = agents.get(url.origin);
  if (!agent) {
    const options = {
      keepAlive: true,
      keepAliveMsecs: 30_000,
      maxSockets: 256,
      maxFreeSockets: 64,
      scheduling: 'lifo' as const,
    };
    agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    agents.set(url.origin, agent);
  }
  return agent;
}

/** Where a URL's requests go, worked out once per URL (the providers reuse their URL objects). */
const targets = new WeakMap<URL, http.RequestOptions>();

function targetOf(url: URL): http.RequestOptions {
  let target = targets.get(url);
  if (!target) {
    const host = url.hostname;
    target = {
      protocol: url.protocol,
      hostname: host.startsWith('[') ? host.slice(1, -1) : host,
      port: url.port || undefined,
      path: url.pathname + url.search,
      agent: agentFor(url),
    };
    targets.set(url, target);
  }
  return target;
}

/** An upstream answer, its body unread. */
export class UpstreamResponse {
  constructor(readonly body: IncomingMessage) {}
  get status(): number {
    return this.body.statusCode ?? 0;
  }
  /** All headers: Node builds this object on first read, which a relayed answer never needs. */
  get headers(): IncomingHttpHeaders {
    return this.body.headers;
  }
  /** One header (the first, when repeated), looked up in the raw list without building `headers`. */
  header(name: string): string | undefined {
    const raw = this.body.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i]!;
      if (key.length === name.length && key.toLowerCase() === name) return raw[i + 1];
    }
    return undefined;
  }
}

export class ConnectionError extends Error {
  override name = 'ConnectionError';
}
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Sends a request and resolves when the response headers arrive; `signal` and the timeout destroy the socket. */
export function send(
  url: URL,
  init: { method: string; headers: Record<string, string>; body?: Buffer; signal?: AbortSignal; timeoutMs: number },
): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    if (init.signal?.aborted) return reject(new ConnectionError('aborted before sending'));
    const transport = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = init.headers; // the caller's own object: no copy
    if (init.body !== undefined) headers['content-length'] = init.body.length;
    const request = transport.request({ ...targetOf(url), method: init.method, headers });
    const timer = setTimeout(
      () => request.destroy(new TimeoutError(`no answer within ${init.timeoutMs} ms`)),
      init.timeoutMs,
    );
    const signal = init.signal;
    const onAbort = () => request.destroy(new ConnectionError('aborted by the caller'));
    signal?.addEventListener('abort', onAbort, { once: true });
    request.once('response', (response) => {
      clearTimeout(timer);
      if (signal) response.once('close', () => signal.removeEventListener('abort', onAbort));
      resolve(new UpstreamResponse(response));
    });
    request.once('error', (error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(
        error instanceof TimeoutError || error instanceof ConnectionError ? error : new ConnectionError(error.message),
      );
    });
    request.end(init.body);
  });
}

/** Reads a whole response body as text, with a deadline. */
export function readText(body: IncomingMessage, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(
      () => body.destroy(new TimeoutError(`body not complete within ${timeoutMs} ms`)),
      timeoutMs,
    );
    body.on('data', (chunk: Buffer) => chunks.push(chunk));
    body.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    body.once('error', (error) => {
      clearTimeout(timer);
      reject(error instanceof TimeoutError ? error : new ConnectionError(error.message));
    });
    body.once('close', () => {
      clearTimeout(timer);
      if (!body.complete) reject(new ConnectionError('connection closed before the body ended'));
    });
  });
}
