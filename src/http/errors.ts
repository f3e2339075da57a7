import type { HttpResponseInit } from '@azure/functions';
import type { z } from 'zod';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'upstream_error'
  | 'service_unavailable'
  | 'server_error';

/** An error a handler can return as-is: status + OpenAI's error body. Made only through the factories below. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = 'invalid_value') =>
  new ApiError(400, 'invalid_request_error', message, param, code);
export const notFound = (message = 'Not found.', code = 'not_found') =>
  new ApiError(404, 'not_found_error', message, null, code);
export const methodNotAllowed = (allowed: string[]) =>
  new ApiError(405, 'invalid_request_error', `Method not allowed. Allowed: ${allowed.join(', ')}.`, null, 'method_not_allowed', {
    allow: allowed.join(', '),
  });
export const payloadTooLarge = (limit: number) =>
  new ApiError(413, 'invalid_request_error', `Request body exceeds the ${limit}-byte limit.`, null, 'payload_too_large');
export const unauthorized = (message: string) => new ApiError(401, 'authentication_error', message, null, 'unauthenticated');
export const conflict = (message: string, code = 'conflict') => new ApiError(409, 'conflict_error', message, null, code);
export const tooManyRequests = (message: string, retryAfterSeconds: number, code = 'rate_limit_exceeded') =>
  new ApiError(429, 'rate_limit_error', message, null, code, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
export const serviceUnavailable = (message: string, code = 'service_unavailable') =>
  new ApiError(503, 'service_unavailable', message, null, code);

/** Turns a zod path into OpenAI's param notation: `messages[0].content`. */
export function paramPath(path: readonly PropertyKey[]): string | null {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || null;
}

export function fromZodError(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  if (!issue) return badRequest('Invalid request body.');
  let path = issue.path;
  let detail: z.core.$ZodIssue = issue;
  // A union that failed on every branch: report the branch that got furthest into the body (its issue's path is deepest).
  while (detail.code === 'invalid_union' && detail.errors[0]?.[0]) {
    // The branch with the fewest issues is the closest match; among equals, one whose type matched (its issue is
    // not a type mismatch) got further, and then the deepest path names the field most precisely.
    const score = (branch: z.core.$ZodIssue[]) => [branch.length, branch[0]!.code === 'invalid_type' ? 1 : 0, -branch[0]!.path.length];
    const better = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
    const branches = detail.errors.filter((branch) => branch.length > 0);
    const best = branches.reduce((a, b) => (better(score(b), score(a)) < 0 ? b : a));
    const inner = best[0]!;
    path = [...path, ...inner.path];
    detail = inner;
  }
  const param = paramPath(path);
  const code = detail.code === 'invalid_type' && /received undefined/.test(detail.message) ? 'missing_required_parameter' : 'invalid_value';
  const message = param ? `Invalid value for '${param}': ${detail.message}` : `Invalid request body: ${detail.message}`;
  return badRequest(message, param, code);
}

/** Anything thrown below a handler becomes a response; unknown errors are logged by the caller and answered 500 without detail. */
export function errorResponse(error: unknown): HttpResponseInit {
  const apiError =
    error instanceof ApiError ? error : new ApiError(500, 'server_error', 'The server had an error processing the request.', null, 'internal_error');
  return { status: apiError.status, headers: { 'content-type': 'application/json', ...apiError.headers }, jsonBody: apiError.toBody() };
}
