/**
 * A small stand-in for the Azure Functions host, for machines without Core Tools (`func`).
 * It serves the same function list as src/index.ts registers, with what this app relies on from the real host:
 * the `api` route prefix and route templates, methods (404/405), headers, JSON and streamed bodies, and
 * cancelling a streamed body when the client disconnects.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import functionsLibrary, { type HttpResponseInit } from '@azure/functions';
import { preflightResponse, standardHeaders, type ApiFunction } from '../src/http/handler.js';
import { requestIdFor } from '../src/request-scope.js';
import { attachClientSignal } from '../src/http/cancellation.js';
import { badRequest, payloadTooLarge } from '../src/http/errors.js';

// The library is CommonJS whose class exports Node's ESM loader cannot see by name.
const { HttpRequest, InvocationContext } = functionsLibrary;

/** The real host's default request limit; the app enforces its own, smaller one. */
const HOST_BODY_LIMIT = 100 * 1024 * 1024;

interface CompiledRoute {
  fn: ApiFunction;
  pattern: RegExp;
  names: string[];
}

/**
 * `v1/conversations/{id}/messages` → a regex with named segments; `{name?}` is optional, `{name:constraint}` ignores
 * the constraint.
 */
function compileRoute(fn: ApiFunction): CompiledRoute {
  const names: string[] = [];
  const source = fn.route
    .split('/')
    .map((segment) => {
      const m = /^\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]+)?(\?)?\}$/.exec(segment);
      if (!m) return '/' + segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]!);
      return m[2] ? '(?:/([^/]+))?' : '/([^/]+)';
    })
    .join('');
  return { fn, pattern: new RegExp(`^${source}/?$`, 'i'), names };
}

export function routePrefix(hostJsonPath = new URL('../host.json', import.meta.url)): string {
  const hostJson = JSON.parse(readFileSync(hostJsonPath, 'utf8')) as {
    extensions?: { http?: { routePrefix?: string } };
  };
  return hostJson.extensions?.http?.routePrefix ?? 'api';
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const hostError = (message: string, code: string, type = 'invalid_request_error') => ({
  error: { message, type, param: null, code },
});

/**
 * The request body as a stream the app reads at its own pace (the real host's HTTP stream mode), so the app's size
 * limit applies as bytes arrive: a body is never buffered whole, and reading stops where the app stops.
 */
function bodyStream(req: IncomingMessage): { stream: ReadableStream<Uint8Array>; drop(): void } {
  let size = 0;
  let discarding = false;
  const drop = () => {
    discarding = true;
    req.resume();
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (discarding) return void (size > HOST_BODY_LIMIT && req.destroy());
        if (size > HOST_BODY_LIMIT) {
          discarding = true;
          return controller.error(payloadTooLarge(HOST_BODY_LIMIT));
        }
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) req.pause();
      });
      req.once('end', () => discarding || controller.close());
      req.once('close', () => {
        if (!req.complete && !discarding)
          controller.error(badRequest('The client closed the request before its body ended.', null, 'incomplete_body'));
      });
      req.pause();
    },
    pull() {
      req.resume();
    },
    // The app stopped reading (e.g. past its limit): nothing more is kept. The rest is read and dropped, up to the
    // host limit, so that the client (still sending) can read the answer (closing with unread data resets it).
    cancel: drop,
  });
  return { stream, drop };
}

/** Drops a body no function reads (a host-made answer), up to the host limit, so the client can read the answer. */
function discardBody(req: IncomingMessage) {
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > HOST_BODY_LIMIT) req.destroy();
  });
  req.resume();
}

/** A request body is declared and not (yet) read to its end. */
const bodyPending = (req: IncomingMessage) =>
  !req.complete && ((req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined);

async function writeResponse(req: IncomingMessage, res: ServerResponse, response: HttpResponseInit, gone: AbortSignal) {
  const headers = new Headers(response.headers);
  let body = response.body;
  if (response.jsonBody !== undefined) {
    body = JSON.stringify(response.jsonBody);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const stream =
    body instanceof ReadableStream ? body : body instanceof Readable ? (Readable.toWeb(body) as ReadableStream) : null;
  // The client left while the app worked (e.g. before a slow upstream's first token): cancelling the body is how the
  // app learns to abort its upstream call and settle its quota; nothing is written.
  if (gone.aborted) return void (await stream?.cancel().catch(() => undefined));
  res.statusCode = response.status ?? 200;
  for (const [name, value] of headers) res.setHeader(name, value);
  if (body == null || req.method === 'HEAD') return void res.end();
  if (typeof body === 'string' || body instanceof Uint8Array) return void res.end(body);
  if (body instanceof ArrayBuffer) return void res.end(Buffer.from(body));
  // Anything else (a URLSearchParams, a FormData) is not something our routes return: send its text form.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  if (!stream) return void res.end(String(body));
  res.flushHeaders();
  const reader = stream.getReader();
  const onGone = () => void reader.cancel().catch(() => undefined);
  gone.addEventListener('abort', onGone, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || gone.aborted) break;
      if (!res.write(value)) await drained(res, gone);
    }
    if (!gone.aborted) res.end();
  } catch {
    // The body failed mid-way: the real host resets the connection; so do we, rather than end it cleanly.
    res.destroy();
  } finally {
    gone.removeEventListener('abort', onGone);
  }
}

