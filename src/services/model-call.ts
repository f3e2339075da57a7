/**
 * The one model-call pipeline every answering route shares (chat, completions, conversation turns, and what
 * comes after them): reserve quota → call the upstream → relay the stream or return the body → settle the quota
 * to what was really used. Knows nothing of HTTP: the caller's identity and cancellation arrive in a CallContext.
 */
import { upstream, type CallTrace, type Capability } from '../upstream/index.js';
import { reserveTokens, settleTokens, quotasEnabled, type Reservation } from '../quotas/quota.js';
import type { Usage } from '../schemas/common.js';
import { getEncoding, type Encoding } from '../tokens/encodings.js';
import { contextWindowForModel, encodingNameForModel, maxOutputTokensForModel } from '../tokens/models.js';
import { relayStream, startStream, type SseEvent, type StreamAccounting } from './model-stream.js';
import type { CallObserver } from '../telemetry/record.js';

/** An upstream answer relayed as the JSON text it came in (nothing here needed to read it). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** `backend`: the upstream backend that answered (for the `x-backend` header), when the upstream names one. */
export type ModelAnswer<T> = (
  { stream: false; body: T | RawJson } | { stream: true; events: AsyncGenerator<SseEvent, void, undefined> }
) & { backend?: string };

/** Who a call is charged to (principal id, or null for the shared anonymous budget), and when to give up. */
export interface CallContext {
  caller: string | null;
  /** Aborted when the caller has gone (where the host can tell); every upstream call of the request ends then. */
  signal?: AbortSignal;
  /** Azure-shaped routes: streams keep Azure's empty-choices chunks (prompt filter results). */
  azureShape?: boolean;
  /** Filled in by the upstream client with the backend that answered. */
  trace?: CallTrace;
  /** The request's telemetry record: deployment, quota decision, tokens, upstream timing, how a stream ended. */
  telemetry?: CallObserver;
}

/** The encoding that counts a deployment's tokens: by its name when that names a model family, else cl100k_base. */
export function encodingForDeployment(deployment: string): Encoding {
  return getEncoding(encodingNameForModel(deployment) ?? 'cl100k_base');
}

interface Choice {
  index: number;
}
interface WholeAnswer {
  usage?: Usage | null;
}
interface Chunk {
  choices: Choice[];
  usage?: Usage | null;
}

export interface ModelCall<C extends Chunk> {
  capability: Extract<Capability, 'chat' | 'completions'>;
  deployment: string;
  /** The upstream request body (no `model`: the deployment names it). */
  body: Record<string, unknown> & { stream?: boolean | null };
  /**
   * Prompt tokens, counted only when something needs them (quotas; a stream whose upstream gave no usage, or that
   * was abandoned) and at most once per call; large prompts off-thread.
   */
  promptTokens: () => number | Promise<number>;
  /** The answer-length field the caller used (`max_completion_tokens` wins over `max_tokens`), per choice. */
  answerLimit: { field: 'max_tokens' | 'max_completion_tokens'; value: number | undefined };
  /** Choices produced: `n` × the number of prompts. */
  choices: number;
  /** The caller sees a usage chunk at the end of a stream. */
  includeUsage: boolean;
  /** Text of one streamed choice delta, for counting what was delivered. */
  textOf: (choice: C['choices'][number]) => string;
  /** The whole answer must be parsed (a caller reads it), even where it could be relayed as text. */
  parse?: boolean;
  /** Runs once a stream completed, before `[DONE]`; a failure becomes the stream's error event. */
  onStreamComplete?: (texts: string[], usage: Usage) => Promise<void>;
  /**
   * Turns the upstream's chunks into the caller's events itself (the Responses API's event stream) instead of
   * relaying chat chunks; it must call `accounting.onComplete` or `onAbandon` exactly once.
   */
  relay?: (
    chunks: AsyncGenerator<C, void, undefined>,
    accounting: StreamAccounting,
    promptTokens: number,
  ) => AsyncGenerator<SseEvent, void, undefined>;
}

/**
 * Reserves the call's worst case against the caller's quota. With `max_tokens` given, it is all or nothing
 * (429); without, as much as the caller has left up to the model's output limit, and the answer is capped to
 * it, so no request can spend past the budget.
 */
