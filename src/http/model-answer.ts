import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { RawJson, type CallContext, type ModelAnswer } from '../services/model-call.js';
import { clientSignal } from './cancellation.js';
import { json } from './handler.js';
import { principalOf } from './principal.js';
import { sseResponse } from './sse.js';

/** Quotas charge the signed-in caller (without one, the shared anonymous budget); the call ends if the client goes. */
export const callContext = (request: HttpRequest): CallContext => ({
  caller: principalOf(request)?.id ?? null,
  signal: clientSignal(request),
});

/** JSON for a whole answer (relayed as the upstream's text where nothing read it), SSE for a streamed one. */
export function answerResponse<T>(answer: ModelAnswer<T>, status = 200): HttpResponseInit {
  if (answer.stream) return sseResponse(answer.events);
  if (answer.body instanceof RawJson) {
    return { status, headers: { 'content-type': 'application/json' }, body: answer.body.text };
  }
  return json(status, answer.body);
}
