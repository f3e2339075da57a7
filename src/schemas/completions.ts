import { z } from 'zod';
import {
  finishReasonSchema,
  logitBiasSchema,
  maxTokensSchema,
  modelSchema,
  nSchema,
  penaltySchema,
  stopSchema,
  streamOptionsSchema,
  temperatureSchema,
  topPSchema,
  usageSchema,
  userSchema,
} from './common.js';

export const completionRequestSchema = z.object({
  model: modelSchema.optional(),
  prompt: z.union([z.string(), z.array(z.string()).min(1)]).describe('The text to continue (or several).'),
  max_tokens: maxTokensSchema.nullable().optional(),
  temperature: temperatureSchema.nullable().optional(),
  top_p: topPSchema.nullable().optional(),
  n: nSchema.nullable().optional(),
  stop: stopSchema.optional(),
  presence_penalty: penaltySchema.nullable().optional(),
  frequency_penalty: penaltySchema.nullable().optional(),
  logit_bias: logitBiasSchema.nullable().optional(),
  logprobs: z.number().int().min(0).max(5).nullable().optional(),
  echo: z.boolean().nullable().optional(),
  best_of: z.number().int().min(1).max(20).nullable().optional(),
  suffix: z.string().nullable().optional(),
  user: userSchema.optional(),
  seed: z.number().int().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: streamOptionsSchema.optional(),
});
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

export const completionSchema = z.looseObject({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(z.looseObject({ index: z.number().int(), text: z.string(), finish_reason: finishReasonSchema, logprobs: z.unknown().nullable().optional() })),
  usage: usageSchema.optional(),
});
export type Completion = z.infer<typeof completionSchema>;
/** Streamed completion chunks have the completion's shape with partial `text`. */
export type CompletionChunk = Completion;
