import type { HttpMethod, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type * as z from 'zod/mini';
import { settings } from '../config.js';
import { UpstreamError } from '../upstream/errors.js';
import { ApiError, errorResponse, toApiError } from './errors.js';
import { principalOf, requirePrincipal, type Principal } from './principal.js';
import { parseWith, queryObject, readJson } from './request.js';
import { requestIdFor } from '../request-scope.js';
import { openRecord } from './telemetry.js';
import type { RequestRecord } from '../telemetry/record.js';

export type ApiHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** What the OpenAPI document says of a route; the same schemas validate the requests. */
export interface RouteDocs {
  summary: string;
  tags: string[];
  body?: z.core.$ZodType;
  query?: z.core.$ZodType;
  /** Status code → response body schema (a plain description where there is no JSON body). */
  responses?: Record<number, z.core.$ZodType | string>;
  /** The route also answers with Server-Sent Events when the body asks for `stream`. */
  streams?: boolean;
}

/** One HTTP function: the Functions registration and the local host both read this. */
export interface ApiFunction {
  name: string;
  /** Route template below the `api` prefix, e.g. `v1/conversations/{id}`. */
  route: string;
  methods: HttpMethod[];
  authLevel: 'anonymous' | 'function';
  handler: ApiHandler;
  docs: RouteDocs;
}

/**
 * The security headers and the request id, a new object per answer. One literal: spreading a shared object of them
 * and adding the id took Node 20 ~3.6 µs per request (a slow path of its V8), Node 22 ~0.1 µs.
 */
const securityHeaders = (requestId: string): Record<string, string> => ({
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000',
  'x-request-id': requestId,
});

const EXPOSED_HEADERS = 'retry-after, retry-after-ms, x-request-id, x-ratelimit-remaining-tokens, x-backend';

/** A page served from this machine (any port): allowed under `npm start` (CORS_ALLOW_LOOPBACK), never by default. */
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

function originAllowed(origin: string): boolean {
  const { CORS_ALLOWED_ORIGINS: allowed, CORS_ALLOW_LOOPBACK: loopback } = settings();
  return allowed.includes('*') || allowed.includes(origin) || (loopback && LOOPBACK_ORIGIN.test(origin));
}

function corsHeaders(origin: string | null): Record<string, string> {
  if (!origin || !originAllowed(origin)) return {};
  return {
    'access-control-allow-origin': settings().CORS_ALLOWED_ORIGINS.includes('*') ? '*' : origin,
    'access-control-expose-headers': EXPOSED_HEADERS,
    vary: 'Origin',
  };
}

/**
 * The headers every answer carries, the service's and the local host's own (404, 405, 413, 500): security headers,
 * CORS for an allowed origin (so a browser app can read even an error), and the request id.
 */
export function standardHeaders(origin: string | null, requestId: string): Record<string, string> {
  const headers = securityHeaders(requestId);
  return origin ? Object.assign(headers, corsHeaders(origin)) : headers;
}

/** The answer to a CORS preflight (also used by the local host for paths no function serves). */
export function preflightResponse(
  origin: string | null,
  requestedHeaders: string | null,
  methods: readonly string[],
): HttpResponseInit {
  const cors = corsHeaders(origin);
  if (!cors['access-control-allow-origin']) return { status: 204, headers: { allow: methods.join(', ') } };
  return {
    status: 204,
    headers: {
      ...cors,
      // Functions sharing a route each see the preflight; allow every method the API uses (routing still enforces
      // them).
      'access-control-allow-methods': 'GET, POST, DELETE',
      'access-control-allow-headers': requestedHeaders ?? 'content-type, authorization',
      'access-control-max-age': '600',
    },
  };
}

/**
 * The answer with the standard headers added where the route has not set a header itself, built as one plain
 * object (a `Headers` object per request was the largest share of this layer's CPU per request).
 */
function withStandardHeaders(response: HttpResponseInit, origin: string | null, requestId: string): HttpResponseInit {
  const headers = standardHeaders(origin, requestId);
  const own = response.headers;
  if (own instanceof Headers || Array.isArray(own)) {
    for (const [name, value] of new Headers(own)) headers[name] = value;
  } else if (own) {
    for (const name in own) headers[name.toLowerCase()] = own[name]!;
  }
  return Object.assign({}, response, { headers }); // (not a spread: Node 20, see send in upstream/http.ts)
}

/**
 * Wraps a route's logic: CORS, security headers, a request id (the caller's `x-request-id` when it is a plain token,
 * else the invocation id) logged with the upstream's `apim-request-id`, and every thrown error turned into the one
 * error shape.
 */
type Caller = 'required' | 'optional';
type Parsed<S> = S extends z.core.$ZodType ? z.output<S> : undefined;

/** What a route's logic receives: its input parsed and validated by the schemas it declared, and the caller. */
export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  /** Path parameters from the route template (`{id}` → `params.id`). */
  params: Record<string, string>;
  /** The signed-in caller; with `caller: 'required'` never null (401 otherwise). */
  principal: P;
  request: HttpRequest;
  context: InvocationContext;
  /** The request's telemetry record (routes that call the model hand it to the pipeline in their call context). */
  telemetry: RequestRecord;
}

