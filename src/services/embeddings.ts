import { resolveDeployment, upstream } from '../upstream/index.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../schemas/embeddings.js';
import { countTokensAsync } from '../tokens/async.js';
import { callMetered, encodingForDeployment, type CallContext } from './model-call.js';

export async function createEmbeddings(request: EmbeddingsRequest, context: CallContext): Promise<EmbeddingsResponse> {
  const { model, ...body } = request;
  const deployment = resolveDeployment('embeddings', model);
  const input = body.input;
  // Texts are counted off the main thread when large; token-id inputs count as their length.
  const estimate = async () => {
    const texts =
      typeof input === 'string' ? [input] : input.filter((item): item is string => typeof item === 'string');
    const ids =
      typeof input === 'string'
        ? 0
        : input.reduce<number>(
            (sum, item) => sum + (typeof item === 'string' ? 0 : Array.isArray(item) ? item.length : 1),
            0,
          );
    return (await countTokensAsync(encodingForDeployment(deployment).name, texts)) + ids;
  };
  if (context.telemetry) context.telemetry.deployment = deployment;
  const options = { deployment, signal: context.signal, trace: context.trace, observer: context.telemetry };
  return callMetered(context, estimate, () => upstream().embeddings(body, options));
}
