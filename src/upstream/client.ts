/**
 * The model client: picks a backend (router.ts), calls it the way its provider says (providers.ts), fails
 * over at once on throttling, retries server errors within a deadline, and decodes streams. Nothing above it
 * sees the wire; what fails is an UpstreamError, which the HTTP layer maps to its answer.
 */
import { settings as loadSettings, type Settings } from '../config.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../schemas/chat.js';
import type { Completion, CompletionChunk, CompletionRequest } from '../schemas/completions.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import { streamBroken, upstreamTimeout, upstreamUnreachable, UpstreamError } from './errors.js';
import { readText, send, SendFailure, TimeoutError, type UpstreamResponse } from './http.js';
import { chooseProvider, type Capability, type ProviderDependencies, type UpstreamProvider } from './providers.js';
import { Router, type Backend, type BackendStatus } from './router.js';
import { sseData } from './sse.js';
import type { UpstreamObserver } from '../telemetry/record.js';

export type { Capability } from './providers.js';

/**
 * On each streamed chunk the client yields: the event's JSON text as the upstream sent it, so a relay can pass it on
 * without serialising the parsed chunk again (a symbol: never part of the chunk's own JSON).
 */
export const EVENT_TEXT = Symbol('upstream event text');

/** Filled in by the client: which backend's answer the caller got (for the `x-backend` response header). */
export interface CallTrace {
  backend?: string;
  /**
   * The whole request reached a backend's connection (or its answer came back): from then on the model may have read
   * the prompt, and a caller who leaves is charged it. A request cut off while its connection was being made is not.
   */
  sent?: boolean;
}

export interface CallOptions {
  deployment: string;
  signal?: AbortSignal;
  trace?: CallTrace;
  /** The request's telemetry record: told of each send, failure and the answer's timing. */
  observer?: UpstreamObserver;
}

