import { resolveDeployment, upstream } from '../upstream/index.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import { callMetered, encodingForDeployment, type CallContext } from './model-call.js';

export async function createEmbeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('embeddings', model);
  const input = body.input;
  const encoding = encodingForDeployment(deployment);
  const estimate =
    typeof input === 'string'
      ? encoding.count(input)
      : input.reduce<number>(
          (sum, item) => sum + (typeof item === 'string' ? encoding.count(item) : Array.isArray(item) ? item.length : 1),
          0,
        );
  return callMetered(context, estimate, () => upstream().embeddings(body, { deployment, signal: context.signal, trace: context.trace }));
}
