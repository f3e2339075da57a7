import { resolveDeployment } from '../openai/index.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../schemas/chat.js';
import { countChatTokens } from '../tokens/chat.js';
import { callModel, encodingForDeployment, type CallContext, type ModelAnswer } from './model-call.js';

export async function createChatCompletion(
  request: ChatCompletionRequest,
  context: CallContext,
): Promise<ModelAnswer<ChatCompletion>> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('chat', model);
  return callModel<ChatCompletion, ChatCompletionChunk>(
    {
      capability: 'chat',
      deployment,
      body,
      promptTokens: () => countChatTokens(encodingForDeployment(deployment), body.messages),
      answerLimit:
        body.max_completion_tokens != null
          ? { field: 'max_completion_tokens', value: body.max_completion_tokens }
          : { field: 'max_tokens', value: body.max_tokens ?? undefined },
      choices: body.n ?? 1,
      includeUsage: body.stream_options?.include_usage === true,
      textOf: (choice) => choice.delta.content ?? '',
    },
    context,
  );
}
