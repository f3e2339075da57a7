import type { HttpResponseInit } from '@azure/functions';
import { RawJson, type CallContext, type ModelAnswer } from '../services/model-call.js';
import { clientSignal } from './cancellation.js';
import { json, type RouteInput } from './handler.js';
import { sseResponse } from './sse.js';

/**
 * Quotas charge the signed-in caller (without one, the shared anonymous budget); the call ends if the client goes;
 * the request's telemetry record follows the call.
 */
export const callContext = ({
  request,
  principal,
  telemetry,
}: Pick<RouteInput<unknown, unknown, { id: string } | null>, 'request' | 'principal' | 'telemetry'>): CallContext => ({
  caller: principal?.id ?? null,
  signal: clientSignal(request),
  trace: {},
  telemetry,
});

/** `x-backend`: which upstream backend answered, so callers can see where their traffic went. */
export const backendHeaders = (backend: string | undefined): Record<string, string> =>
  backend ? { 'x-backend': backend } : {};

/** JSON for a whole answer (relayed as the upstream's text where nothing read it), SSE for a streamed one. */
export function answerResponse<T>(answer: ModelAnswer<T>, status = 200): HttpResponseInit {
  const headers = backendHeaders(answer.backend);
  if (answer.stream) return sseResponse(answer.events, headers);
  if (answer.body instanceof RawJson) {
    return { status, headers: { 'content-type': 'application/json', ...headers }, body: answer.body.text };
  }
  return json(status, answer.body, headers);
}