/** A route: where it lives, what it accepts (the schemas validate requests AND document them), what it does. */
export interface RouteDefinition<
  B extends z.core.$ZodType | undefined,
  Q extends z.core.$ZodType | undefined,
  C extends Caller,
> {
  name: string;
  route: string;
  methods: HttpMethod[];
  authLevel?: 'anonymous' | 'function';
  /** The JSON body schema (the route reads and validates the body before `handle`). */
  body?: B;
  /** The query-string schema. */
  query?: Q;
  /** `required`: the route answers 401 without a trusted caller (conversations, responses). */
  caller?: C;
  /** `docs.query` only documents a query string the route checks itself (Azure's paths answer in Azure's shape). */
  docs: Omit<RouteDocs, 'body'>;
  handle(
    input: RouteInput<Parsed<B>, Parsed<Q>, C extends 'required' ? Principal : Principal | null>,
  ): Promise<HttpResponseInit>;
}

/**
 * Wraps a route's logic: input parsed by the declared schemas, the caller, CORS, security headers, a request id,
 * and every thrown error turned into the one error shape.
 */
export function defineFunction<
  B extends z.core.$ZodType | undefined = undefined,
  Q extends z.core.$ZodType | undefined = undefined,
  C extends Caller = 'optional',
>(definition: RouteDefinition<B, Q, C>): ApiFunction {
  const methods: HttpMethod[] = [...definition.methods, 'OPTIONS'];
  const run = async (
    request: HttpRequest,
    context: InvocationContext,
    headers: Headers,
    telemetry: RequestRecord,
  ): Promise<HttpResponseInit> => {
    const principal = definition.caller === 'required' ? requirePrincipal(request) : principalOf(request);
    const query = definition.query ? parseWith(definition.query, queryObject(request)) : undefined;
    const body = definition.body ? await readJson(request, definition.body, headers) : undefined;
    type Input = Parameters<typeof definition.handle>[0];
    // `return await`: returning the promise itself costs V8 a thenable job and two more turns of the microtask queue.
    return await definition.handle({
      body,
      query,
      params: request.params,
      principal,
      request,
      context,
      telemetry,
    } as Input);
  };
  const handler: ApiHandler = async (request, context) => {
    // Read once: each read of `request.headers` or `request.method` costs a private-field lookup and a brand check
    // in @azure/functions and undici (~0.2-0.3 µs each, measured).
    const headers = request.headers;
    const method = request.method;
    const requestId = requestIdFor(headers.get('x-request-id'), context.invocationId);
    const origin = headers.get('origin');
    // One telemetry record per request (not for preflights), written when it is answered or its stream ends.
    const record = method === 'OPTIONS' ? undefined : openRecord(request, method, context, definition, requestId);
    let response: HttpResponseInit;
    let errorCode: string | undefined;
    try {
      // A preflight has no record (it is not a request to count): the answer is CORS alone.
      response = record
        ? await run(request, context, headers, record)
        : preflightResponse(origin, headers.get('access-control-request-headers'), methods);
    } catch (error) {
      if (!(error instanceof ApiError || error instanceof UpstreamError) || toApiError(error).status >= 500) {
        // Name and message only: never request headers or bodies, which may carry keys or tokens.
        const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        context.error(`${definition.name} failed (x-request-id ${requestId}): ${what}`);
      }
      response = errorResponse(error);
      errorCode =
        error instanceof ApiError || error instanceof UpstreamError
          ? (toApiError(error).code ?? undefined)
          : 'internal_error';
    }
    record?.answer(response.status ?? 200, errorCode);
    return withStandardHeaders(response, origin, requestId);
  };
  return {
    name: definition.name,
    route: definition.route,
    methods,
    authLevel: definition.authLevel ?? 'anonymous',
    handler,
    docs: { ...definition.docs, body: definition.body, query: definition.query ?? definition.docs.query },
  };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, headers: { 'content-type': 'application/json', ...headers }, jsonBody: body };
}
