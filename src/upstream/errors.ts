/**
 * What went wrong with a model call, in the upstream's own terms. The HTTP layer decides how each kind is
 * answered (src/http/errors.ts `toApiError`); nothing here knows status codes of this service's API.
 */
import type { IncomingHttpHeaders } from 'node:http';

export type UpstreamFailure =
  /** The upstream refused the caller's input (its 400/422); message and param come from the upstream. */
  | 'rejected'
  | 'content_filter'
  | 'too_large'
  /** Every backend is throttling; `retryAfterMs` says when the first one takes requests again. */
  | 'throttled'
  /** Every backend's circuit is open; `retryAfterMs` says when the first one takes a trial request. */
  | 'unavailable'
  | 'auth_failed'
  | 'not_found'
  | 'timeout'
  | 'unreachable'
  | 'failed'
  | 'invalid_response'
  | 'stream_broken'
  | 'not_configured'
  | 'deployment_not_configured'
  | 'unknown_model';

export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(
    readonly kind: UpstreamFailure,
    message: string,
    readonly details: { status?: number; code?: string; param?: string | null; retryAfterMs?: number } = {},
  ) {
    super(message);
  }
}

/** Milliseconds the upstream asks us to wait, from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(headers: IncomingHttpHeaders): number | undefined {
  // Number('') is 0: an empty or negative value says nothing, so it must not mean "retry at once".
  const msText = headers['retry-after-ms'];
  const ms = Number(msText);
  if (typeof msText === 'string' && msText.trim() !== '' && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers['retry-after'];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The `error` object of an OpenAI- or Azure-shaped error body, if the text is one. */
export interface WireError {
  code?: string | null;
  message?: string;
  param?: string | null;
  type?: string | null;
  innererror?: { code?: string };
}

export function parseWireError(text: string): WireError | undefined {
  try {
    const error = (JSON.parse(text) as { error?: unknown }).error;
    return error && typeof error === 'object' ? error : undefined;
  } catch {
    return undefined;
  }
}

/** A failed answer (not 2xx) as an UpstreamError; `contentFilter` tells a provider's refusal from other 400s. */
export function failureOf(
  status: number,
  headers: IncomingHttpHeaders,
  text: string,
  contentFilter: (e: WireError) => boolean,
): UpstreamError {
  const error = parseWireError(text);
  const message = error?.message ?? `The upstream answered ${status}.`;
  const code = error?.code ?? undefined;
  if (status === 400 && error && contentFilter(error)) {
    return new UpstreamError('content_filter', message, {
      status,
      code: 'content_filter',
      param: error.param ?? 'messages',
    });
  }
  if (status === 400 || status === 422)
    return new UpstreamError('rejected', message, { status, code, param: error?.param ?? null });
  if (status === 413) return new UpstreamError('too_large', message, { status });
  if (status === 429)
    return new UpstreamError('throttled', `The model is throttled: ${message}`, {
      status,
      retryAfterMs: retryAfterMs(headers),
    });
  if (status === 401 || status === 403) {
    return new UpstreamError(
      'auth_failed',
      "The upstream rejected this service's credentials; check its managed identity role or key.",
      { status },
    );
  }
  if (status === 404)
    return new UpstreamError('not_found', `The upstream has no such deployment or route: ${message}`, { status });
  if (status === 408 || status === 504) return upstreamTimeout();
  return new UpstreamError('failed', `The model service failed (${status}) after retries.`, { status });
}

export const upstreamTimeout = () => new UpstreamError('timeout', 'The model did not answer in time.');
export const upstreamUnreachable = () => new UpstreamError('unreachable', 'The model service could not be reached.');
export const streamBroken = (reason: string) =>
  new UpstreamError('stream_broken', `The model's stream broke off: ${reason}.`);
