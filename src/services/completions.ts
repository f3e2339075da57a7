import { resolveDeployment } from '../upstream/index.js';
import type { Completion, CompletionChunk, CompletionRequest } from '../schemas/completions.js';
import { countTokensAsync } from '../tokens/async.js';
import { callModel, encodingForDeployment, type CallContext, type ModelAnswer } from './model-call.js';

export async function createCompletion(
  request: CompletionRequest,
  context: CallContext,
): Promise<ModelAnswer<Completion>> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('completions', model);
  const prompts = Array.isArray(body.prompt) ? body.prompt : [body.prompt];
  return callModel<Completion, CompletionChunk>(
    {
      capability: 'completions',
      deployment,
      body,
      promptTokens: () => countTokensAsync(encodingForDeployment(deployment).name, prompts),
      answerLimit: { field: 'max_tokens', value: body.max_tokens ?? undefined },
      choices: (body.n ?? 1) * prompts.length,
      includeUsage: body.stream_options?.include_usage === true,
      textOf: (choice) => choice.text ?? '',
    },
    context,
  );
}