export interface UpstreamClient {
  chatCompletion(body: Omit<ChatCompletionRequest, 'model'>, options: CallOptions): Promise<ChatCompletion>;
  streamChatCompletion(
    body: Omit<ChatCompletionRequest, 'model'>,
    options: CallOptions,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined>;
  completion(body: Omit<CompletionRequest, 'model'>, options: CallOptions): Promise<Completion>;
  streamCompletion(
    body: Omit<CompletionRequest, 'model'>,
    options: CallOptions,
  ): AsyncGenerator<CompletionChunk, void, undefined>;
  embeddings(body: Omit<EmbeddingsRequest, 'model'>, options: CallOptions): Promise<EmbeddingsResponse>;
  /** A whole (non-streamed) answer as the upstream's JSON text, for relaying without a parse and re-serialise. */
  rawJson(capability: Capability, body: Record<string, unknown>, options: CallOptions): Promise<string>;
  /** What health shows: the provider, how it authenticates, and each backend's state (no keys, no tokens). */
  describe(): UpstreamDescription;
}

export interface UpstreamDescription {
  kind: UpstreamProvider['kind'];
  host: string | null;
  auth: UpstreamProvider['authKind'];
  backends: BackendStatus[];
}

/** A 429 without retry-after cools its backend this long. */
const DEFAULT_THROTTLE_MS = 1000;
/** One call never re-asks a backend that just throttled it sooner than this, even on `retry-after-ms: 0`. */
const MIN_RETRY_GAP_MS = 20;
/** Answers that a same-request retry may cure (408 and 5xx count toward the breaker, 429 cools the backend). */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
/** Answers that are about one backend's setup, not the request: another backend may have it right. */
const TRY_ANOTHER = new Set([401, 403, 404]);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Exponential backoff with full jitter: 0.5 s, 1 s, 2 s … capped at 8 s. */
function backoff(attempt: number): number {
  const ceiling = Math.min(8000, 500 * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** This call's own exclusions: a backend that failed it, and from when it may be tried again. */
type NotBefore = Map<Backend, number>;

export function createUpstreamClient(
  settings: Settings,
  deps: ProviderDependencies & { provider?: UpstreamProvider; random?: () => number } = {},
): UpstreamClient {
  const provider = deps.provider ?? chooseProvider(settings, deps);
  const router = new Router(provider.backends, {
    routed: provider.routed,
    breaker: {
      failures: settings.UPSTREAM_BREAKER_FAILURES,
      windowMs: settings.UPSTREAM_BREAKER_WINDOW_MS,
      cooldownMs: settings.UPSTREAM_BREAKER_COOLDOWN_MS,
    },
    random: deps.random,
  });
  const debug = settings.LOG_LEVEL === 'debug' ? (message: string) => console.debug(`upstream: ${message}`) : undefined;

  /**
   * Sends to one backend after another until one answers 2xx; resolves with that response, its body unread.
   * Throttling moves on to the next backend at once; waiting happens only when no backend can take the call.
   */
  async function call(
    capability: Capability,
    body: Record<string, unknown>,
    options: CallOptions,
    notBefore: NotBefore = new Map(),
  ): Promise<{ response: UpstreamResponse; backend: Backend }> {
    // Sent as a string: Node writes a string body and the request head as one string in one socket write, where a
    // Buffer body costs a copy first and a two-part write (a retry encodes the string again, which is cheap).
    const payload = JSON.stringify(provider.wireBody(options.deployment, body));
    // A stream asks for events; a whole answer is JSON without asking (one header fewer to validate and send).
    const accept = body.stream ? 'text/event-stream' : undefined;
    const started = Date.now();
    const deadline = started + settings.UPSTREAM_RETRY_DEADLINE_MS;
    const maxSends = Math.max(1, provider.backends.length) * (settings.UPSTREAM_MAX_RETRIES + 1);
    let last: UpstreamError | undefined;
    for (let waits = 0, sends = 0, resumeAt = 0; ;) {
      // After a wait, time is at least its end (a timer may fire a millisecond before Date.now() agrees).
      const now = sends === 0 && waits === 0 ? started : Math.max(Date.now(), resumeAt);
      const backend = sends < maxSends ? router.pick(now, notBefore) : undefined;
      if (!backend) {
        if (provider.backends.length === 0) throw provider.failure(0, {}, '');
        const wait = router.waitMs(now, notBefore);
        const giveUp =
          sends >= maxSends ||
          last?.kind === 'timeout' ||
          waits >= settings.UPSTREAM_MAX_RETRIES ||
          now + wait >= deadline;
        if (giveUp) {
          const error = exhausted(last, wait, now);
          debug?.(`${capability} ${options.deployment}: no backend can take the call (${error.kind})`);
          throw error;
        }
        debug?.(`${capability} ${options.deployment}: no backend free, waiting ${Math.round(wait)} ms`);
        await sleep(wait, options.signal);
        if (options.signal?.aborted) throw upstreamUnreachable();
        resumeAt = now + wait;
        waits++;
        continue;
      }
      sends++;
      debug?.(
        `${capability} ${options.deployment} → ${backend.name} ` +
          `(priority ${backend.config.priority}${backend.breaker === 'open' ? ', trial' : ''})`,
      );
      let response: UpstreamResponse;
      options.observer?.upstreamSend(backend.name);
      try {
        const auth = provider.auth();
        const authHeaders = auth instanceof Promise ? await auth : auth;
        const headers: Record<string, string> = accept
          ? { 'content-type': 'application/json', accept, ...authHeaders }
          : { 'content-type': 'application/json', ...authHeaders };
        response = await send(provider.url(backend.config, capability, options.deployment), {
          method: 'POST',
          headers,
          body: payload,
          signal: options.signal,
          timeoutMs: settings.UPSTREAM_TIMEOUT_MS,
        });
      } catch (error) {
        // Sent if the whole request left before it failed or was cut off (not while its connection was being made).
        if (options.trace && error instanceof SendFailure && error.delivered) options.trace.sent = true;
        if (options.signal?.aborted) {
          router.release(backend);
          throw upstreamUnreachable();
        }
        if (!(error instanceof SendFailure)) {
          router.release(backend);
          throw upstreamUnreachable(); // e.g. no token from the credential: nothing the backend did.
        }
        failed(backend, Date.now(), error instanceof TimeoutError ? 'timeout' : 'connection error');
        options.observer?.upstreamFailed(error instanceof TimeoutError ? 'timeout' : 'connection');
        // A slow model stays slow: after a timeout only another backend that is free right now is tried.
        notBefore.set(backend, error instanceof TimeoutError ? Infinity : Date.now() + backoff(waits));
        last = error instanceof TimeoutError ? upstreamTimeout() : upstreamUnreachable();
        continue;
      }
      if (options.trace) options.trace.sent = true;
      options.observer?.upstreamHeaders(response.status, response.header('apim-request-id'));
      if (response.status >= 200 && response.status < 300) {
        router.succeeded(backend, Date.now());
        if (options.trace) options.trace.backend = backend.name;
        return { response, backend };
      }
      const text = await readText(response.body, settings.UPSTREAM_TIMEOUT_MS).catch(() => '');
      const failure = provider.failure(response.status, response.headers, text);
      options.observer?.upstreamFailed(String(response.status));
      const at = Date.now();
      if (response.status === 429) {
        const until = router.throttled(backend, failure.details.retryAfterMs ?? DEFAULT_THROTTLE_MS, at);
        debug?.(`${backend.name} throttled (429), cooling ${until - at} ms`);
        notBefore.set(backend, Math.max(until, at + MIN_RETRY_GAP_MS));
      } else if (RETRYABLE.has(response.status)) {
        failed(backend, at, String(response.status));
        notBefore.set(backend, at + backoff(waits));
      } else if (TRY_ANOTHER.has(response.status) && provider.backends.length > 1) {
        router.rejected(backend, at);
        debug?.(`${backend.name} answered ${response.status}; trying another backend`);
        notBefore.set(backend, Infinity);
      } else {
        router.rejected(backend, at);
        throw failure;
      }
      last = failure;
    }
  }

  function failed(backend: Backend, now: number, why: string) {
    const opened = router.failed(backend, now);
    debug?.(
      `${backend.name} failed (${why})` +
        (opened ? `; circuit open for ${settings.UPSTREAM_BREAKER_COOLDOWN_MS} ms` : ''),
    );
  }

  /** The error when no backend can take the call within the deadline. */
  function exhausted(last: UpstreamError | undefined, wait: number, now: number): UpstreamError {
    if (last && last.kind !== 'throttled') return last;
    const retryAfterMs = Number.isFinite(wait) ? wait : settings.UPSTREAM_BREAKER_COOLDOWN_MS;
    if (last?.kind === 'throttled' || router.anyCooling(now)) {
      // Every backend is cooling: the caller may come back when the first of them is free again.
      return new UpstreamError('throttled', last?.message ?? 'The model is throttled on every backend.', {
        ...last?.details,
        retryAfterMs,
      });
    }
    return new UpstreamError('unavailable', 'Every model backend is failing; its circuit is open.', { retryAfterMs });
  }

  /**
   * Calls and then reads the answer; when reading fails before anything was handed on, the call goes to
   * another backend (only if one is free now), so a backend that breaks before its first byte costs nothing.
   */
  async function* attempt<T>(
    capability: Capability,
    body: Record<string, unknown>,
    options: CallOptions,
    read: (response: UpstreamResponse) => AsyncGenerator<T, void, undefined>,
  ): AsyncGenerator<T, void, undefined> {
    const notBefore: NotBefore = new Map();
    for (;;) {
      const { response, backend } = await call(capability, body, options, notBefore);
      let handedOn = false;
      try {
        for await (const item of read(response)) {
          handedOn = true;
          yield item;
        }
        return;
      } catch (error) {
        if (handedOn || !brokeBeforeFirstByte(error, backend, options, notBefore)) throw error;
      }
    }
  }

  /**
   * An answer that broke while it was read, before anything was handed on: the backend is marked failed, and true
   * when another backend is free right now to take the call again.
   */
  function brokeBeforeFirstByte(error: unknown, backend: Backend, options: CallOptions, notBefore: NotBefore) {
    const broken = error instanceof SendFailure;
    if (!broken || options.signal?.aborted) return false;
    failed(backend, Date.now(), 'broke before its first byte');
    options.observer?.upstreamFailed('broken');
    notBefore.set(backend, Infinity);
    return router.waitMs(Date.now(), notBefore) <= 0;
  }

  /** A whole answer's text: `attempt` without an async generator (the hot path; each step of one costs promises). */
  async function text(capability: Capability, body: Record<string, unknown>, options: CallOptions): Promise<string> {
    const notBefore: NotBefore = new Map();
    const wire = Object.assign({}, body, { stream: false }); // not a spread: Node 20 (see send in http.ts)
    try {
      for (;;) {
        const { response, backend } = await call(capability, wire, options, notBefore);
        try {
          return await readText(response.body, settings.UPSTREAM_TIMEOUT_MS);
        } catch (error) {
          if (!brokeBeforeFirstByte(error, backend, options, notBefore)) throw error;
        }
      }
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw error instanceof TimeoutError ? upstreamTimeout() : upstreamUnreachable();
    } finally {
      options.observer?.upstreamDone();
    }
  }

  async function json<T>(capability: Capability, body: Record<string, unknown>, options: CallOptions): Promise<T> {
    const text_ = await text(capability, body, options);
    try {
      return JSON.parse(text_) as T;
    } catch {
      throw new UpstreamError('invalid_response', 'The model service answered with invalid JSON.');
    }
  }

  async function* stream<T>(
    capability: Capability,
    body: Record<string, unknown>,
    options: CallOptions,
  ): AsyncGenerator<T, void, undefined> {
    try {
      for await (const data of attempt(capability, Object.assign({}, body, { stream: true }), options, (response) =>
        sseData(response.body, settings.STREAM_IDLE_TIMEOUT_MS),
      )) {
        let chunk: T & { error?: { message?: string } };
        try {
          chunk = JSON.parse(data) as T & { error?: { message?: string } };
        } catch {
          throw streamBroken('an event was not valid JSON');
        }
        if (chunk.error) throw streamBroken(chunk.error.message ?? 'the model reported an error');
        (chunk as Record<symbol, unknown>)[EVENT_TEXT] = data;
        yield chunk as Awaited<T>;
      }
    } catch (error) {
      options.observer?.upstreamCut(error instanceof TimeoutError); // (before it started: the answer is an error)
      if (error instanceof UpstreamError) throw error;
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
    describe: () => ({
      kind: provider.kind,
      host: provider.backends[0] ? new URL(provider.backends[0].endpoint).host : null,
      auth: provider.authKind,
      backends: router.status(Date.now()),
    }),
  };
}

let shared: UpstreamClient | undefined;
/** The process-wide client, built on first use from the validated settings. */
export function upstream(): UpstreamClient {
  shared ??= createUpstreamClient(loadSettings());
  return shared;
}

let listsFor: Settings | undefined;
let lists: Readonly<Record<Capability, readonly string[]>> | undefined;

/**
 * The configured deployment aliases of each capability, in configuration order. Worked out once per settings object
 * (they do not change at run time): every model request asks.
 */
export function deploymentLists(): Readonly<Record<Capability, readonly string[]>> {
  const s = loadSettings();
  if (listsFor !== s || !lists) {
    lists = {
      chat: s.AZURE_OPENAI_CHAT_DEPLOYMENTS,
      completions: s.AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS,
      embeddings: s.AZURE_OPENAI_EMBEDDINGS_DEPLOYMENTS,
    };
    listsFor = s;
  }
  return lists;
}

/** The deployment a request's `model` names; no model → the capability's default. */
export function resolveDeployment(capability: Capability, model?: string | null): string {
  const lists = deploymentLists();
  const known = lists[capability];
  if (known.length === 0) {
    // An optional capability left off in this deployment (e.g. no completions model in the region): say what is on.
    const configured = Object.entries(lists)
      .filter(([, names]) => names.length > 0)
      .map(([c, names]) => `${c}: ${names.join(', ')}`);
    const message = `This deployment has no ${capability} model configured. Configured: ${configured.join('; ') || 'none'}.`;
    throw new UpstreamError('deployment_not_configured', message, { param: 'model' });
  }
  if (!model) return known[0]!;
  if (known.includes(model)) return model;
  throw new UpstreamError(
    'unknown_model',
    `The model '${model}' is not available for ${capability}. Known: ${known.join(', ')}.`,
    { param: 'model' },
  );
}
