import type { HttpRequest } from '@azure/functions';

/**
 * The signal that fires when a request's client has gone. A host that can see that (the local host) attaches one;
 * Azure's Functions worker gives a function none today (azure-functions-nodejs-library#273, #294), so there the
 * upstream timeouts and the stream idle timeout bound a request's work instead.
 */
const signals = new WeakMap<HttpRequest, AbortSignal>();

export function attachClientSignal(request: HttpRequest, signal: AbortSignal): void {
  signals.set(request, signal);
}

export function clientSignal(request: HttpRequest): AbortSignal | undefined {
  return signals.get(request);
}
