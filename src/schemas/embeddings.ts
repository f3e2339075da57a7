import * as z from 'zod/mini';
import { modelSchema, userSchema } from './common.js';

export const embeddingsRequestSchema = z.object({
  model: z.optional(modelSchema),
  input: z
    .union([
      z.string(),
      z.array(z.string()).check(z.minLength(1), z.maxLength(2048)),
      z.array(z.int().check(z.nonnegative())).check(z.minLength(1)),
      z.array(z.array(z.int().check(z.nonnegative())).check(z.minLength(1))).check(z.minLength(1), z.maxLength(2048)),
    ])
    .register(z.globalRegistry, { description: 'A string, up to 2,048 strings, or token arrays.' }),
  dimensions: z.optional(z.int().check(z.gte(1), z.lte(3072))),
  encoding_format: z
    .optional(z.enum(['float', 'base64']))
    .register(z.globalRegistry, { description: '`base64` is little-endian float32, as OpenAI sends it.' }),
  user: z.optional(userSchema),
});
export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

export const embeddingsResponseSchema = z.looseObject({
  object: z.literal('list'),
  model: z.string(),
  data: z.array(
    z.looseObject({
      object: z.literal('embedding'),
      index: z.int(),
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  usage: z.looseObject({ prompt_tokens: z.int(), total_tokens: z.int() }),
});
export type EmbeddingsResponse = z.infer<typeof embeddingsResponseSchema>;
