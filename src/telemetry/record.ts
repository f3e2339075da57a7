/**
 * One structured record per request. `defineFunction` creates it, the model-call pipeline and the upstream
 * client fill it through the small interfaces below (so services import nothing of HTTP), and it is emitted
 * once: when the handler answered, or — for a streamed answer — when the stream ended.
 * It holds identifiers, counts and timings only: never message content, prompts, keys, tokens or a raw principal.
 */

/** How a streamed answer ended. `error`: it failed after the model finished (e.g. storing a conversation turn). */
export type StreamEnd = 'done' | 'client_left' | 'upstream_cut' | 'idle_timeout' | 'error';
/** What the caller's token quota said: off, granted in full, granted less (the answer capped), or refused (429). */
export type QuotaDecision = 'off' | 'granted' | 'capped' | 'refused';

/** What is written: field names are the Kusto column names in docs/telemetry.md. */
export interface RequestFields {
  event: 'request';
  request_id: string;
  /** The function's name and its route template (never the concrete path: it may carry ids). */
  function: string;
  route: string;
  method: string;
  /** A salted hash of the principal id (`anonymous` without one); see caller.ts. */
  caller: string;
  status: number;
  /** The error's `code` (no message: messages can quote what the caller sent). */
  error_code?: string;
  duration_ms: number;
  deployment?: string;
  /** The backend that answered (its configured name), and Azure's `apim-request-id` of each upstream answer. */
  backend?: string;
  apim_request_id?: string;
  /** From the first upstream send to the end of its answer (body read, or stream ended), retries included. */
  upstream_ms?: number;
  /** From the first upstream send to the answering response's headers, retries included. */
  ttfb_ms?: number;
  prompt_tokens?: number;
  completion_tokens?: number;
  /** `upstream`: the model's usage figures; `service`: counted here (streams the service settled itself). */
  tokens_source?: 'upstream' | 'service';
  retries: number;
  /** One entry per retried attempt: the upstream status (`429`, `503`…) or `connection`. */
  retry_causes?: string[];
  /** Upstream 429 answers seen, retried or not. */
  throttled?: number;
  quota?: QuotaDecision;
  stream?: StreamEnd;
}

/** What the upstream client reports of its attempts (passed in its CallOptions). */
export interface UpstreamObserver {
  /** An attempt is about to be sent to `backend` (its configured name, never a URL or key). */
  upstreamSend(backend: string): void;
  /** A response's headers arrived (every attempt's, the failed ones too), with this status and Azure's
   * `apim-request-id` (Azure OpenAI's id for the call, logged beside ours). */
  upstreamHeaders(status: number, apimRequestId?: string): void;
  /** The attempt failed (`cause`: its status, `timeout`, `connection`, `broken`); a later send makes it a retry. */
  upstreamFailed(cause: string): void;
  /** The answer's body was read to its end (whole answers; a stream ends through `streamEnded`). */
  upstreamDone(): void;
  /** A stream broke off after it started; `idle`: it sent nothing for longer than its idle timeout. */
  upstreamCut(idle: boolean): void;
}

/** What the model-call pipeline reports (reachable from its CallContext). */
export interface CallObserver extends UpstreamObserver {
  deployment?: string;
  quota?: QuotaDecision;
  tokens(prompt: number | undefined, completion: number | undefined, source: 'upstream' | 'service'): void;
  streamStarted(): void;
  /**
   * How the stream ended: `client_left` when the client is known to have gone; `abandoned` when it stopped short
   * for another reason (the upstream's cut or idle timeout, when the client reported one, else the client).
   */
  streamEnded(reason: 'done' | 'error' | 'client_left' | 'abandoned'): void;
}

const ms = (from: number, to: number) => Math.round((to - from) * 10) / 10;

