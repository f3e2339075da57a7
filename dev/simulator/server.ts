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
import { instanceOf, strictSchemaProblem } from './json-schema.js';
import { chatLogprobs, completionLogprobs, tokenPieces, tokensOf } from './logprobs.js';
import { answerFromResults, BadRequest, planCalls, readTools, type ToolSetup } from './tools.js';

type Capability = 'chat' | 'completions' | 'embeddings';

interface Deployment {
  model: string;
  capabilities: Capability[];
  encoding: 'cl100k_base' | 'o200k_base';
  dimensions?: number;
  /** Prompt plus answer tokens the model can hold (overridable per simulator and through /_sim/context-window). */
  contextWindow: number;
  /** Unix time the model version was published, for the model listing. */
  createdAt: number;
}

export const DEPLOYMENTS: Record<string, Deployment> = {
  'gpt-4o-mini': {
    model: 'gpt-4o-mini-2024-07-18',
    capabilities: ['chat'],
    encoding: 'o200k_base',
    contextWindow: 128_000,
    createdAt: 1721260800,
  },
  'gpt-4o': {
    model: 'gpt-4o-2024-08-06',
    capabilities: ['chat'],
    encoding: 'o200k_base',
    contextWindow: 128_000,
    createdAt: 1722902400,
  },
  'gpt-35-turbo': {
    model: 'gpt-35-turbo',
    capabilities: ['chat', 'completions'],
    encoding: 'cl100k_base',
    contextWindow: 16_385,
    createdAt: 1706140800,
  },
  'gpt-35-turbo-instruct': {
    model: 'gpt-35-turbo-instruct',
    capabilities: ['completions'],
    encoding: 'cl100k_base',
    contextWindow: 4_097,
    createdAt: 1694563200,
  },
  'gpt-4': {
    model: 'gpt-4',
    capabilities: ['chat'],
    encoding: 'cl100k_base',
    contextWindow: 8_192,
    createdAt: 1687132800,
  },
  'text-embedding-3-small': {
    model: 'text-embedding-3-small',
    capabilities: ['embeddings'],
    encoding: 'cl100k_base',
    dimensions: 1536,
    contextWindow: 8_191,
    createdAt: 1706140800,
  },
  'text-embedding-3-large': {
    model: 'text-embedding-3-large',
    capabilities: ['embeddings'],
    encoding: 'cl100k_base',
    dimensions: 3072,
    contextWindow: 8_191,
    createdAt: 1706140800,
  },
  'text-embedding-ada-002': {
    model: 'text-embedding-ada-002',
    capabilities: ['embeddings'],
    encoding: 'cl100k_base',
    dimensions: 1536,
    contextWindow: 8_191,
    createdAt: 1670889600,
  },
};

/** `SIMULATOR_CONTEXT_WINDOWS="gpt-4o-mini=4096,gpt-4=8192"` → per-deployment windows. */
export function parseContextWindows(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (text ?? '').split(',')) {
    const [name, value] = part.split('=').map((x) => x.trim());
    if (name && Number(value) > 0) out[name] = Math.floor(Number(value));
  }
  return out;
}

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
  /** Context windows by deployment name; default from SIMULATOR_CONTEXT_WINDOWS, then each model's own. */
  contextWindows?: Record<string, number>;
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

/**
 * Azure's error body. The 2024-10-21 spec types `param` and `type` as strings, so they are left out rather than
 * null when they do not apply (Azure's own 404 for an unknown deployment has only code and message).
 */
const azureError = (status: number, code: string, message: string, param: string | null = null) =>
  new SimError(status, {
    error: {
      code,
      message,
      ...(param === null ? {} : { param }),
      ...(status === 400 ? { type: 'invalid_request_error' } : {}),
    },
  });

/**
 * With `stream_options.include_usage`, every chunk before the last carries `"usage": null` and the last one the
 * usage (2024-10-21 spec, chatCompletionStreamOptions); without it no chunk has a usage key.
 */
function withUsage(events: unknown[], body: any, usageChunk: unknown): unknown[] {
  if (!body.stream_options?.include_usage) return events;
  return [...events.map((e) => ({ ...(e as object), usage: null })), usageChunk];
}

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

