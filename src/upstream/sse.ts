import type { IncomingMessage } from 'node:http';
import { deadline, type Deadline } from './deadlines.js';
import { ConnectionError, TimeoutError } from './http.js';

/**
 * The `data:` payloads of a Server-Sent Events body, in order. Ends normally only at `[DONE]` or a clean end
 * of the body; a body that breaks, or stays silent longer than `idleMs` while it is waited for, throws.
 */
export async function* sseData(body: IncomingMessage, idleMs: number): AsyncGenerator<string, void, undefined> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // One idle watchdog per stream, not a timer and a race per chunk (~1 µs a chunk, measured): it notes when the wait
  // for the next chunk began and, when it fires early, re-arms for the rest. Time the consumer spends with a payload
  // (a slow client) is not silence. On timeout it destroys the body, which ends the wait with that error.
  let waitingSince: number | undefined;
  let watchdog: Deadline | undefined;
  const watch = (ms: number) => {
    watchdog = deadline(ms, () => {
      const quiet = waitingSince === undefined ? 0 : performance.now() - waitingSince;
      if (quiet >= idleMs) body.destroy(new TimeoutError(`stream idle for ${idleMs} ms`));
      else watch(idleMs - quiet);
    });
  };
  try {
    watch(idleMs);
    for (;;) {
      waitingSince = performance.now();
      let next: IteratorResult<Buffer>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw error instanceof TimeoutError
          ? error
          : new ConnectionError(error instanceof Error ? error.message : 'stream failed');
      }
      waitingSince = undefined;
      if (next.done) break;
      buffer += decoder.decode(next.value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (data.length) {
            const payload = data.join('\n');
            data = [];
            if (payload === '[DONE]') return;
            yield payload;
          }
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        }
        // `event:`, `id:`, `retry:` and comments carry nothing Azure OpenAI uses.
      }
    }
    if (!body.complete) throw new ConnectionError('stream closed before it ended');
    if (data.length && data.join('\n') !== '[DONE]') yield data.join('\n');
  } finally {
    watchdog?.cancel();
    // Stopping early (client gone, error) releases the upstream request instead of draining it.
    if (!body.complete) body.destroy();
  }
}