async function reserve<C extends Chunk>(
  call: ModelCall<C>,
  context: CallContext,
  promptTokens: () => Promise<number>,
): Promise<Reservation | null> {
  if (!quotasEnabled()) return null;
  const prompt = await promptTokens();
  // Unasked, an answer is at most the model's output limit and what its context window leaves after the prompt
  // (where the window is known): a cap sent past the window would make the model refuse the call (400).
  const room = contextWindowForModel(call.deployment, Number.POSITIVE_INFINITY) - prompt;
  const perChoice = call.answerLimit.value ?? Math.max(1, Math.min(maxOutputTokensForModel(call.deployment), room));
  const wanted = prompt + perChoice * call.choices;
  const minimum = call.answerLimit.value === undefined ? prompt + call.choices : wanted;
  const reservation = await observedReservation(context, () => reserveTokens(context.caller, wanted, minimum), wanted);
  // Capped when the budget is short, and always for an unasked chat answer: a deployment whose output limit this
  // service does not know could otherwise write past what was reserved.
  const unaskedChat = call.capability === 'chat' && call.answerLimit.value === undefined;
  if (reservation && (reservation.reserved < wanted || unaskedChat)) {
    call.body[call.answerLimit.field] = Math.max(1, Math.floor((reservation.reserved - prompt) / call.choices));
  }
  return reservation;
}

/** Reserves through `take`, telling the record what the quota decided (refusals are the 429 it throws). */
async function observedReservation(
  context: CallContext,
  take: () => Promise<Reservation | null>,
  wanted: number,
): Promise<Reservation | null> {
  const record = context.telemetry;
  try {
    const reservation = await take();
    if (record) record.quota = !reservation ? 'off' : reservation.reserved < wanted ? 'capped' : 'granted';
    return reservation;
  } catch (error) {
    if (record && (error as { code?: unknown }).code === 'quota_exceeded') record.quota = 'refused';
    throw error;
  }
}

/**
 * The usage figures of an upstream answer relayed as text, without parsing the whole of it. A quote inside a
 * JSON string is escaped, so the last `"usage"` is the answer's own field, never one in the model's text.
 */
function usageInText(text: string): { prompt?: number; completion?: number } {
  const at = text.lastIndexOf('"usage"');
  if (at < 0) return {};
  return {
    prompt: integerField(text, '"prompt_tokens"', at),
    completion: integerField(text, '"completion_tokens"', at),
  };
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

/** The integer value of `"name": 123` within 400 characters after `from` (a regex here cost ~1 µs per answer). */
function integerField(text: string, quotedName: string, from: number): number | undefined {
  let i = text.indexOf(quotedName, from);
  if (i < 0 || i > from + 400) return undefined;
  i += quotedName.length;
  while (isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i++) !== 58 /* : */) return undefined;
  while (isSpace(text.charCodeAt(i))) i++;
  let value = 0;
  let digits = 0;
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i), digits++) value = value * 10 + c - 48;
  return digits > 0 ? value : undefined;
}

