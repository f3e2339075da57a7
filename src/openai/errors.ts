import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../http/errors.js';

/** Seconds (rounded up, at least 1) the upstream asks us to wait, from `retry-after-ms` or `retry-after`. */
export function retryAfterMs(headers: IncomingHttpHeaders): number | undefined {
  const ms = Number(headers['retry-after-ms']);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

interface AzureErrorBody {
  error?: { code?: string | null; message?: string; param?: string | null; type?: string | null; innererror?: { code?: string } };
}

function parseError(text: string): AzureErrorBody['error'] {
  try {
    return (JSON.parse(text) as AzureErrorBody).error;
  } catch {
    return undefined;
  }
}

/**
 * The caller-facing error for a failed upstream answer. The caller's own mistakes (400) pass through with the
 * upstream's message; failures of ours or Azure's become 502/504; throttling stays 429 with its retry-after.
 */
export function upstreamError(status: number, headers: IncomingHttpHeaders, text: string): ApiError {
  const error = parseError(text);
  const message = error?.message ?? `The upstream answered ${status}.`;
  if (status === 400 && (error?.code === 'content_filter' || error?.innererror?.code === 'ResponsibleAIPolicyViolation')) {
    return new ApiError(400, 'invalid_request_error', message, error?.param ?? 'messages', 'content_filter');
  }
  if (status === 400 || status === 422) return new ApiError(400, 'invalid_request_error', message, error?.param ?? null, error?.code ?? 'upstream_rejected');
  if (status === 413) return new ApiError(413, 'invalid_request_error', message, null, 'payload_too_large');
  if (status === 429) {
    const wait = retryAfterMs(headers) ?? 1000;
    const retryHeaders: Record<string, string> = { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))) };
    if (headers['retry-after-ms']) retryHeaders['retry-after-ms'] = String(headers['retry-after-ms']);
    return new ApiError(429, 'rate_limit_error', `The model is throttled: ${message}`, null, 'rate_limit_exceeded', retryHeaders);
  }
  if (status === 401 || status === 403) {
    return new ApiError(502, 'upstream_error', 'The upstream rejected this service\'s credentials; check its managed identity role or key.', null, 'upstream_auth_failed');
  }
  if (status === 404) return new ApiError(502, 'upstream_error', `The upstream has no such deployment or route: ${message}`, null, 'upstream_not_found');
  if (status === 408 || status === 504) return new ApiError(504, 'upstream_error', 'The model did not answer in time.', null, 'upstream_timeout');
  return new ApiError(502, 'upstream_error', `The model service failed (${status}) after retries.`, null, 'upstream_error');
}

export const upstreamTimeout = () => new ApiError(504, 'upstream_error', 'The model did not answer in time.', null, 'upstream_timeout');
export const upstreamUnreachable = () => new ApiError(502, 'upstream_error', 'The model service could not be reached.', null, 'upstream_unreachable');
export const streamBroken = (reason: string) => new ApiError(502, 'upstream_error', `The model's stream broke off: ${reason}.`, null, 'stream_interrupted');