/** Resolves on `drain` or when the client is gone, leaving no listener behind (no MaxListenersExceededWarning). */
function drained(res: ServerResponse, gone: AbortSignal): Promise<void> {
  if (gone.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      gone.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    gone.addEventListener('abort', done, { once: true });
  });
}

export interface LocalHost {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startLocalHost(options: {
  functions: readonly ApiFunction[];
  port?: number;
  host?: string;
  log?: boolean;
}): Promise<LocalHost> {
  const prefix = routePrefix();
  const routes = options.functions.map(compileRoute);
  const log = options.log ?? true;

  const server = createServer(async (req, res) => {
    // Listened to before anything is awaited: a client that leaves at any point must still end the request.
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const invocationId = randomUUID();
    const header = (name: string) => (typeof req.headers[name] === 'string' ? req.headers[name] : null);
    // The host's own answers carry the same headers as the app's: a browser app can read them, and they are traceable.
    const standard = () => standardHeaders(header('origin'), requestIdFor(header('x-request-id'), invocationId));
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      if (bodyPending(req)) discardBody(req);
      const headers = { ...standard(), ...extra };
      sendJson(res, status, body, headers);
      if (log) console.log(`${method} ${req.url} → ${status} (host) x-request-id=${headers['x-request-id']}`);
    };
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    try {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', `http://${header('host') ?? '127.0.0.1'}`);
      } catch {
        return answer(400, hostError('The request target is not a valid URL.', 'invalid_path'));
      }
      const path = url.pathname.startsWith(`/${prefix}/`) ? url.pathname.slice(prefix.length + 1) : null;
      const matches =
        path === null
          ? []
          : routes.flatMap((r) => (r.pattern.exec(path) ? [{ route: r, match: r.pattern.exec(path)! }] : []));
      // A preflight for a path no function serves (or cannot decode) still gets its CORS answer, so that the
      // browser goes on to show the request's 404 or 400 to the page.
      const preflight = () => {
        const answer = preflightResponse(header('origin'), header('access-control-request-headers'), [
          'GET',
          'POST',
          'DELETE',
        ]);
        res.writeHead(answer.status ?? 204, { ...standard(), ...(answer.headers as Record<string, string>) });
        res.end();
      };
      if (matches.length === 0) {
        if (method === 'OPTIONS') return preflight();
        return answer(404, hostError(`No route for ${url.pathname}.`, 'route_not_found', 'not_found_error'));
      }
      const hit = matches.find((m) => m.route.fn.methods.includes(method as never));
      if (!hit) {
        const allowed = [...new Set(matches.flatMap((m) => m.route.fn.methods))];
        return answer(
          405,
          hostError(`Method ${method} not allowed. Allowed: ${allowed.join(', ')}.`, 'method_not_allowed'),
          { allow: allowed.join(', ') },
        );
      }
      if (Number(req.headers['content-length'] ?? 0) > HOST_BODY_LIMIT) {
        return answer(413, hostError('Request body too large.', 'payload_too_large'));
      }
      const params: Record<string, string> = {};
      try {
        hit.route.names.forEach((name, i) => {
          const value = hit.match[i + 1];
          if (value !== undefined) params[name] = decodeURIComponent(value);
        });
      } catch {
        if (method === 'OPTIONS') return preflight();
        return answer(400, hostError(`The path ${url.pathname} has malformed percent-encoding.`, 'invalid_path'));
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers))
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      const hasBody = method !== 'GET' && method !== 'HEAD';
      const body = hasBody ? bodyStream(req) : undefined;
      const nativeRequest = new Request(url, {
        method,
        headers,
        body: body?.stream,
        ...(hasBody ? { duplex: 'half' } : {}),
      });
      const request = new HttpRequest({
        method,
        url: url.toString(),
        nativeRequest,
        params,
        query: Object.fromEntries(url.searchParams),
      } as ConstructorParameters<typeof HttpRequest>[0]);
      // The app's calls for this request end as soon as its client has gone (src/http/cancellation.ts).
      attachClientSignal(request, gone.signal);
      const fn = hit.route.fn;
      const context = new InvocationContext({
        invocationId,
        functionName: fn.name,
        logHandler: (level, ...args) => {
          if (log || level === 'error') console.log(`[${fn.name}] ${level}:`, ...args);
        },
      });
      const response = await fn.handler(request, context);
      body?.drop(); // What the app has not read by now, it never will.
      await writeResponse(req, res, response, gone.signal);
      if (log)
        console.log(
          `${method} ${url.pathname} → ${gone.signal.aborted ? 'client gone' : res.statusCode} (${(performance.now() - started).toFixed(1)} ms)`,
        );
    } catch (error) {
      console.error('local host: unhandled', error instanceof Error ? error.message : error);
      if (!res.headersSent && !gone.signal.aborted)
        answer(500, hostError('Internal host error.', 'internal_error', 'server_error'));
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 7071, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    server,
    url: `http://${options.host ?? '127.0.0.1'}:${port}/${prefix}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// Run directly: serve the app's functions (the environment already holds its settings).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { functions } = await import('../src/functions/registry.js');
  const host = await startLocalHost({
    functions,
    port: Number(process.env.PORT ?? 7071),
    log: process.env.HOST_LOG !== 'false',
  });
  console.log(`Local Functions host listening on ${host.url}`);
  // One tokenizer worker starts now, not on the first large request. (The deployed entry waits for its first answer
  // or a large body, not to slow a cold start; this host loaded every route at start anyway.)
  void import('../src/tokens/worker.js').then((m) => m.warmPool());
  const stop = () => host.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
}
