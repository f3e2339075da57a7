import { resolveDeployment, upstream } from '../openai/index.js';
import { metered, meteredStream, startMetered } from '../quotas/metered.js';
import type { Completion, CompletionChunk, CompletionRequest } from '../schemas/completions.js';
import { encodingForDeployment, RawJson, type CallContext, type ModelAnswer } from './chat.js';
import { quotasEnabled } from '../quotas/quota.js';
import { countTokensAsync } from '../tokens/async.js';
import { relayStream, startStream } from './model-stream.js';

/** What the simulator and Azure generate when a completion request names no max_tokens is bounded; reserve this much. */
const COMPLETION_RESERVE = 100;

export async function createCompletion(request: CompletionRequest, context: CallContext): Promise<ModelAnswer<Completion>> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('completions', model);
  const client = upstream();
  if (!body.stream && !quotasEnabled()) {
    return { stream: false, body: new RawJson(await client.rawJson('completions', body, { deployment, signal: context.signal })) };
  }
  const encoding = encodingForDeployment(deployment);
  const prompts = Array.isArray(body.prompt) ? body.prompt : [body.prompt];
  const promptTokens = await countTokensAsync(encoding.name, prompts);
  const estimate = promptTokens + (body.max_tokens ?? COMPLETION_RESERVE) * (body.n ?? 1) * prompts.length;
  const options = { deployment, signal: context.signal };
  if (!body.stream) {
    return { stream: false, body: await metered(context.caller, estimate, () => client.completion(body, options), (c) => c.usage?.total_tokens) };
  }
  const { reservation, started: chunks } = await startMetered(context.caller, estimate, () =>
    startStream(client.streamCompletion({ ...body, stream_options: { include_usage: true } }, options)),
  );
  return {
    stream: true,
    events: relayStream<CompletionChunk>(chunks, {
      includeUsage: body.stream_options?.include_usage === true,
      promptTokens,
      textOf: (choice) => choice.text ?? '',
      countTokens: (text) => encoding.count(text),
      accounting: meteredStream(reservation, promptTokens),
    }),
  };
}
