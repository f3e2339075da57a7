import { resolveDeployment, upstream } from '../openai/index.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';

export async function createEmbeddings(request: EmbeddingsRequest, options: { signal?: AbortSignal } = {}): Promise<EmbeddingsResponse> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('embeddings', model);
  return upstream().embeddings(body, { deployment, signal: options.signal });
}
