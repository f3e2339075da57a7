/**
 * Request shapes of Azure OpenAI's data-plane routes (`/openai/deployments/{deployment}/…?api-version=…`), as this
 * service accepts them: the OpenAI-shaped schemas of its own routes, with Azure's differences.
 * Source: Azure OpenAI inference spec, api-version 2024-10-21 (/work/shared/reference/azure-openai).
 */
import * as z from 'zod/mini';
import { chatCompletionRequestSchema } from './chat.js';
import { completionRequestSchema } from './completions.js';
import { embeddingsRequestSchema } from './embeddings.js';

/**
 * The api-versions whose completions, chat and embeddings requests this service understands: every field of theirs
 * it serves means the same as in 2024-10-21, which is what it validates. Later previews only add fields (reasoning,
 * audio, predicted outputs…) that the schemas below drop, as the OpenAI-style routes do. The upstream is always
 * called with the configured AZURE_OPENAI_API_VERSION, whatever the caller names.
 */
export const AZURE_GA_API_VERSIONS = ['2022-12-01', '2023-05-15', '2024-02-01', '2024-06-01', '2024-10-21'] as const;
export const AZURE_PREVIEW_API_VERSIONS = [
  '2023-03-15-preview',
  '2023-06-01-preview',
  '2023-07-01-preview',
  '2023-08-01-preview',
  '2023-09-01-preview',
  '2023-10-01-preview',
  '2023-11-01-preview',
  '2023-12-01-preview',
  '2024-02-15-preview',
  '2024-03-01-preview',
  '2024-04-01-preview',
  '2024-05-01-preview',
  '2024-07-01-preview',
  '2024-08-01-preview',
  '2024-09-01-preview',
  '2024-10-01-preview',
  '2024-12-01-preview',
  '2025-01-01-preview',
  '2025-02-01-preview',
  '2025-03-01-preview',
  '2025-04-01-preview',
] as const;
export const AZURE_API_VERSIONS: readonly string[] = [...AZURE_GA_API_VERSIONS, ...AZURE_PREVIEW_API_VERSIONS];

export const azureQuerySchema = z.object({
  'api-version': z.enum([...AZURE_GA_API_VERSIONS, ...AZURE_PREVIEW_API_VERSIONS]).register(z.globalRegistry, {
    description:
      "Azure's api-version (required, as on Azure); only validated: the upstream gets the configured version.",
  }),
});

/** Azure picks the model by the deployment in the path and ignores `model`; clients send anything there, even ''. */
const ignoredModel = z
  .optional(z.string().check(z.maxLength(256)))
  .register(z.globalRegistry, { description: 'Ignored, as on Azure: the deployment in the path names the model.' });
const unsupported = (why: string) => z.optional(z.never({ error: why }));

export const azureChatRequestSchema = z.extend(chatCompletionRequestSchema, {
  model: ignoredModel,
  // Fields of Azure's chat request this service does not serve: refused by name rather than silently dropped.
  data_sources: unsupported('Azure OpenAI "On Your Data" (data_sources) is not supported by this service.'),
  functions: unsupported('`functions` is deprecated and not supported by this service; use `tools`.'),
  function_call: unsupported('`function_call` is deprecated and not supported by this service; use `tool_choice`.'),
});
export const azureCompletionRequestSchema = z.extend(completionRequestSchema, { model: ignoredModel });
export const azureEmbeddingsRequestSchema = z.extend(embeddingsRequestSchema, { model: ignoredModel });
