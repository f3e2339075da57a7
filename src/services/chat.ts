import { resolveDeployment } from '../upstream/index.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../schemas/chat.js';
import { countChatTokensAsync } from '../tokens/async.js';
import { callModel, encodingForDeployment, type CallContext, type ModelAnswer } from './model-call.js';

export async function createChatCompletion(
  request: ChatCompletionRequest,
  context: CallContext,
): Promise<ModelAnswer<ChatCompletion>> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('chat', model);
  return await callModel<ChatCompletion, ChatCompletionChunk>(
    {
      capability: 'chat',
      deployment,
      body,
      promptTokens: () => countChatTokensAsync(encodingForDeployment(deployment).name, body.messages),
      // A cap this service adds goes in max_completion_tokens (Azure's spec deprecates max_tokens, and reasoning
      // models refuse it), unless the caller used max_tokens.
      answerLimit:
        body.max_tokens != null && body.max_completion_tokens == null
          ? { field: 'max_tokens', value: body.max_tokens }
          : { field: 'max_completion_tokens', value: body.max_completion_tokens ?? undefined },
      choices: body.n ?? 1,
      includeUsage: body.stream_options?.include_usage === true,
      textOf: (choice) => choice.delta.content ?? '',
    },
    context,
  );
}
