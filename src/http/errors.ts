import type { HttpResponseInit } from '@azure/functions';
import type * as z from 'zod/mini';
import { ApiError, badRequest, toApiError } from '../errors.js';

export * from '../errors.js';

/** Turns a zod path into OpenAI's param notation: `messages[0].content`. */
export function paramPath(path: readonly PropertyKey[]): string | null {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || null;
}

export function fromZodError(error: z.core.$ZodError): ApiError {
  const issue = error.issues[0];
  if (!issue) return badRequest('Invalid request body.');
  let path = issue.path;
  let detail: z.core.$ZodIssue = issue;
  // A union that failed on every branch: report the branch that got furthest into the body (its issue's path is
  // deepest).
  while (detail.code === 'invalid_union' && detail.errors[0]?.[0]) {
    // The branch with the fewest issues is the closest match; among equals, one whose type matched (its issue is
    // not a type mismatch) got further, and then the deepest path names the field most precisely.
    const score = (branch: z.core.$ZodIssue[]) => [
      branch.length,
      branch[0]!.code === 'invalid_type' ? 1 : 0,
      -branch[0]!.path.length,
    ];
    const better = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
    const branches = detail.errors.filter((branch) => branch.length > 0);
    const best = branches.reduce((a, b) => (better(score(b), score(a)) < 0 ? b : a));
    const inner = best[0]!;
    path = [...path, ...inner.path];
    detail = inner;
  }
  const param = paramPath(path);
  const code =
    detail.code === 'invalid_type' && /received undefined/.test(detail.message)
      ? 'missing_required_parameter'
      : 'invalid_value';
  const message = param ? `Invalid value for '${param}': ${detail.message}` : `Invalid request body: ${detail.message}`;
  return badRequest(message, param, code);
}

/**
 * Anything thrown below a handler becomes a response; unknown errors are logged by the caller and answered 500 without
 * detail.
 */
export function errorResponse(error: unknown): HttpResponseInit {
  const apiError = toApiError(error);
  return {
    status: apiError.status,
    headers: { 'content-type': 'application/json', ...apiError.headers },
    jsonBody: apiError.toBody(),
  };
}