const asStops = (stop: unknown): string[] =>
  typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((s) => typeof s === 'string') : [];

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const faults = new FaultQueue();
  const tpm = new TokenRateLimit();
  let log: RequestLogEntry[] = [];
  const configuredWindows = options.contextWindows ?? parseContextWindows(process.env.SIMULATOR_CONTEXT_WINDOWS);
  let windows: Record<string, number> = { ...configuredWindows };
  const contextWindow = (deployment: string) => windows[deployment] ?? DEPLOYMENTS[deployment]?.contextWindow ?? 8_192;
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
        {
          error: {
            code: '429',
            message: `Requests to the deployment have exceeded the token rate limit. Please retry after ${Math.ceil(waitMs / 1000)} seconds.`,
          },
        },
        {
          'retry-after': String(Math.ceil(waitMs / 1000)),
          'retry-after-ms': String(waitMs),
          'x-ratelimit-remaining-tokens': '0',
        },
      );
    }
  }

  async function applyFault(fault: Fault | undefined, res: ServerResponse): Promise<Fault | undefined> {
    if (!fault) return undefined;
    switch (fault.kind) {
      case '429': {
        const ms = fault.retryAfterMs ?? (fault.retryAfterSeconds ?? 1) * 1000;
        const headers: Record<string, string> = {
          'retry-after': String(fault.retryAfterSeconds ?? Math.max(1, Math.ceil(ms / 1000))),
        };
        if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
        throw new SimError(
          429,
          {
            error: {
              code: '429',
              message: 'Requests to the deployment have exceeded the call rate limit. Please retry later.',
            },
          },
          headers,
        );
      }
      case '500':
        throw new SimError(500, {
          error: { code: 'InternalServerError', message: 'The server had an error while processing your request.' },
        });
      case '503':
        throw new SimError(503, {
          error: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.' },
        });
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
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...rateHeaders(),
    });
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

  /** Azure's 400 when prompt plus the answer's room exceed the deployment's context window. */
  function checkContext(
    deployment: string,
    promptTokens: number,
    maxTokens: number | undefined,
    kind: 'chat' | 'completions' | 'embeddings',
  ) {
    const window = contextWindow(deployment);
    const total = promptTokens + (maxTokens ?? 0);
    if (total <= window) return;
    const message =
      kind === 'chat'
        ? maxTokens === undefined
          ? `This model's maximum context length is ${window} tokens. However, your messages resulted in ${promptTokens} tokens. Please reduce the length of the messages.`
          : `This model's maximum context length is ${window} tokens. However, you requested ${total} tokens (${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`
        : `This model's maximum context length is ${window} tokens, however you requested ${total} tokens (${promptTokens} in your prompt; ${maxTokens ?? 0} for the completion). Please reduce your prompt; or completion length.`;
    throw azureError(
      400,
      'context_length_exceeded',
      message,
      kind === 'chat' ? 'messages' : kind === 'completions' ? 'prompt' : 'input',
    );
  }

  /** What `response_format` asks for; a strict schema outside the supported subset is Azure's 400. */
  function readFormat(
    body: any,
    messages: ChatMessageForCount[],
  ): { kind: 'text' } | { kind: 'json_object' } | { kind: 'json_schema'; schema: unknown } {
    const format = body.response_format;
    if (format === undefined || format === null || format.type === 'text') return { kind: 'text' };
    if (format.type === 'json_object') {
      // OpenAI and Azure refuse json_object unless the messages ask for JSON themselves.
      if (!messages.some((m) => /json/i.test(messageContentText(m.content)))) {
        throw azureError(
          400,
          'invalid_request_error',
          "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
          'messages',
        );
      }
      return { kind: 'json_object' };
    }
    if (format.type !== 'json_schema')
      throw azureError(
        400,
        'invalid_value',
        `Invalid value: '${String(format.type)}'. Supported values are: 'json_object', 'json_schema', and 'text'.`,
        'response_format.type',
      );
    const spec = format.json_schema;
    if (!spec || typeof spec.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(spec.name)) {
      throw azureError(
        400,
        'invalid_value',
        "Invalid 'response_format.json_schema.name': expected a string of a-z, A-Z, 0-9, underscores and dashes, at most 64.",
        'response_format.json_schema.name',
      );
    }
    const schema = spec.schema ?? { type: 'object', properties: {}, additionalProperties: false, required: [] };
    if (spec.strict === true) {
      const problem = strictSchemaProblem(schema);
      if (problem)
        throw azureError(
          400,
          'invalid_json_schema',
          `Invalid schema for response_format '${spec.name}': ${problem}`,
          'response_format',
        );
    }
    return { kind: 'json_schema', schema };
  }

  function chat(
    deployment: string,
    spec: Deployment,
    body: any,
    encoding: Encoding,
  ): { json?: unknown; events?: unknown[] } {
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      throw azureError(400, 'invalid_request_error', "'messages' is a required property", 'messages');
    const messages = body.messages as ChatMessageForCount[];
    const promptText = messages.map((m) => messageContentText(m.content)).join('\n');
    if (promptText.includes('[[content_filter]]')) throw contentFilterRefusal('messages');
    let setup: ToolSetup | null;
    try {
      setup = readTools(body);
    } catch (error) {
      if (error instanceof BadRequest) throw azureError(400, error.code, error.message, error.param);
      throw error;
    }
    const format = readFormat(body, messages);
    const wantLogprobs = body.logprobs === true;
    const top = Number(body.top_logprobs ?? 0);
    if (body.top_logprobs !== undefined && body.top_logprobs !== null && !wantLogprobs) {
      throw azureError(
        400,
        'invalid_value',
        "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
        'top_logprobs',
      );
    }
    if (!Number.isInteger(top) || top < 0 || top > 20)
      throw azureError(
        400,
        'integer_above_max_value',
        "Invalid 'top_logprobs': expected an integer from 0 to 20.",
        'top_logprobs',
      );
    // Tool definitions are part of the prompt the model reads (an approximation of how Azure counts them).
    const toolTokens = setup ? encoding.count(JSON.stringify(setup.tools)) : 0;
    const promptTokens = countChatTokens(encoding, messages) + toolTokens;
    const maxTokens: number | undefined = body.max_completion_tokens ?? body.max_tokens ?? undefined;
    checkContext(deployment, promptTokens, maxTokens, 'chat');
    throttle(promptTokens + (maxTokens ?? 0));
    const n = Math.max(1, Number(body.n ?? 1));
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const key = messages.map((m) => `${m.role}:${messageContentText(m.content)}`).join('\n');
    const calls = setup ? planCalls(setup, messages) : [];
    const legacy = setup?.legacy === true;
    const variantBase =
      Number(body.temperature ?? 1) > 0 && body.seed === undefined
        ? hash(String(Math.random()))
        : Number(body.seed ?? 0);
    const fullText = (i: number): string => {
      const results = answerFromResults(messages);
      const userText = messageContentText(lastUser?.content);
      if (format.kind === 'json_schema')
        return JSON.stringify(instanceOf(format.schema, { text: userText, seed: key }));
      const text = results ?? chatText(userText, key, Number(body.temperature ?? 1) > 0 ? variantBase + i : i);
      return format.kind === 'json_object' ? JSON.stringify({ answer: text }) : text;
    };
    const choices: Generated[] = Array.from({ length: n }, (_, i) =>
      shape(fullText(i), encoding, maxTokens, asStops(body.stop)),
    );
    const callTokens = calls.reduce((s, c) => s + encoding.count(c.name + c.arguments) + 3, 0);
    const completionTokens = calls.length ? callTokens * n : choices.reduce((s, c) => s + c.completionTokens, 0);
    const usage = {
      completion_tokens: completionTokens,
      prompt_tokens: promptTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const id = newId('chatcmpl');
    const created = Math.floor(Date.now() / 1000);
    const base = { id, created, model: spec.model, system_fingerprint: fingerprint };
    const callFinish = legacy ? 'function_call' : 'tool_calls';
    const logprobsOf = (text: string) =>
      wantLogprobs ? { content: chatLogprobs(encoding, tokensOf(encoding, text), top, key), refusal: null } : null;
    if (!body.stream) {
      return {
        json: {
          ...base,
          object: 'chat.completion',
          choices: choices.map((c, index) => {
            if (!calls.length) {
              return {
                index,
                finish_reason: c.finishReason,
                logprobs: logprobsOf(c.text),
                message: { role: 'assistant', content: c.text, refusal: null },
                content_filter_results: c.finishReason === 'content_filter' ? FILTERED : FILTER_OK,
              };
            }
            const message = legacy
              ? {
                  role: 'assistant',
                  content: null,
                  refusal: null,
                  function_call: { name: calls[0]!.name, arguments: calls[0]!.arguments },
                }
              : {
                  role: 'assistant',
                  content: null,
                  refusal: null,
                  tool_calls: calls.map((c) => ({
                    id: c.id,
                    type: 'function',
                    function: { name: c.name, arguments: c.arguments },
                  })),
                };
            return {
              index,
              finish_reason: callFinish,
              logprobs: wantLogprobs ? { content: null, refusal: null } : null,
              message,
              content_filter_results: {},
            };
          }),
          usage,
          prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_OK }],
        },
      };
    }
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
      ...base,
      object: 'chat.completion.chunk',
      choices,
      ...extra,
    });
    const events: unknown[] = [
      {
        choices: [],
        created: 0,
        id: '',
        model: '',
        object: '',
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_OK }],
      },
    ];
    choices.forEach((c, index) => {
      if (calls.length) {
        // Azure's shape: each call's first delta carries index, id, type and name; then argument fragments.
        calls.forEach((call, k) => {
          const start = legacy
            ? { function_call: { name: call.name, arguments: '' } }
            : {
                tool_calls: [{ index: k, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
              };
          events.push(
            chunk([
              {
                index,
                delta: k === 0 ? { role: 'assistant', content: null, ...start } : start,
                finish_reason: null,
                logprobs: null,
              },
            ]),
          );
          for (const piece of tokenPieces(encoding, call.arguments)) {
            const delta = legacy
              ? { function_call: { arguments: piece.text } }
              : { tool_calls: [{ index: k, function: { arguments: piece.text } }] };
            events.push(chunk([{ index, delta, finish_reason: null, logprobs: null }]));
          }
        });
        events.push(chunk([{ index, delta: {}, finish_reason: callFinish, logprobs: null }]));
        return;
      }
      events.push(
        chunk([
          {
            index,
            delta: { role: 'assistant', content: '' },
            finish_reason: null,
            logprobs: null,
            content_filter_results: {},
          },
        ]),
      );
      if (wantLogprobs) {
        for (const piece of tokenPieces(encoding, c.text)) {
          const logprobs = { content: chatLogprobs(encoding, piece.tokens, top, key), refusal: null };
          events.push(
            chunk([
              {
                index,
                delta: { content: piece.text },
                finish_reason: null,
                logprobs,
                content_filter_results: FILTER_OK,
              },
            ]),
          );
        }
      } else {
        for (const piece of c.pieces)
          events.push(
            chunk([
              {
                index,
                delta: { content: piece },
                finish_reason: null,
                logprobs: null,
                content_filter_results: FILTER_OK,
              },
            ]),
          );
      }
      events.push(
        chunk([{ index, delta: {}, finish_reason: c.finishReason, logprobs: null, content_filter_results: {} }]),
      );
    });
    return { events: withUsage(events, body, chunk([], { usage })) };
  }

  function completions(
    deployment: string,
    spec: Deployment,
    body: any,
    encoding: Encoding,
  ): { json?: unknown; events?: unknown[] } {
    // OpenAI's four prompt forms: a string, strings, one token array, token arrays (each array is one prompt).
    const raw: unknown = body.prompt;
    const parts: unknown[] =
      raw === undefined ? [] : !Array.isArray(raw) ? [raw] : raw.every((x) => typeof x === 'number') ? [raw] : raw;
    const decode = (tokens: unknown[]) => {
      if (!tokens.every((t) => Number.isInteger(t) && encoding.isValidToken(t as number))) {
        throw azureError(400, 'invalid_request_error', 'Invalid token in prompt', 'prompt');
      }
      return encoding.decode(tokens as number[]);
    };
    const prompts: string[] = parts.map((p) => (Array.isArray(p) ? decode(p) : String(p)));
    if (prompts.length === 0)
      throw azureError(400, 'invalid_request_error', "'prompt' is a required property", 'prompt');
    if (prompts.some((p) => p.includes('[[content_filter]]'))) throw contentFilterRefusal('prompt');
    const logprobs: number | null = body.logprobs ?? null;
    if (logprobs !== null && (!Number.isInteger(logprobs) || logprobs < 0 || logprobs > 5)) {
      throw azureError(400, 'invalid_value', "Invalid 'logprobs': expected an integer from 0 to 5.", 'logprobs');
    }
    const n = Math.max(1, Number(body.n ?? 1));
    const bestOf = body.best_of ?? null;
    if (bestOf !== null && bestOf < n)
      throw azureError(400, 'invalid_value', "Invalid 'best_of': must be greater than or equal to 'n'.", 'best_of');
    if (bestOf !== null && bestOf > 1 && body.stream)
      throw azureError(400, 'invalid_value', "'best_of' cannot be used with 'stream'.", 'best_of');
    const echo = body.echo === true;
    const suffix: string = typeof body.suffix === 'string' ? body.suffix : '';
    // Azure documents 16 as the default; 100 lets the seed tutorial's example (no max_tokens, stop ["11"]) end at its
    // stop sequence as it did there.
    const maxTokens: number = body.max_tokens ?? 100;
    const promptLength = (i: number) =>
      Array.isArray(parts[i]) ? (parts[i] as unknown[]).length : encoding.count(prompts[i]!);
    const promptTokens = prompts.reduce((s, _, i) => s + promptLength(i), 0);
    for (let i = 0; i < prompts.length; i++) checkContext(deployment, promptLength(i), maxTokens, 'completions');
    throttle(promptTokens + maxTokens);
    const choices: (Generated & { prompt: string })[] = [];
    for (const prompt of prompts) {
      for (let i = 0; i < n; i++) {
        // With a suffix the text is an insertion: it depends on what follows as well.
        const key = suffix ? `${prompt}\u0000${suffix}` : prompt;
        choices.push({
          prompt,
          ...shape(
            completionText(key, Number(body.temperature ?? 1) > 0 ? i + Number(body.seed ?? 0) : 0),
            encoding,
            maxTokens,
            asStops(body.stop),
          ),
        });
      }
    }
    const completionTokens = choices.reduce((s, c) => s + c.completionTokens, 0);
    const usage = {
      completion_tokens: completionTokens,
      prompt_tokens: promptTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const base = {
      id: newId('cmpl'),
      created: Math.floor(Date.now() / 1000),
      model: spec.model,
      object: 'text_completion',
    };
    const logprobsFor = (c: (typeof choices)[number]) => {
      if (logprobs === null) return null;
      const key = `${c.prompt}:${suffix}`;
      const answer = completionLogprobs(
        encoding,
        tokensOf(encoding, c.text),
        logprobs,
        key,
        echo ? c.prompt.length : 0,
      );
      if (!echo) return answer;
      const asked = completionLogprobs(encoding, tokensOf(encoding, c.prompt), logprobs, key, 0, true);
      return {
        tokens: [...asked.tokens, ...answer.tokens],
        token_logprobs: [...asked.token_logprobs, ...answer.token_logprobs],
        top_logprobs: [...asked.top_logprobs, ...answer.top_logprobs],
        text_offset: [...asked.text_offset, ...answer.text_offset],
      };
    };
    if (!body.stream) {
      return {
        json: {
          ...base,
          choices: choices.map((c, index) => ({
            index,
            text: echo ? c.prompt + c.text : c.text,
            finish_reason: c.finishReason,
            logprobs: logprobsFor(c),
            content_filter_results: FILTER_OK,
          })),
          usage,
          prompt_filter_results: prompts.map((_, i) => ({ prompt_index: i, content_filter_results: FILTER_OK })),
        },
      };
    }
    const events: unknown[] = [
      {
        ...base,
        choices: [],
        id: '',
        model: '',
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_OK }],
      },
    ];
    choices.forEach((c, index) => {
      if (echo) events.push({ ...base, choices: [{ index, text: c.prompt, finish_reason: null, logprobs: null }] });
      if (logprobs !== null) {
        let offset = echo ? c.prompt.length : 0;
        for (const piece of tokenPieces(encoding, c.text)) {
          const lp = completionLogprobs(encoding, piece.tokens, logprobs, `${c.prompt}:${suffix}`, offset);
          offset += piece.text.length;
          events.push({ ...base, choices: [{ index, text: piece.text, finish_reason: null, logprobs: lp }] });
        }
      } else {
        for (const piece of c.pieces)
          events.push({ ...base, choices: [{ index, text: piece, finish_reason: null, logprobs: null }] });
      }
      events.push({ ...base, choices: [{ index, text: '', finish_reason: c.finishReason, logprobs: null }] });
    });
    return { events: withUsage(events, body, { ...base, choices: [], usage }) };
  }

  function embeddings(
    deployment: string,
    spec: Deployment,
    body: any,
    encoding: Encoding,
  ): { json?: unknown; events?: unknown[] } {
    const input = body.input;
    let texts: string[];
    if (typeof input === 'string') texts = [input];
    else if (Array.isArray(input) && input.every((x) => typeof x === 'string')) texts = input;
    else if (Array.isArray(input) && input.every((x) => typeof x === 'number')) texts = [encoding.decode(input)];
    else if (Array.isArray(input) && input.every((x) => Array.isArray(x)))
      texts = input.map((t: number[]) => encoding.decode(t));
    else
      throw azureError(
        400,
        'invalid_request_error',
        "'input' must be a string, an array of strings or an array of token arrays",
        'input',
      );
    if (texts.length === 0 || texts.length > 2048)
      throw azureError(400, 'invalid_request_error', "'input' must have 1 to 2048 items", 'input');
    const dimensions = body.dimensions ?? spec.dimensions ?? 1536;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > (spec.dimensions ?? 1536))
      throw azureError(400, 'invalid_request_error', "'dimensions' is out of range", 'dimensions');
    const counts = texts.map((t) => encoding.count(t));
    for (const count of counts) checkContext(deployment, count, undefined, 'embeddings');
    const promptTokens = counts.reduce((s, c) => s + c, 0);
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

  function authorize(url: URL, entry: RequestLogEntry) {
    if (!url.searchParams.get('api-version'))
      throw new SimError(404, { error: { code: '404', message: 'Resource not found' } });
    if (
      entry.auth === 'none' ||
      (entry.auth === 'api-key' && options.apiKeys && !options.apiKeys.includes(entry.apiKey ?? ''))
    ) {
      throw new SimError(401, {
        error: {
          code: '401',
          message:
            'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
        },
      });
    }
  }

  /**
   * The read-only listings Azure serves beside the inference paths (not in the 2024-10-21 inference spec, which
   * only has POST routes): GET /openai/models[/{id}] in Azure's model shape, and GET /openai/deployments[/{name}]
   * in the 2022-12-01 authoring shape. The `openai` package's AzureOpenAI `models.list()`/`retrieve()` use the former.
   */
  function listing(url: URL, entry: RequestLogEntry): unknown {
    const m = /^\/openai\/(models|deployments)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) throw new SimError(404, { error: { code: '404', message: 'Resource not found' } });
    authorize(url, entry);
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    if (m[1] === 'deployments') {
      const deployment = (id: string, d: Deployment) => ({
        scale_settings: { scale_type: 'standard' },
        model: d.model,
        owner: 'organization-owner',
        id,
        status: 'succeeded',
        created_at: d.createdAt,
        updated_at: d.createdAt,
        object: 'deployment',
      });
      if (name === undefined)
        return { data: Object.entries(DEPLOYMENTS).map(([id, d]) => deployment(id, d)), object: 'list' };
      entry.deployment = name;
      const spec = DEPLOYMENTS[name];
      if (!spec)
        throw azureError(
          404,
          'DeploymentNotFound',
          'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
        );
      return deployment(name, spec);
    }
    const model = (d: Deployment) => ({
      status: 'succeeded',
      capabilities: {
        fine_tune: false,
        inference: true,
        completion: d.capabilities.includes('completions'),
        chat_completion: d.capabilities.includes('chat'),
        embeddings: d.capabilities.includes('embeddings'),
      },
      lifecycle_status: 'generally-available',
      deprecation: { inference: d.createdAt + 2 * 365 * 86_400 },
      id: d.model,
      created_at: d.createdAt,
      object: 'model',
    });
    const models = [...new Map(Object.values(DEPLOYMENTS).map((d) => [d.model, model(d)])).values()];
    if (name === undefined) return { data: models, object: 'list' };
    const found = models.find((x) => x.id === name);
    if (!found) throw azureError(404, 'ModelNotFound', `The model '${name}' does not exist.`);
    return found;
  }

  async function dataPlane(req: IncomingMessage, res: ServerResponse, url: URL, entry: RequestLogEntry) {
    if (req.method === 'GET') {
      sendJson(res, 200, listing(url, entry), rateHeaders());
      entry.completed = true;
      return;
    }
    const m = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/.exec(url.pathname);
    if (!m) throw new SimError(404, { error: { code: '404', message: 'Resource not found' } });
    const deployment = decodeURIComponent(m[1]!);
    entry.deployment = deployment;
    authorize(url, entry);
    const spec = DEPLOYMENTS[deployment];
    const capability: Capability = m[2] === 'chat/completions' ? 'chat' : (m[2] as Capability);
    if (!spec)
      throw azureError(
        404,
        'DeploymentNotFound',
        'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      );
    if (!spec.capabilities.includes(capability))
      throw azureError(
        400,
        'OperationNotSupported',
        `The ${capability} operation does not work with the specified model, ${spec.model}. Please choose different model and try again.`,
      );
    const body = entry.body as any;
    if (!body || typeof body !== 'object')
      throw azureError(400, 'invalid_request_error', 'We could not parse the JSON body of your request.');
    if (options.latencyMs) await sleep(options.latencyMs);
    const fault = await applyFault(faults.take(deployment), res);
    const encoding = getEncoding(spec.encoding);
    if (fault?.kind === 'content_filter')
      throw contentFilterRefusal(
        capability === 'completions' ? 'prompt' : capability === 'chat' ? 'messages' : 'input',
      );
    const result =
      capability === 'chat'
        ? chat(deployment, spec, body, encoding)
        : capability === 'completions'
          ? completions(deployment, spec, body, encoding)
          : embeddings(deployment, spec, body, encoding);
    if (result.events)
      return stream(res, entry, result.events, fault?.kind === 'cut' ? (fault.afterChunks ?? 3) : undefined);
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
      case 'POST /_sim/context-window': {
        const deployment = String(body.deployment ?? '');
        if (body.tokens === null || body.tokens === undefined) delete windows[deployment];
        else windows[deployment] = Math.max(1, Math.floor(Number(body.tokens)));
        return sendJson(res, 200, { deployment, contextWindow: contextWindow(deployment) });
      }
      case 'POST /_sim/reset':
        windows = { ...configuredWindows };
        faults.clear();
        tpm.tokensPerMinute = null;
        log = [];
        return sendJson(res, 200, { reset: true });
      default:
        return sendJson(res, 404, { error: { code: '404', message: 'Resource not found' } });
    }
  }

  const server = createServer((req, res) => void serve(req, res));
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://simulator');
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
        auth:
          typeof apiKey === 'string' && apiKey ? 'api-key' : authorization?.startsWith('Bearer ') ? 'bearer' : 'none',
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
      if (error instanceof SimError)
        return sendJson(res, error.status, error.body, { ...rateHeaders(), ...error.headers });
      sendJson(res, 500, {
        error: { code: 'InternalServerError', message: error instanceof Error ? error.message : String(error) },
      });
    }
  }
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
