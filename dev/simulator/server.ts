/**
 * A local Azure OpenAI data-plane simulator (dev-only, never deployed). It speaks the 2024-10-21 protocol
 * closely enough for the official `openai` AzureOpenAI client: deployment paths, a required api-version,
 * api-key or bearer auth, real response and SSE chunk shapes, Azure's error bodies — plus /_sim control
 * routes for tests (faults, token-per-minute limit, a log of received requests).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { countChatTokens, messageContentText, type ChatMessageForCount } from '../../src/tokens/chat.js';
import { getEncoding, type Encoding } from '../../src/tokens/encodings.js';
import { embed, toBase64 } from './embeddings.js';
import { FaultQueue, TokenRateLimit, type Fault } from './faults.js';
import { chatText, completionText, hash, shape, type Generated } from './generate.js';

type Capability = 'chat' | 'completions' | 'embeddings';

interface Deployment {
  model: string;
  capabilities: Capability[];
  encoding: 'cl100k_base' | 'o200k_base';
  dimensions?: number;
}

export const DEPLOYMENTS: Record<string, Deployment> = {
  'gpt-4o-mini': { model: 'gpt-4o-mini-2024-07-18', capabilities: ['chat'], encoding: 'o200k_base' },
  'gpt-4o': { model: 'gpt-4o-2024-08-06', capabilities: ['chat'], encoding: 'o200k_base' },
  'gpt-35-turbo': { model: 'gpt-35-turbo', capabilities: ['chat', 'completions'], encoding: 'cl100k_base' },
  'gpt-35-turbo-instruct': { model: 'gpt-35-turbo-instruct', capabilities: ['completions'], encoding: 'cl100k_base' },
  'gpt-4': { model: 'gpt-4', capabilities: ['chat'], encoding: 'cl100k_base' },
  'text-embedding-3-small': { model: 'text-embedding-3-small', capabilities: ['embeddings'], encoding: 'cl100k_base', dimensions: 1536 },
  'text-embedding-3-large': { model: 'text-embedding-3-large', capabilities: ['embeddings'], encoding: 'cl100k_base', dimensions: 3072 },
  'text-embedding-ada-002': { model: 'text-embedding-ada-002', capabilities: ['embeddings'], encoding: 'cl100k_base', dimensions: 1536 },
};

export interface RequestLogEntry {
  id: number;
  method: string;
  path: string;
  query: Record<string, string>;
  deployment: string | null;
  auth: 'api-key' | 'bearer' | 'none';
  bearerToken?: string;
  apiKey?: string;
  body: unknown;
  aborted: boolean;
  completed: boolean;
  receivedAt: string;
}

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** Delay before every data-plane answer. */
  latencyMs?: number;
  /** Delay between streamed chunks. */
  tokenDelayMs?: number;
  /** When set, only these api-keys are accepted. */
  apiKeys?: string[];
}

export interface Simulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

const FILTER_OK = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};
const FILTERED = { ...FILTER_OK, violence: { filtered: true, severity: 'high' } };

class SimError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`simulator ${status}`);
  }
}

const azureError = (status: number, code: string, message: string, param: string | null = null) =>
  new SimError(status, { error: { code, message, param, type: status === 400 ? 'invalid_request_error' : null } });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newId = (prefix: string) => `${prefix}-${randomBytes(15).toString('base64url')}`;
