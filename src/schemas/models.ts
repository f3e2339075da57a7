import * as z from 'zod/mini';

/** OpenAI's model object (https://platform.openai.com/docs/api-reference/models/object). */
export const modelObjectSchema = z.object({
  id: z.string().register(z.globalRegistry, { description: 'The deployment alias callers pass as `model`.' }),
  object: z.literal('model'),
  created: z.int(),
  owned_by: z.string(),
  capabilities: z
    .array(z.enum(['chat', 'completions', 'embeddings']))
    .register(z.globalRegistry, { description: "What the deployment answers (this service's addition)." }),
});
export type ModelObject = z.infer<typeof modelObjectSchema>;

export const modelListSchema = z.object({ object: z.literal('list'), data: z.array(modelObjectSchema) });
