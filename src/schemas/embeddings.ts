import { z } from 'zod';
import { modelSchema, userSchema } from './common.js';

export const embeddingsRequestSchema = z.object({
  model: modelSchema.optional(),
  input: z
    .union([
      z.string(),
      z.array(z.string()).min(1).max(2048),
      z.array(z.number().int().nonnegative()).min(1),
      z.array(z.array(z.number().int().nonnegative()).min(1)).min(1).max(2048),
    ])
    .describe('A string, up to 2,048 strings, or token arrays.'),
  dimensions: z.number().int().min(1).max(3072).optional(),
  encoding_format: z
    .enum(['float', 'base64'])
    .optional()
    .describe('`base64` is little-endian float32, as OpenAI sends it.'),
  user: userSchema.optional(),
});
export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

export const embeddingsResponseSchema = z.looseObject({
  object: z.literal('list'),
  model: z.string(),
  data: z.array(
    z.looseObject({
      object: z.literal('embedding'),
      index: z.number().int(),
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  usage: z.looseObject({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});
export type EmbeddingsResponse = z.infer<typeof embeddingsResponseSchema>;
