import { resolveDeployment, upstream } from '../openai/index.js';
import { metered } from '../quotas/metered.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import type { CallContext } from './chat.js';
import { encodingForDeployment } from './chat.js';
import { countTokensAsync } from '../tokens/async.js';

export async function createEmbeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('embeddings', model);
  const input = body.input;
  const encoding = encodingForDeployment(deployment);
  // Texts are counted off the main thread when large; token-id inputs count as their length.
  const texts = typeof input === 'string' ? [input] : input.filter((item): item is string => typeof item === 'string');
  const ids = typeof input === 'string' ? 0 : input.reduce<number>((sum, item) => sum + (typeof item === 'string' ? 0 : Array.isArray(item) ? item.length : 1), 0);
  const estimate = (await countTokensAsync(encoding.name, texts)) + ids;
  return metered(context.caller, estimate, () => upstream().embeddings(body, { deployment, signal: context.signal }), (r) => r.usage?.total_tokens);
}
