import * as z from 'zod/mini';
import {
  finishReasonSchema,
  maxTokensSchema,
  modelSchema,
  samplingFields,
  streamOptionsSchema,
  usageSchema,
  userSchema,
} from './common.js';

const tokenIdsSchema = z.array(z.int().check(z.nonnegative())).check(z.minLength(1));

export const completionRequestSchema = z.object({
  model: z.optional(modelSchema),
  prompt: z
    .union([
      z.string(),
      z.array(z.string()).check(z.minLength(1), z.maxLength(2048)),
      tokenIdsSchema,
      z.array(tokenIdsSchema).check(z.minLength(1), z.maxLength(2048)),
    ])
    .register(z.globalRegistry, {
      description: 'The text to continue: a string, strings, a token array, or token arrays (OpenAI accepts all four).',
    }),
  max_tokens: z.optional(z.nullable(maxTokensSchema)),
  ...samplingFields,
  logprobs: z.optional(z.nullable(z.int().check(z.gte(0), z.lte(5)))),
  echo: z.optional(z.nullable(z.boolean())),
  best_of: z.optional(z.nullable(z.int().check(z.gte(1), z.lte(20)))),
  suffix: z.optional(z.nullable(z.string())),
  user: z.optional(userSchema),
  seed: z.optional(z.nullable(z.int())),
  stream: z.optional(z.nullable(z.boolean())),
  stream_options: z.optional(streamOptionsSchema),
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
  created: z.int(),
  model: z.string(),
  choices: z.array(
    z.looseObject({
      index: z.int(),
      text: z.string(),
      finish_reason: finishReasonSchema,
      logprobs: z.optional(z.nullable(z.unknown())),
    }),
  ),
  usage: z.optional(usageSchema),
});
export type Completion = z.infer<typeof completionSchema>;
/** Streamed completion chunks have the completion's shape with partial `text`. */
export type CompletionChunk = Completion;