export class RequestRecord implements CallObserver {
  deployment?: string;
  quota?: QuotaDecision;
  private readonly started = performance.now();
  private backend?: string;
  private upstreamStart?: number;
  private ttfb?: number;
  private upstreamEnd?: number;
  private promptTokens?: number;
  private completionTokens?: number;
  private tokensSource?: 'upstream' | 'service';
  private readonly retryCauses: string[] = [];
  private throttled = 0;
  private failedCause?: string;
  private streaming = false;
  private cut?: 'idle_timeout' | 'upstream_cut';
  private streamEnd?: StreamEnd;
  private answered?: { status: number; errorCode?: string };
  private emitted = false;
  private readonly upstreamIds: string[] = [];

  constructor(
    readonly requestId: string,
    private readonly identity: { function: string; route: string; method: string; caller: string },
    private readonly emit: (fields: RequestFields) => void,
  ) {}

  upstreamSend(backend: string): void {
    this.backend = backend;
    this.upstreamStart ??= performance.now();
    if (this.failedCause !== undefined) this.retryCauses.push(this.failedCause);
    this.failedCause = undefined;
  }

  upstreamFailed(cause: string): void {
    this.failedCause = cause;
  }

  upstreamHeaders(status: number, apimRequestId?: string): void {
    if (apimRequestId) this.upstreamIds.push(apimRequestId.slice(0, 100));
    if (status === 429) this.throttled++;
    if (status >= 200 && status < 300) this.ttfb = performance.now();
  }

  upstreamDone(): void {
    this.upstreamEnd = performance.now();
  }

  upstreamCut(idle: boolean): void {
    this.cut = idle ? 'idle_timeout' : 'upstream_cut';
  }

  tokens(prompt: number | undefined, completion: number | undefined, source: 'upstream' | 'service'): void {
    this.promptTokens = prompt;
    this.completionTokens = completion;
    this.tokensSource = source;
  }

  streamStarted(): void {
    this.streaming = true;
  }

  streamEnded(reason: 'done' | 'error' | 'client_left' | 'abandoned'): void {
    if (this.streamEnd) return;
    this.streamEnd = reason === 'abandoned' ? (this.cut ?? 'client_left') : reason;
    this.upstreamEnd ??= performance.now();
    this.emitWhenComplete();
  }

  /** The handler answered (a stream's record waits for the stream's end). */
  answer(status: number, errorCode?: string): void {
    this.answered ??= { status, errorCode };
    this.emitWhenComplete();
  }

  private emitWhenComplete(): void {
    if (this.emitted || !this.answered) return;
    if (this.streaming && !this.streamEnd && this.answered.status < 300) return;
    this.emitted = true;
    try {
      this.emit(this.fields());
    } catch {
      // Telemetry never fails a request (a host without a logger, an exporter that throws).
    }
  }

  fields(now = performance.now()): RequestFields {
    const identity = this.identity;
    // Named one by one: a spread followed by more keys is a slow path on Node 20 (see send in upstream/http.ts).
    const fields: RequestFields = {
      event: 'request',
      request_id: this.requestId,
      function: identity.function,
      route: identity.route,
      method: identity.method,
      caller: identity.caller,
      status: this.answered?.status ?? 0,
      duration_ms: ms(this.started, now),
      retries: this.retryCauses.length,
    };
    if (this.answered?.errorCode) fields.error_code = this.answered.errorCode;
    if (this.deployment) fields.deployment = this.deployment;
    if (this.backend) fields.backend = this.backend;
    if (this.upstreamIds.length) fields.apim_request_id = this.upstreamIds.join(',');
    if (this.upstreamStart !== undefined) {
      fields.upstream_ms = ms(this.upstreamStart, this.upstreamEnd ?? now);
      if (this.ttfb !== undefined) fields.ttfb_ms = ms(this.upstreamStart, this.ttfb);
    }
    if (this.tokensSource) {
      if (this.promptTokens !== undefined) fields.prompt_tokens = this.promptTokens;
      if (this.completionTokens !== undefined) fields.completion_tokens = this.completionTokens;
      fields.tokens_source = this.tokensSource;
    }
    if (this.retryCauses.length) fields.retry_causes = [...this.retryCauses];
    if (this.throttled) fields.throttled = this.throttled;
    if (this.quota) fields.quota = this.quota;
    if (this.streamEnd) fields.stream = this.streamEnd;
    return fields;
  }
}
