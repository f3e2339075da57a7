import { internalError, toApiError } from '../errors.js';
import type { Usage } from '../schemas/common.js';
import { EVENT_TEXT } from '../upstream/index.js';

/**
 * Starts an upstream stream and waits for its first chunk, so that throttling, bad input or an unreachable
 * model still answer with a real status code instead of a 200 stream that fails at once.
 */
export async function startStream<T>(
  stream: AsyncGenerator<T, void, undefined>,
): Promise<AsyncGenerator<T, void, undefined>> {
  const first = await stream.next();
  return (async function* () {
    try {
      if (first.done) return;
      yield first.value;
      yield* stream;
    } finally {
      await stream.return(undefined);
    }
  })();
}

/** One Server-Sent Event, as the relay yields it and the HTTP layer writes it. */
export interface SseEvent {
  /** Named event (`event:` line); omitted for plain `data:` events as OpenAI sends them. */
  event?: string;
  /** A string is sent as-is (e.g. `[DONE]`); anything else as JSON. */
  data: unknown;
}

export function errorEvent(error: unknown): SseEvent {
  const apiError = toApiError(error, internalError('The stream failed.', 'stream_interrupted'));
  return { event: 'error', data: apiError.toBody() };
}

export interface StreamAccounting {
  /** Called once the stream completed, with the usage reported to the caller (`counted`: by this service). */
  onComplete?(usage: Usage, texts: string[], counted?: boolean): void | Promise<void>;
  /** Called instead when the stream failed or the client left before it completed, with what was relayed. */
  onAbandon?(texts: string[]): void | Promise<void>;
}

interface Chunk {
  id?: string;
  created?: number;
  model?: string;
  object?: string;
  choices: { index: number }[];
  usage?: Usage | null;
}

/**
 * Relays upstream chunks as SSE. Azure's empty-choices chunks (prompt filter results, its usage chunk) are
 * dropped; the service counts the answer itself and, when the caller asked for `include_usage`, sends a usage
 * chunk (the upstream's figures when it gave them). With `keepEmptyChoices` (the Azure-shaped routes), the
 * empty-choices chunks other than the usage one are relayed as they came, since Azure clients may read their
 * `prompt_filter_results`. Success ends with `[DONE]`; a failure ends with an
 * `error` event and no `[DONE]`, so no client mistakes a broken answer for a whole one.
 */
export async function* relayStream<C extends Chunk>(
  chunks: AsyncGenerator<C, void, undefined>,
  options: {
    includeUsage: boolean;
    /** Counted only when the upstream reports no usage. */
    promptTokens: () => number | Promise<number>;
    textOf: (choice: C['choices'][number]) => string;
    countTokens: (text: string) => number;
    accounting?: StreamAccounting;
    keepEmptyChoices?: boolean;
  },
): AsyncGenerator<SseEvent, void, undefined> {
  const texts: string[] = [];
  let upstreamUsage: Usage | undefined;
  let last: C | undefined;
  let completed = false;
  try {
    try {
      for await (const chunk of chunks) {
        if (chunk.usage) upstreamUsage = chunk.usage;
        if (!chunk.choices?.length) {
          if (options.keepEmptyChoices && !chunk.usage) yield { data: eventText(chunk) ?? chunk };
          continue;
        }
        last = chunk;
        for (const choice of chunk.choices) texts[choice.index] = (texts[choice.index] ?? '') + options.textOf(choice);
        yield { data: relayedText(chunk) ?? withoutUsage(chunk) };
      }
    } catch (error) {
      yield errorEvent(error);
      return;
    } finally {
      await chunks.return(undefined);
    }
    let usage: Usage;
    try {
      // Counted here only when the upstream gave no usage (Azure gives it when asked, and the pipeline asks).
      usage = upstreamUsage ?? (await countedUsage(texts, options));
    } catch (error) {
      yield errorEvent(error); // (not completed: the accounting settles it as abandoned)
      return;
    }
    completed = true;
    try {
      await options.accounting?.onComplete?.(usage, texts, !upstreamUsage);
    } catch (error) {
      yield errorEvent(error);
      return;
    }
    if (options.includeUsage) {
      yield {
        data: {
          id: last?.id ?? '',
          object: last?.object ?? 'chat.completion.chunk',
          created: last?.created ?? Math.floor(Date.now() / 1000),
          model: last?.model ?? '',
          choices: [],
          usage,
        },
      };
    }
    yield { data: '[DONE]' };
  } finally {
    // A broken stream, or a client that left (the host cancels the body and this generator returns early).
    if (!completed) await options.accounting?.onAbandon?.(texts);
  }
}

async function countedUsage(
  texts: string[],
  options: { promptTokens: () => number | Promise<number>; countTokens: (text: string) => number },
): Promise<Usage> {
  const promptTokens = await options.promptTokens();
  const completionTokens = texts.reduce((sum, text) => sum + (text ? options.countTokens(text) : 0), 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** The chunk's JSON text as the upstream sent it, when it is one line (else it is serialised again). */
function eventText(chunk: object): string | undefined {
  const text = (chunk as Record<symbol, unknown>)[EVENT_TEXT];
  return typeof text === 'string' && !text.includes('\n') && !text.includes('\r') ? text : undefined;
}

/**
 * The chunk as the upstream sent it, less its `"usage":null` (there because the pipeline asks for usage): passed on
 * without serialising it again where that is plain from the text — the key is the last of the top-level object, as
 * Azure writes it (a nested object's last key would be followed by another `}`), or absent.
 */
function relayedText(chunk: object): string | undefined {
  const text = eventText(chunk);
  if (text === undefined) return undefined;
  if (text.endsWith(',"usage":null}')) return text.slice(0, -',"usage":null}'.length) + '}';
  return text.includes('"usage"') ? undefined : text;
}

function withoutUsage<C extends Chunk>(chunk: C): Omit<C, 'usage'> {
  const { usage: _drop, ...rest } = chunk;
  return rest;
}
