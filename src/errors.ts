export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'upstream_error'
  | 'service_unavailable'
  | 'server_error';

/**
 * An error any layer can throw: a status and OpenAI's error body. It carries no HTTP machinery, so services,
 * stores and the upstream client use it without importing the HTTP layer; `src/http/errors.ts` answers it.
 */
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
export const payloadTooLarge = (limit: number) =>
  new ApiError(413, 'invalid_request_error', `Request body exceeds the ${limit}-byte limit.`, null, 'payload_too_large');
export const unauthorized = (message: string) => new ApiError(401, 'authentication_error', message, null, 'unauthenticated');
export const conflict = (message: string, code = 'conflict') => new ApiError(409, 'conflict_error', message, null, code);
export const tooManyRequests = (message: string, retryAfterSeconds: number, code = 'rate_limit_exceeded') =>
  new ApiError(429, 'rate_limit_error', message, null, code, { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
export const serviceUnavailable = (message: string, code = 'service_unavailable') =>
  new ApiError(503, 'service_unavailable', message, null, code);
export const badGateway = (message: string, code = 'upstream_error') => new ApiError(502, 'upstream_error', message, null, code);
export const gatewayTimeout = (message: string, code = 'upstream_timeout') =>
  new ApiError(504, 'upstream_error', message, null, code);
/** A failure that is ours, not the caller's: answered 500 without detail. */
export const internalError = (message = 'The server had an error processing the request.', code = 'internal_error') =>
  new ApiError(500, 'server_error', message, null, code);
