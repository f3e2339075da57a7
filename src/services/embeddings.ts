import { resolveDeployment, upstream } from '../openai/index.js';
import { metered } from '../quotas/metered.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import type { CallContext } from './chat.js';
import { encodingForDeployment } from './chat.js';

export async function createEmbeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('embeddings', model);
  const input = body.input;
  const encoding = encodingForDeployment(deployment);
  const estimate =
    typeof input === 'string'
      ? encoding.count(input)
      : input.reduce<number>((sum, item) => sum + (typeof item === 'string' ? encoding.count(item) : Array.isArray(item) ? item.length : 1), 0);
  return metered(context.caller, estimate, () => upstream().embeddings(body, { deployment, signal: context.signal }), (r) => r.usage?.total_tokens);
}