export async function callModel<T extends WholeAnswer, C extends Chunk>(
  call: ModelCall<C>,
  context: CallContext,
): Promise<ModelAnswer<T>> {
  const client = upstream();
  const trace = context.trace ?? {};
  const record = context.telemetry;
  if (record) record.deployment = call.deployment;
  const options = { deployment: call.deployment, signal: context.signal, trace, observer: record };
  const stream = call.body.stream === true;
  // The hot path: nothing to count or read, so the answer is relayed as it came.
  if (!stream && !call.parse && !quotasEnabled()) {
    const text = await client.rawJson(call.capability, call.body, options);
    if (record) {
      record.quota = 'off';
      const usage = usageInText(text);
      record.tokens(usage.prompt, usage.completion, 'upstream');
    }
    return { stream: false, body: new RawJson(text), backend: trace.backend };
  }
  // Counted once, when first needed: a stream whose upstream reports usage (Azure does, asked) never counts it.
  let counting: Promise<number> | undefined;
  const promptTokens = () => (counting ??= Promise.resolve().then(call.promptTokens));
  const reservation = await reserve(call, context, promptTokens);
  if (record && !reservation) record.quota = 'off';
  if (!stream) {
    try {
      const body = (await (call.capability === 'chat'
        ? client.chatCompletion(call.body as never, options)
        : client.completion(call.body as never, options))) as unknown as T;
      record?.tokens(body.usage?.prompt_tokens, body.usage?.completion_tokens, 'upstream');
      await settleTokens(reservation, body.usage?.total_tokens ?? reservation?.reserved ?? 0);
      return { stream: false, body, backend: trace.backend };
    } catch (error) {
      await settleTokens(reservation, context.signal?.aborted && trace.sent ? await promptTokens() : 0);
      throw error;
    }
  }
  // Always ask the upstream for usage; the caller only sees a usage chunk when it asked for one.
  const wire = Object.assign({}, call.body, { stream_options: { include_usage: true } }); // (not a spread: Node 20)
  let chunks: AsyncGenerator<C, void, undefined>;
  try {
    const upstreamChunks = (call.capability === 'chat'
      ? client.streamChatCompletion(wire as never, options)
      : client.streamCompletion(wire as never, options)) as unknown as AsyncGenerator<C, void, undefined>;
    chunks = await startStream(upstreamChunks);
  } catch (error) {
    // A client that left after the request went upstream is charged its prompt (the model read it); a failure
    // that never reached the model, nothing.
    await settleTokens(reservation, context.signal?.aborted && trace.sent ? await promptTokens() : 0);
    throw error;
  }
  const encoding = encodingForDeployment(call.deployment);
  record?.streamStarted();
  const accounting = streamAccounting(reservation, promptTokens, encoding, context, call.onStreamComplete);
  return {
    stream: true,
    backend: trace.backend, // known: startStream waited for the first chunk
    events: call.relay
      ? call.relay(chunks, accounting, await promptTokens())
      : relayStream<C>(chunks, {
          includeUsage: call.includeUsage,
          promptTokens,
          textOf: call.textOf,
          countTokens: (text) => encoding.count(text),
          accounting,
          keepEmptyChoices: context.azureShape,
        }),
  };
}

/**
 * Settles a streamed answer: to the counted usage when it completes; when it breaks or the client leaves, to
 * the prompt plus every token already delivered (dropping a stream must not make its answer free).
 */
function streamAccounting(
  reservation: Reservation | null,
  promptTokens: () => Promise<number>,
  encoding: Encoding,
  context: CallContext,
  onComplete?: (texts: string[], usage: Usage) => Promise<void>,
): StreamAccounting {
  const record = context.telemetry;
  return {
    async onComplete(usage, texts, counted) {
      record?.tokens(usage.prompt_tokens, usage.completion_tokens, counted ? 'service' : 'upstream');
      try {
        await settleTokens(reservation, usage.total_tokens);
        await onComplete?.(texts, usage);
      } catch (error) {
        record?.streamEnded('error');
        throw error;
      }
      record?.streamEnded('done');
    },
    async onAbandon(texts) {
      const delivered = texts.reduce((sum, text) => sum + (text ? encoding.count(text) : 0), 0);
      // With quotas on, the reservation counted it already; without, it is for the record only, so a tokenizer too
      // busy to count it now (503) leaves the record without it rather than the stream's end with an error.
      const prompt = await promptTokens().catch(() => undefined);
      record?.tokens(prompt, delivered, 'service');
      try {
        await settleTokens(reservation, (prompt ?? 0) + delivered);
      } finally {
        record?.streamEnded(context.signal?.aborted ? 'client_left' : 'abandoned');
      }
    },
  };
}

/** A call outside the chat/completions shape (embeddings): reserved at its estimate, settled to its usage. */
export async function callMetered<T extends WholeAnswer>(
  context: CallContext,
  estimate: () => Promise<number>,
  call: () => Promise<T>,
): Promise<T> {
  const reservation = quotasEnabled()
    ? await observedReservation(context, async () => reserveTokens(context.caller, await estimate()), 0)
    : null;
  if (context.telemetry && !reservation) context.telemetry.quota = 'off';
  try {
    const result = await call();
    context.telemetry?.tokens(result.usage?.prompt_tokens, result.usage?.completion_tokens, 'upstream');
    await settleTokens(reservation, result.usage?.total_tokens ?? reservation?.reserved ?? 0);
    return result;
  } catch (error) {
    await settleTokens(reservation, 0);
    throw error;
  }
}
