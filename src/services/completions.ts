import { resolveDeployment } from '../upstream/index.js';
import { promptsOf, type Completion, type CompletionChunk, type CompletionRequest } from '../schemas/completions.js';
import { countTokensAsync } from '../tokens/async.js';
import { callModel, encodingForDeployment, type CallContext, type ModelAnswer } from './model-call.js';

export async function createCompletion(
  request: CompletionRequest,
  context: CallContext,
): Promise<ModelAnswer<Completion>> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('completions', model);
  const prompts = promptsOf(body.prompt);
  // A token array counts as its length; the texts are counted (off the main thread when large).
  const texts = prompts.filter((p): p is string => typeof p === 'string');
  const ids = prompts.reduce<number>((sum, p) => sum + (typeof p === 'string' ? 0 : p.length), 0);
  return await callModel<Completion, CompletionChunk>(
    {
      capability: 'completions',
      deployment,
      body,
      promptTokens: async () => ids + (await countTokensAsync(encodingForDeployment(deployment).name, texts)),
      answerLimit: { field: 'max_tokens', value: body.max_tokens ?? undefined },
      choices: (body.n ?? 1) * prompts.length,
      includeUsage: body.stream_options?.include_usage === true,
      textOf: (choice) => choice.text ?? '',
    },
    context,
  );
}
