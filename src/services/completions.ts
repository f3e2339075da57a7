import { resolveDeployment, upstream } from '../openai/index.js';
import type { Completion, CompletionChunk, CompletionRequest } from '../schemas/completions.js';
import { encodingForDeployment, type ModelAnswer } from './chat.js';
import { relayStream, startStream } from './model-stream.js';

export async function createCompletion(request: CompletionRequest, options: { signal?: AbortSignal } = {}): Promise<ModelAnswer<Completion>> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('completions', model);
  const client = upstream();
  if (!body.stream) return { stream: false, body: await client.completion(body, { deployment, signal: options.signal }) };

  const encoding = encodingForDeployment(deployment);
  const prompts = Array.isArray(body.prompt) ? body.prompt : [body.prompt];
  const chunks = await startStream(client.streamCompletion({ ...body, stream_options: { include_usage: true } }, { deployment, signal: options.signal }));
  return {
    stream: true,
    events: relayStream<CompletionChunk>(chunks, {
      includeUsage: body.stream_options?.include_usage === true,
      promptTokens: prompts.reduce((sum, p) => sum + encoding.count(p), 0),
      textOf: (choice) => choice.text ?? '',
      countTokens: (text) => encoding.count(text),
    }),
  };
}
