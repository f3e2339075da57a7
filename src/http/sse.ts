import type { HttpResponseInit } from '@azure/functions';
import type { SseEvent } from '../services/model-stream.js';

export type { SseEvent };

const encoder = new TextEncoder();

export function formatSse(event: SseEvent): Uint8Array {
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
  const head = event.event ? `event: ${event.event}\n` : '';
  return encoder.encode(`${head}data: ${data}\n\n`);
}

/**
 * A streamed response from an async generator of events. When the client goes away the host cancels the
 * body; we then `return()` the generator so its `finally` blocks abort the upstream call.
 */
export function sseResponse(
  events: AsyncGenerator<SseEvent, void, undefined>,
  headers: Record<string, string> = {},
): HttpResponseInit {
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await events.next();
        if (next.done) controller.close();
        else controller.enqueue(formatSse(next.value));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await events.return(undefined);
    },
  });
  return {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      ...headers,
    },
    body,
  };
}
