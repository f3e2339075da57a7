/**
 * The Azure OpenAI (or OpenAI-compatible) client: builds the data-plane URL, authenticates, retries throttling
 * and server errors within a deadline, and decodes streams. Nothing above it sees Azure's wire details.
 */
import { settings as loadSettings, type Settings } from '../config.js';
import { ApiError } from '../http/errors.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../schemas/chat.js';
import type { Completion, CompletionChunk, CompletionRequest } from '../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import { upstreamAuth, type AuthHeaders } from './auth.js';
import { retryAfterMs, streamBroken, upstreamError, upstreamTimeout, upstreamUnreachable } from './errors.js';
import { ConnectionError, readText, send, TimeoutError, type UpstreamResponse } from './http.js';
import { sseData } from './sse.js';

export type Capability = 'chat' | 'completions' | 'embeddings';
export interface CallOptions {
  deployment: string;
  signal?: AbortSignal;
}

const PATHS: Record<Capability, string> = { chat: 'chat/completions', completions: 'completions', embeddings: 'embeddings' };
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

export interface UpstreamClient {
  chatCompletion(body: Omit<ChatCompletionRequest, 'model'>, options: CallOptions): Promise<ChatCompletion>;
  streamChatCompletion(body: Omit<ChatCompletionRequest, 'model'>, options: CallOptions): AsyncGenerator<ChatCompletionChunk, void, undefined>;
  completion(body: Omit<CompletionRequest, 'model'>, options: CallOptions): Promise<Completion>;
  streamCompletion(body: Omit<CompletionRequest, 'model'>, options: CallOptions): AsyncGenerator<CompletionChunk, void, undefined>;
  embeddings(body: Omit<EmbeddingsRequest, 'model'>, options: CallOptions): Promise<EmbeddingsResponse>;
  /** A whole (non-streamed) answer as the upstream's JSON text, for relaying without a parse and re-serialise. */
  rawJson(capability: Capability, body: Record<string, unknown>, options: CallOptions): Promise<string>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

export function createUpstreamClient(settings: Settings, auth: AuthHeaders = upstreamAuth(settings)): UpstreamClient {
  const openAiBase = settings.OPENAI_BASE_URL?.replace(/\/+$/, '');
  const azureBase = settings.AZURE_OPENAI_ENDPOINT?.replace(/\/+$/, '');

  function target(capability: Capability, deployment: string, body: Record<string, unknown>): { url: URL; body: Record<string, unknown> } {
    if (openAiBase) return { url: new URL(`${openAiBase}/${PATHS[capability]}`), body: { ...body, model: deployment } };
    if (!azureBase) throw new ApiError(503, 'service_unavailable', 'No model endpoint is configured (AZURE_OPENAI_ENDPOINT).', null, 'upstream_not_configured');
    const url = new URL(`${azureBase}/openai/deployments/${encodeURIComponent(deployment)}/${PATHS[capability]}`);
    url.searchParams.set('api-version', settings.AZURE_OPENAI_API_VERSION);
    return { url, body };
  }

  /** Sends with retries; resolves with a 2xx response whose body is unread. */
  async function call(capability: Capability, body: Record<string, unknown>, options: CallOptions): Promise<UpstreamResponse> {
    const { url, body: wireBody } = target(capability, options.deployment, body);
    const payload = JSON.stringify(wireBody);
    const deadline = Date.now() + settings.UPSTREAM_RETRY_DEADLINE_MS;
    for (let attempt = 0; ; attempt++) {
      let response: UpstreamResponse;
      try {
        response = await send(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: body.stream ? 'text/event-stream' : 'application/json', ...(await auth()) },
          body: payload,
          signal: options.signal,
          timeoutMs: settings.UPSTREAM_TIMEOUT_MS,
        });
      } catch (error) {
        if (options.signal?.aborted) throw upstreamUnreachable();
        if (error instanceof TimeoutError) throw upstreamTimeout(); // A slow model stays slow: no retry past the timeout.
        if (error instanceof ConnectionError && attempt < settings.UPSTREAM_MAX_RETRIES) {
          const wait = backoff(attempt);
          if (Date.now() + wait < deadline) {
            await sleep(wait, options.signal);
            continue;
          }
        }
        if (error instanceof ApiError) throw error;
        throw upstreamUnreachable();
      }
      if (response.status >= 200 && response.status < 300) return response;
      const text = await readText(response.body, settings.UPSTREAM_TIMEOUT_MS).catch(() => '');
      if (RETRYABLE.has(response.status) && attempt < settings.UPSTREAM_MAX_RETRIES) {
        const wait = retryAfterMs(response.headers) ?? backoff(attempt);
        if (Date.now() + wait < deadline) {
          await sleep(wait, options.signal);
          if (options.signal?.aborted) throw upstreamUnreachable();
          continue;
        }
      }
      throw upstreamError(response.status, response.headers, text);
    }
  }

  async function text(capability: Capability, body: Record<string, unknown>, options: CallOptions): Promise<string> {
    const response = await call(capability, { ...body, stream: false }, options);
    try {
      return await readText(response.body, settings.UPSTREAM_TIMEOUT_MS);
    } catch (error) {
      throw error instanceof TimeoutError ? upstreamTimeout() : upstreamUnreachable();
    }
  }

  async function json<T>(capability: Capability, body: Record<string, unknown>, options: CallOptions): Promise<T> {
    const text_ = await text(capability, body, options);
    try {
      return JSON.parse(text_) as T;
    } catch {
      throw new ApiError(502, 'upstream_error', 'The model service answered with invalid JSON.', null, 'upstream_invalid_response');
    }
  }

  async function* stream<T>(capability: Capability, body: Record<string, unknown>, options: CallOptions): AsyncGenerator<T, void, undefined> {
    const response = await call(capability, { ...body, stream: true }, options);
    try {
      for await (const data of sseData(response.body, settings.STREAM_IDLE_TIMEOUT_MS)) {
        let chunk: T & { error?: { message?: string } };
        try {
          chunk = JSON.parse(data);
        } catch {
          throw streamBroken('an event was not valid JSON');
        }
        if (chunk.error) throw streamBroken(chunk.error.message ?? 'the model reported an error');
        yield chunk as Awaited<T>;
      }
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (error instanceof TimeoutError) throw streamBroken(`no data for ${settings.STREAM_IDLE_TIMEOUT_MS} ms`);
      throw streamBroken('the connection closed early');
    }
  }

  return {
    chatCompletion: (body, options) => json<ChatCompletion>('chat', body, options),
    streamChatCompletion: (body, options) => stream<ChatCompletionChunk>('chat', body, options),
    completion: (body, options) => json<Completion>('completions', body, options),
    streamCompletion: (body, options) => stream<CompletionChunk>('completions', body, options),
    embeddings: (body, options) => json<EmbeddingsResponse>('embeddings', body, options),
    rawJson: (capability, body, options) => text(capability, body, options),
  };
}

