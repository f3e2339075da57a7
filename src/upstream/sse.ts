import type { IncomingMessage } from 'node:http';
import { ConnectionError, TimeoutError } from './http.js';

/**
 * The `data:` payloads of a Server-Sent Events body, in order. Ends normally only at `[DONE]` or a clean end
 * of the body; a body that breaks, or stays silent longer than `idleMs`, throws.
 */
export async function* sseData(body: IncomingMessage, idleMs: number): AsyncGenerator<string, void, undefined> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`stream idle for ${idleMs} ms`)), idleMs);
      });
      let next: IteratorResult<Buffer>;
      try {
        next = await Promise.race([iterator.next(), idle]);
      } catch (error) {
        throw error instanceof TimeoutError
          ? error
          : new ConnectionError(error instanceof Error ? error.message : 'stream failed');
      } finally {
        clearTimeout(timer);
      }
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
    // Stopping early (client gone, error) releases the upstream request instead of draining it.
    if (!body.complete) body.destroy();
  }
}