const fingerprint = 'fp_sim0000001';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const asStops = (stop: unknown): string[] => (typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((s) => typeof s === 'string') : []);

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const faults = new FaultQueue();
  const tpm = new TokenRateLimit();
  let log: RequestLogEntry[] = [];
  let nextId = 1;

  function rateHeaders(): Record<string, string> {
    const remaining = tpm.remaining();
    return {
      'apim-request-id': newId('apim'),
      'x-request-id': newId('req'),
      'x-ratelimit-remaining-requests': '1000',
      'x-ratelimit-remaining-tokens': String(remaining ?? 1_000_000),
    };
  }

  function throttle(tokens: number) {
    const waitMs = tpm.admit(tokens);
    if (waitMs > 0) {
      throw new SimError(
        429,
        { error: { code: '429', message: `Requests to the deployment have exceeded the token rate limit. Please retry after ${Math.ceil(waitMs / 1000)} seconds.` } },
        { 'retry-after': String(Math.ceil(waitMs / 1000)), 'retry-after-ms': String(waitMs), 'x-ratelimit-remaining-tokens': '0' },
      );
    }
  }

  async function applyFault(fault: Fault | undefined, res: ServerResponse): Promise<Fault | undefined> {
    if (!fault) return undefined;
    switch (fault.kind) {
      case '429': {
        const ms = fault.retryAfterMs ?? (fault.retryAfterSeconds ?? 1) * 1000;
        const headers: Record<string, string> = { 'retry-after': String(fault.retryAfterSeconds ?? Math.max(1, Math.ceil(ms / 1000))) };
        if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
        throw new SimError(429, { error: { code: '429', message: 'Requests to the deployment have exceeded the call rate limit. Please retry later.' } }, headers);
      }
      case '500':
        throw new SimError(500, { error: { code: 'InternalServerError', message: 'The server had an error while processing your request.' } });
      case '503':
        throw new SimError(503, { error: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.' } });
      case 'slow':
        await sleep(fault.delayMs ?? 1000);
        return undefined;
      case 'hang':
        await new Promise<void>((resolve) => res.once('close', () => resolve()));
        throw new SimError(499, {});
      default:
        return fault;
    }
  }

  function contentFilterRefusal(param: string) {
    return new SimError(400, {
      error: {
        code: 'content_filter',
        message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        param,
        status: 400,
        innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: FILTERED },
      },
    });
  }

  async function stream(res: ServerResponse, entry: RequestLogEntry, events: unknown[], cutAfter: number | undefined) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...rateHeaders() });
    res.flushHeaders();
    let contentSent = 0;
    for (const event of events) {
      if (res.destroyed) return;
      if (cutAfter !== undefined && contentSent >= cutAfter) {
        // Let what was written reach the client first: the cut must land mid-stream, not before the headers.
        await new Promise((resolve) => setTimeout(resolve, 20));
        res.socket?.destroy();
        return;
      }
      res.write(`data: ${JSON.stringify(event)}\n\n`);
      contentSent++;
      if (options.tokenDelayMs) await sleep(options.tokenDelayMs);
    }
    res.end('data: [DONE]\n\n');
    entry.completed = true;
  }

  function chat(deployment: string, spec: Deployment, body: any, encoding: Encoding): { json?: unknown; events?: unknown[] } {
    if (!Array.isArray(body.messages) || body.messages.length === 0) throw azureError(400, 'invalid_request_error', "'messages' is a required property", 'messages');
    const messages = body.messages as ChatMessageForCount[];
    const promptText = messages.map((m) => messageContentText(m.content)).join('\n');
    if (promptText.includes('[[content_filter]]')) throw contentFilterRefusal('messages');
    const promptTokens = countChatTokens(encoding, messages);
    const maxTokens: number | undefined = body.max_completion_tokens ?? body.max_tokens ?? undefined;
    throttle(promptTokens + (maxTokens ?? 0));
    const n = Math.max(1, Number(body.n ?? 1));
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const key = messages.map((m) => `${m.role}:${messageContentText(m.content)}`).join('\n');
    const variantBase = Number(body.temperature ?? 1) > 0 && body.seed === undefined ? hash(String(Math.random())) : Number(body.seed ?? 0);
    const choices: Generated[] = Array.from({ length: n }, (_, i) =>
      shape(chatText(messageContentText(lastUser?.content), key, Number(body.temperature ?? 1) > 0 ? variantBase + i : i), encoding, maxTokens, asStops(body.stop)),
    );
    const completionTokens = choices.reduce((s, c) => s + c.completionTokens, 0);
    const usage = { completion_tokens: completionTokens, prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens };
    const id = newId('chatcmpl');
    const created = Math.floor(Date.now() / 1000);
    const base = { id, created, model: spec.model, system_fingerprint: fingerprint };
    if (!body.stream) {
      return {
        json: {
          ...base,
          object: 'chat.completion',
          choices: choices.map((c, index) => ({
            index,
            finish_reason: c.finishReason,
            logprobs: null,
            message: { role: 'assistant', content: c.text, refusal: null },
            content_filter_results: c.finishReason === 'content_filter' ? FILTERED : FILTER_OK,
          })),
          usage,
          prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_OK }],
        },
      };
    }
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({ ...base, object: 'chat.completion.chunk', choices, ...extra });
    const events: unknown[] = [{ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_OK }] }];
    choices.forEach((c, index) => {
      events.push(chunk([{ index, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null, content_filter_results: {} }]));
      for (const piece of c.pieces) events.push(chunk([{ index, delta: { content: piece }, finish_reason: null, logprobs: null, content_filter_results: FILTER_OK }]));
      events.push(chunk([{ index, delta: {}, finish_reason: c.finishReason, logprobs: null, content_filter_results: {} }]));
    });
    if (body.stream_options?.include_usage) events.push(chunk([], { usage }));
    void deployment;
    return { events };
  }

  function completions(spec: Deployment, body: any, encoding: Encoding): { json?: unknown; events?: unknown[] } {
    const prompts: string[] = body.prompt === undefined ? [] : Array.isArray(body.prompt) ? body.prompt.map(String) : [String(body.prompt)];
    if (prompts.length === 0) throw azureError(400, 'invalid_request_error', "'prompt' is a required property", 'prompt');
    if (prompts.some((p) => p.includes('[[content_filter]]'))) throw contentFilterRefusal('prompt');
    // Azure documents 16 as the default; 100 lets the seed tutorial's example (no max_tokens, stop ["11"]) end at its stop sequence as it did there.
    const maxTokens: number = body.max_tokens ?? 100;
    const promptTokens = prompts.reduce((s, p) => s + encoding.count(p), 0);
    throttle(promptTokens + maxTokens);
    const n = Math.max(1, Number(body.n ?? 1));
    const choices: Generated[] = [];
    for (const prompt of prompts) for (let i = 0; i < n; i++) choices.push(shape(completionText(prompt, Number(body.temperature ?? 1) > 0 ? i + Number(body.seed ?? 0) : 0), encoding, maxTokens, asStops(body.stop)));
    const completionTokens = choices.reduce((s, c) => s + c.completionTokens, 0);
    const usage = { completion_tokens: completionTokens, prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens };
    const base = { id: newId('cmpl'), created: Math.floor(Date.now() / 1000), model: spec.model, object: 'text_completion' };
    if (!body.stream) {
      return {
        json: {
          ...base,
          choices: choices.map((c, index) => ({ index, text: c.text, finish_reason: c.finishReason, logprobs: null, content_filter_results: FILTER_OK })),
          usage,
          prompt_filter_results: prompts.map((_, i) => ({ prompt_index: i, content_filter_results: FILTER_OK })),
        },
      };
    }
    const events: unknown[] = [{ ...base, choices: [], id: '', model: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_OK }] }];
    choices.forEach((c, index) => {
      for (const piece of c.pieces) events.push({ ...base, choices: [{ index, text: piece, finish_reason: null, logprobs: null }] });
      events.push({ ...base, choices: [{ index, text: '', finish_reason: c.finishReason, logprobs: null }] });
    });
    if (body.stream_options?.include_usage) events.push({ ...base, choices: [], usage });
    return { events };
  }

  function embeddings(spec: Deployment, body: any, encoding: Encoding): { json?: unknown; events?: unknown[] } {
    const input = body.input;
    let texts: string[];
    if (typeof input === 'string') texts = [input];
    else if (Array.isArray(input) && input.every((x) => typeof x === 'string')) texts = input;
    else if (Array.isArray(input) && input.every((x) => typeof x === 'number')) texts = [encoding.decode(input)];
    else if (Array.isArray(input) && input.every((x) => Array.isArray(x))) texts = input.map((t: number[]) => encoding.decode(t));
    else throw azureError(400, 'invalid_request_error', "'input' must be a string, an array of strings or an array of token arrays", 'input');
    if (texts.length === 0 || texts.length > 2048) throw azureError(400, 'invalid_request_error', "'input' must have 1 to 2048 items", 'input');
    const dimensions = body.dimensions ?? spec.dimensions ?? 1536;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > (spec.dimensions ?? 1536)) throw azureError(400, 'invalid_request_error', "'dimensions' is out of range", 'dimensions');
    const promptTokens = texts.reduce((s, t) => s + encoding.count(t), 0);
    throttle(promptTokens);
    const base64 = body.encoding_format === 'base64';
    return {
      json: {
        object: 'list',
        model: spec.model,
        data: texts.map((t, index) => {
          const vector = embed(t, dimensions);
          return { object: 'embedding', index, embedding: base64 ? toBase64(vector) : Array.from(vector) };
        }),
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      },
    };
  }

  async function dataPlane(req: IncomingMessage, res: ServerResponse, url: URL, entry: RequestLogEntry) {
    const m = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/.exec(url.pathname);
    if (!m) throw new SimError(404, { error: { code: '404', message: 'Resource not found' } });
    const deployment = decodeURIComponent(m[1]!);
    entry.deployment = deployment;
    if (!url.searchParams.get('api-version')) throw new SimError(404, { error: { code: '404', message: 'Resource not found' } });
    if (entry.auth === 'none' || (entry.auth === 'api-key' && options.apiKeys && !options.apiKeys.includes(entry.apiKey ?? ''))) {
      throw new SimError(401, {
        error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.' },
      });
    }
    const spec = DEPLOYMENTS[deployment];
    const capability: Capability = m[2] === 'chat/completions' ? 'chat' : (m[2] as Capability);
    if (!spec) throw azureError(404, 'DeploymentNotFound', 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.');
    if (!spec.capabilities.includes(capability)) throw azureError(400, 'OperationNotSupported', `The ${capability} operation does not work with the specified model, ${spec.model}. Please choose different model and try again.`);
    const body = entry.body as any;
    if (!body || typeof body !== 'object') throw azureError(400, 'invalid_request_error', 'We could not parse the JSON body of your request.');
    if (options.latencyMs) await sleep(options.latencyMs);
    const fault = await applyFault(faults.take(deployment), res);
    const encoding = getEncoding(spec.encoding);
    if (fault?.kind === 'content_filter') throw contentFilterRefusal(capability === 'completions' ? 'prompt' : capability === 'chat' ? 'messages' : 'input');
    const result = capability === 'chat' ? chat(deployment, spec, body, encoding) : capability === 'completions' ? completions(spec, body, encoding) : embeddings(spec, body, encoding);
    if (result.events) return stream(res, entry, result.events, fault?.kind === 'cut' ? (fault.afterChunks ?? 3) : undefined);
    sendJson(res, 200, result.json, rateHeaders());
    entry.completed = true;
  }

  async function control(req: IncomingMessage, res: ServerResponse, url: URL, bodyText: string) {
    const body = bodyText ? JSON.parse(bodyText) : {};
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /_sim/health':
        return sendJson(res, 200, { status: 'ok' });
      case 'POST /_sim/faults':
        return sendJson(res, 200, { queued: faults.add(body as Fault) });
      case 'POST /_sim/tpm':
        tpm.tokensPerMinute = body.tokensPerMinute ?? null;
        return sendJson(res, 200, { tokensPerMinute: tpm.tokensPerMinute });
      case 'GET /_sim/requests':
        return sendJson(res, 200, { data: log });
      case 'POST /_sim/reset':
        faults.clear();
        tpm.tokensPerMinute = null;
        log = [];
        return sendJson(res, 200, { reset: true });
      default:
        return sendJson(res, 404, { error: { code: '404', message: 'Resource not found' } });
    }
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    try {
      const bodyText = await readBody(req);
      if (url.pathname.startsWith('/_sim/')) return await control(req, res, url, bodyText);
      const authorization = req.headers.authorization;
      const apiKey = req.headers['api-key'];
      const entry: RequestLogEntry = {
        id: nextId++,
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        deployment: null,
        auth: typeof apiKey === 'string' && apiKey ? 'api-key' : authorization?.startsWith('Bearer ') ? 'bearer' : 'none',
        ...(typeof apiKey === 'string' && apiKey ? { apiKey } : {}),
        ...(authorization?.startsWith('Bearer ') ? { bearerToken: authorization.slice(7) } : {}),
        body: undefined,
        aborted: false,
        completed: false,
        receivedAt: new Date().toISOString(),
      };
      try {
        entry.body = bodyText ? JSON.parse(bodyText) : undefined;
      } catch {
        entry.body = bodyText;
      }
      log.push(entry);
      if (log.length > 5000) log.splice(0, log.length - 5000);
      res.once('close', () => {
        if (!res.writableFinished) entry.aborted = true;
      });
      await dataPlane(req, res, url, entry);
    } catch (error) {
      if (res.headersSent || res.destroyed) return;
      if (error instanceof SimError) return sendJson(res, error.status, error.body, { ...rateHeaders(), ...error.headers });
      sendJson(res, 500, { error: { code: 'InternalServerError', message: error instanceof Error ? error.message : String(error) } });
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
