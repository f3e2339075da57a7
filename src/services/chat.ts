import type { SseEvent } from '../http/sse.js';
import { resolveDeployment, upstream } from '../openai/index.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../schemas/chat.js';
import { countChatTokens } from '../tokens/chat.js';
import { getEncoding, type Encoding } from '../tokens/encodings.js';
import { encodingNameForModel } from '../tokens/models.js';
import { relayStream, startStream, type StreamAccounting } from './model-stream.js';

export type ModelAnswer<T> = { stream: false; body: T } | { stream: true; events: AsyncGenerator<SseEvent, void, undefined> };

/** The encoding that counts a deployment's tokens: by its name when that names a model family, else cl100k_base. */
export function encodingForDeployment(deployment: string): Encoding {
  return getEncoding(encodingNameForModel(deployment) ?? 'cl100k_base');
}

export async function createChatCompletion(
  request: ChatCompletionRequest,
  options: { signal?: AbortSignal; accounting?: StreamAccounting } = {},
): Promise<ModelAnswer<ChatCompletion>> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('chat', model);
  const client = upstream();
  if (!body.stream) return { stream: false, body: await client.chatCompletion(body, { deployment, signal: options.signal }) };

  const encoding = encodingForDeployment(deployment);
  // Always ask the upstream for usage; the caller only sees a usage chunk when it asked for one.
  const chunks = await startStream(
    client.streamChatCompletion({ ...body, stream_options: { include_usage: true } }, { deployment, signal: options.signal }),
  );
  return {
    stream: true,
    events: relayStream<ChatCompletionChunk>(chunks, {
      includeUsage: body.stream_options?.include_usage === true,
      promptTokens: countChatTokens(encoding, body.messages),
      textOf: (choice) => choice.delta.content ?? '',
      countTokens: (text) => encoding.count(text),
      accounting: options.accounting,
    }),
  };
}
