import { UpstreamError } from './upstream/errors.js';

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
  new ApiError(
    413,
    'invalid_request_error',
    `Request body exceeds the ${limit}-byte limit.`,
    null,
    'payload_too_large',
  );
export const unauthorized = (message: string) =>
  new ApiError(401, 'authentication_error', message, null, 'unauthenticated');
export const conflict = (message: string, code = 'conflict') =>
  new ApiError(409, 'conflict_error', message, null, code);
export const tooManyRequests = (message: string, retryAfterSeconds: number, code = 'rate_limit_exceeded') =>
  new ApiError(429, 'rate_limit_error', message, null, code, {
    'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });
export const serviceUnavailable = (message: string, code = 'service_unavailable', retryAfterSeconds?: number) =>
  new ApiError(503, 'service_unavailable', message, null, code, retryAfterHeader(retryAfterSeconds));
export const forbidden = (message: string, code: string) =>
  new ApiError(403, 'invalid_request_error', message, null, code);
export const unsupportedMediaType = (message: string) =>
  new ApiError(415, 'invalid_request_error', message, null, 'unsupported_media_type');
const retryAfterHeader = (seconds?: number): Record<string, string> =>
  seconds === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(seconds))) };
/** A failure that is ours, not the caller's: answered 500 without detail. */
export const internalError = (message = 'The server had an error processing the request.', code = 'internal_error') =>
  new ApiError(500, 'server_error', message, null, code);

/**
 * How each upstream failure is answered: the caller's own mistakes keep their 4xx, ours and Azure's are
 * 502/503/504. The upstream client throws UpstreamError and knows nothing of this API's statuses.
 */
const UPSTREAM_ANSWERS: Record<UpstreamError['kind'], [status: number, type: ErrorType, code: string]> = {
  rejected: [400, 'invalid_request_error', 'upstream_rejected'],
  content_filter: [400, 'invalid_request_error', 'content_filter'],
  too_large: [413, 'invalid_request_error', 'payload_too_large'],
  throttled: [429, 'rate_limit_error', 'rate_limit_exceeded'],
  unavailable: [503, 'service_unavailable', 'upstream_unavailable'],
  auth_failed: [502, 'upstream_error', 'upstream_auth_failed'],
  not_found: [502, 'upstream_error', 'upstream_not_found'],
  timeout: [504, 'upstream_error', 'upstream_timeout'],
  unreachable: [502, 'upstream_error', 'upstream_unreachable'],
  failed: [502, 'upstream_error', 'upstream_error'],
  invalid_response: [502, 'upstream_error', 'upstream_invalid_response'],
  stream_broken: [502, 'upstream_error', 'stream_interrupted'],
  not_configured: [503, 'service_unavailable', 'upstream_not_configured'],
  deployment_not_configured: [404, 'invalid_request_error', 'deployment_not_configured'],
  unknown_model: [404, 'invalid_request_error', 'model_not_found'],
};

export function fromUpstreamError(error: UpstreamError): ApiError {
  const [status, type, code] = UPSTREAM_ANSWERS[error.kind];
  const { retryAfterMs, param } = error.details;
  const headers: Record<string, string> = {};
  if (retryAfterMs !== undefined && (status === 429 || status === 503)) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    headers['retry-after-ms'] = String(Math.max(0, Math.round(retryAfterMs)));
  } else if (status === 429) {
    headers['retry-after'] = '1';
  }
  // Only a refusal of the caller's input keeps the upstream's own code (it names what to fix).
  const ownCode = error.kind === 'rejected' ? (error.details.code ?? code) : code;
  return new ApiError(status, type, error.message, param ?? null, ownCode, headers);
}

/** Any thrown value as the error to answer with; anything unknown is a 500 without detail. */
export function toApiError(error: unknown, fallback?: ApiError): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof UpstreamError) return fromUpstreamError(error);
  return fallback ?? internalError();
}
