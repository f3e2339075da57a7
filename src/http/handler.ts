import type { HttpMethod, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { settings } from '../config.js';
import { UpstreamError } from '../upstream/errors.js';
import { ApiError, errorResponse, toApiError } from './errors.js';

export type ApiHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** What the OpenAPI document says of a route; the same schemas validate the requests. */
export interface RouteDocs {
  summary: string;
  tags: string[];
  body?: z.ZodType;
  query?: z.ZodType;
  /** Status code → response body schema (a plain description where there is no JSON body). */
  responses?: Record<number, z.ZodType | string>;
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

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000',
};

const EXPOSED_HEADERS = 'retry-after, retry-after-ms, x-request-id, x-ratelimit-remaining-tokens, x-backend';

function corsHeaders(request: HttpRequest): Record<string, string> {
  const origin = request.headers.get('origin');
  const allowed = settings().CORS_ALLOWED_ORIGINS;
  if (!origin || !(allowed.includes('*') || allowed.includes(origin))) return {};
  return {
    'access-control-allow-origin': allowed.includes('*') ? '*' : origin,
    'access-control-expose-headers': EXPOSED_HEADERS,
    vary: 'Origin',
  };
}

function preflight(request: HttpRequest, methods: HttpMethod[]): HttpResponseInit {
  const cors = corsHeaders(request);
  if (!cors['access-control-allow-origin']) return { status: 204, headers: { allow: methods.join(', ') } };
  return {
    status: 204,
    headers: {
      ...cors,
      // Functions sharing a route each see the preflight; allow every method the API uses (routing still enforces them).
      'access-control-allow-methods': 'GET, POST, DELETE',
      'access-control-allow-headers': request.headers.get('access-control-request-headers') ?? 'content-type, authorization',
      'access-control-max-age': '600',
    },
  };
}

function withHeaders(response: HttpResponseInit, extra: Record<string, string>): HttpResponseInit {
  const headers = new Headers(response.headers as HeadersInit | undefined);
  for (const [name, value] of Object.entries(extra)) if (!headers.has(name)) headers.set(name, value);
  return { ...response, headers: Object.fromEntries(headers.entries()) };
}

/** Wraps a route's logic: CORS, security headers, and every thrown error turned into the one error shape. */
export function defineFunction(definition: Omit<ApiFunction, 'handler' | 'authLevel'> & { handle: ApiHandler; authLevel?: 'anonymous' | 'function' }): ApiFunction {
  const methods: HttpMethod[] = [...definition.methods, 'OPTIONS'];
  const handler: ApiHandler = async (request, context) => {
    let response: HttpResponseInit;
    try {
      response = request.method === 'OPTIONS' ? preflight(request, methods) : await definition.handle(request, context);
    } catch (error) {
      if (!(error instanceof ApiError || error instanceof UpstreamError) || toApiError(error).status >= 500) {
        // Name and message only: never request headers or bodies, which may carry keys or tokens.
        context.error(`${definition.name} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      }
      response = errorResponse(error);
    }
    return withHeaders(response, { ...SECURITY_HEADERS, ...corsHeaders(request) });
  };
  return { name: definition.name, route: definition.route, methods, authLevel: definition.authLevel ?? 'anonymous', handler, docs: definition.docs };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, headers: { 'content-type': 'application/json', ...headers }, jsonBody: body };
}
