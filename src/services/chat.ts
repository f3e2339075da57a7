import type { SseEvent } from '../http/sse.js';
import { resolveDeployment, upstream } from '../openai/index.js';
import { metered, meteredStream, startMetered } from '../quotas/metered.js';
import { DEFAULT_ANSWER_RESERVE, quotasEnabled } from '../quotas/quota.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../schemas/chat.js';
import { countChatTokensAsync } from '../tokens/async.js';
import { getEncoding, type Encoding } from '../tokens/encodings.js';
import { encodingNameForModel } from '../tokens/models.js';
import { relayStream, startStream } from './model-stream.js';

/** An upstream answer relayed as the JSON text it came in (nothing here needed to read it). */
export class RawJson {
  constructor(readonly text: string) {}
}

export type ModelAnswer<T> = { stream: false; body: T | RawJson } | { stream: true; events: AsyncGenerator<SseEvent, void, undefined> };

/** Who a call is charged to (the caller's principal id, or null for the shared anonymous budget). */
export interface CallContext {
  caller: string | null;
  signal?: AbortSignal;
}

/** The encoding that counts a deployment's tokens: by its name when that names a model family, else cl100k_base. */
export function encodingForDeployment(deployment: string): Encoding {
  return getEncoding(encodingNameForModel(deployment) ?? 'cl100k_base');
}

export async function createChatCompletion(request: ChatCompletionRequest, context: CallContext): Promise<ModelAnswer<ChatCompletion>> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('chat', model);
  const client = upstream();
  const options = { deployment, signal: context.signal };
  // The hot path: nothing to count or read, so the answer is relayed as it came.
  if (!body.stream && !quotasEnabled()) return { stream: false, body: new RawJson(await client.rawJson('chat', body, options)) };
  const encoding = encodingForDeployment(deployment);
  const promptTokens = await countChatTokensAsync(encoding.name, body.messages);
  // Worst case, reserved against the caller's quota before the call and settled to the real usage after.
  const estimate = promptTokens + (body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_ANSWER_RESERVE) * (body.n ?? 1);
  if (!body.stream) {
    const completion = await metered(context.caller, estimate, () => client.chatCompletion(body, options), (c) => c.usage?.total_tokens);
    return { stream: false, body: completion };
  }
  // Always ask the upstream for usage; the caller only sees a usage chunk when it asked for one.
  const { reservation, started: chunks } = await startMetered(context.caller, estimate, () =>
    startStream(client.streamChatCompletion({ ...body, stream_options: { include_usage: true } }, options)),
  );
  return {
    stream: true,
    events: relayStream<ChatCompletionChunk>(chunks, {
      includeUsage: body.stream_options?.include_usage === true,
      promptTokens,
      textOf: (choice) => choice.delta.content ?? '',
      countTokens: (text) => encoding.count(text),
      accounting: meteredStream(reservation, promptTokens),
    }),
  };
}
