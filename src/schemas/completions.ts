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

const tokenIdsSchema = z.array(z.number().int().nonnegative()).min(1);

export const completionRequestSchema = z.object({
  model: modelSchema.optional(),
  prompt: z
    .union([z.string(), z.array(z.string()).min(1).max(2048), tokenIdsSchema, z.array(tokenIdsSchema).min(1).max(2048)])
    .describe('The text to continue: a string, strings, a token array, or token arrays (OpenAI accepts all four).'),
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

/** The prompts of a request, one item each: a string, or a token array (a single token array is one prompt). */
export function promptsOf(prompt: CompletionRequest['prompt']): (string | number[])[] {
  if (typeof prompt === 'string') return [prompt];
  if (prompt.every((p) => typeof p === 'number')) return [prompt];
  return prompt;
}

export const completionSchema = z.looseObject({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.looseObject({
      index: z.number().int(),
      text: z.string(),
      finish_reason: finishReasonSchema,
      logprobs: z.unknown().nullable().optional(),
    }),
  ),
  usage: usageSchema.optional(),
});
export type Completion = z.infer<typeof completionSchema>;
/** Streamed completion chunks have the completion's shape with partial `text`. */
export type CompletionChunk = Completion;