/** Exponential backoff with full jitter: 0.5 s, 1 s, 2 s … capped at 8 s. */
function backoff(attempt: number): number {
  const ceiling = Math.min(8000, 500 * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

let shared: UpstreamClient | undefined;
/** The process-wide client, built on first use from the validated settings. */
export function upstream(): UpstreamClient {
  shared ??= createUpstreamClient(loadSettings());
  return shared;
}

/** The deployment a request's `model` names; no model → the capability's default. */
export function resolveDeployment(capability: Capability, model?: string | null): string {
  const s = loadSettings();
  const lists: Record<Capability, string[]> = {
    chat: s.AZURE_OPENAI_CHAT_DEPLOYMENTS,
    completions: s.AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS,
    embeddings: s.AZURE_OPENAI_EMBEDDINGS_DEPLOYMENTS,
  };
  const known = lists[capability];
  if (known.length === 0) {
    // An optional capability left off in this deployment (e.g. no completions model in the region): say what is on.
    const configured = Object.entries(lists)
      .filter(([, names]) => names.length > 0)
      .map(([c, names]) => `${c}: ${names.join(', ')}`);
    const message = `This deployment has no ${capability} model configured. Configured: ${configured.join('; ') || 'none'}.`;
    throw new ApiError(404, 'invalid_request_error', message, 'model', 'deployment_not_configured');
  }
  if (!model) return known[0]!;
  if (known.includes(model)) return model;
  throw new ApiError(404, 'invalid_request_error', `The model '${model}' is not available for ${capability}. Known: ${known.join(', ')}.`, 'model', 'model_not_found');
}
