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
import type { ApiFunction } from '../src/http/handler.js';

// The library is CommonJS whose class exports Node's ESM loader cannot see by name.
const { HttpRequest, InvocationContext } = functionsLibrary;

/** The real host's default request limit; the app enforces its own, smaller one. */
const HOST_BODY_LIMIT = 100 * 1024 * 1024;

interface CompiledRoute {
  fn: ApiFunction;
  pattern: RegExp;
  names: string[];
}

/** `v1/conversations/{id}/messages` → a regex with named segments; `{name?}` is optional, `{name:constraint}` ignores the constraint. */
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
  const hostJson = JSON.parse(readFileSync(hostJsonPath, 'utf8')) as { extensions?: { http?: { routePrefix?: string } } };
  return hostJson.extensions?.http?.routePrefix ?? 'api';
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const hostError = (message: string, code: string) => ({ error: { message, type: 'invalid_request_error', param: null, code } });

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > HOST_BODY_LIMIT) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

async function writeResponse(req: IncomingMessage, res: ServerResponse, response: HttpResponseInit) {
  const headers = new Headers(response.headers as HeadersInit | undefined);
  let body = response.body;
  if (response.jsonBody !== undefined) {
    body = JSON.stringify(response.jsonBody);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  res.statusCode = response.status ?? 200;
  for (const [name, value] of headers) res.setHeader(name, value);
  if (body == null || req.method === 'HEAD') return void res.end();
  if (typeof body === 'string' || body instanceof Uint8Array) return void res.end(body);
  if (body instanceof ArrayBuffer) return void res.end(Buffer.from(body));
  const stream = body instanceof ReadableStream ? body : body instanceof Readable ? (Readable.toWeb(body) as ReadableStream) : null;
  if (!stream) return void res.end(String(body));
  res.flushHeaders();
  const reader = stream.getReader();
  // A client that goes away cancels the body, which is how the app learns to abort its upstream call.
  const onClose = () => {
    if (!res.writableFinished) reader.cancel().catch(() => undefined);
  };
  res.on('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
      if (res.destroyed) break;
    }
    res.end();
  } catch {
    // The body failed mid-way: the real host resets the connection; so do we, rather than end it cleanly.
    res.destroy();
  } finally {
    res.off('close', onClose);
  }
}

export interface LocalHost {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startLocalHost(options: { functions: readonly ApiFunction[]; port?: number; host?: string; log?: boolean }): Promise<LocalHost> {
  const prefix = routePrefix();
  const routes = options.functions.map(compileRoute);
  const log = options.log ?? true;

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
      const path = url.pathname.startsWith(`/${prefix}/`) ? url.pathname.slice(prefix.length + 1) : null;
      const matches = path === null ? [] : routes.flatMap((r) => (r.pattern.exec(path) ? [{ route: r, match: r.pattern.exec(path)! }] : []));
      if (matches.length === 0) return sendJson(res, 404, hostError(`No route for ${url.pathname}.`, 'route_not_found'));
      const method = (req.method ?? 'GET').toUpperCase();
      const hit = matches.find((m) => m.route.fn.methods.includes(method as never));
      if (!hit) {
        const allowed = [...new Set(matches.flatMap((m) => m.route.fn.methods))];
        return sendJson(res, 405, hostError(`Method ${method} not allowed. Allowed: ${allowed.join(', ')}.`, 'method_not_allowed'), { allow: allowed.join(', ') });
      }
      const body = await readBody(req);
      if (body === null) return sendJson(res, 413, hostError('Request body too large.', 'payload_too_large'));
      const params: Record<string, string> = {};
      hit.route.names.forEach((name, i) => {
        const value = hit.match[i + 1];
        if (value !== undefined) params[name] = decodeURIComponent(value);
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      const request = new HttpRequest({
        method,
        url: url.toString(),
        headers,
        query: Object.fromEntries(url.searchParams),
        params,
        body: body.length > 0 ? { bytes: body } : undefined,
      });
      const fn = hit.route.fn;
      const context = new InvocationContext({
        invocationId: randomUUID(),
        functionName: fn.name,
        logHandler: (level, ...args) => {
          if (log || level === 'error') console.log(`[${fn.name}] ${level}:`, ...args);
        },
      });
      const started = performance.now();
      const response = await fn.handler(request, context);
      await writeResponse(req, res, response);
      if (log) console.log(`${method} ${url.pathname} → ${res.statusCode} (${(performance.now() - started).toFixed(1)} ms)`);
    } catch (error) {
      console.error('local host: unhandled', error instanceof Error ? error.message : error);
      if (!res.headersSent) sendJson(res, 500, { error: { message: 'Internal host error.', type: 'server_error', param: null, code: null } });
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
  const host = await startLocalHost({ functions, port: Number(process.env.PORT ?? 7071), log: process.env.HOST_LOG !== 'false' });
  console.log(`Local Functions host listening on ${host.url}`);
  // As the deployed entry does: one tokenizer worker starts now, not on the first large request.
  void import('../src/tokens/worker.js').then((m) => m.warmPool());
  const stop = () => host.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
