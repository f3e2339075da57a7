import { z } from 'zod';

/** Knobs shared by completions and chat, with OpenAI's ranges. */
export const temperatureSchema = z.number().min(0).max(2).describe('Sampling temperature, 0–2.');
export const topPSchema = z.number().min(0).max(1).describe('Nucleus sampling mass, 0–1.');
export const penaltySchema = z.number().min(-2).max(2);
export const nSchema = z.number().int().min(1).max(128).describe('How many choices to generate, 1–128.');
export const maxTokensSchema = z.number().int().min(1).describe('Maximum tokens to generate.');
export const stopSchema = z
  .union([z.string(), z.array(z.string()).min(1).max(4)])
  .nullable()
  .describe('Up to 4 sequences where generation stops; the text returned does not contain them.');
export const logitBiasSchema = z.record(z.string().regex(/^\d+$/), z.number().min(-100).max(100));
export const streamOptionsSchema = z
  .object({ include_usage: z.boolean().optional() })
  .nullable()
  .describe('With `include_usage`, a last chunk carries `usage` (this service counts it if the upstream does not).');
export const modelSchema = z
  .string()
  .min(1)
  .max(256)
  .describe('A configured deployment alias; omitted → the default deployment.');
export const userSchema = z.string().max(512).describe('End-user id passed to Azure OpenAI for abuse monitoring.');

export const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int().optional(),
  total_tokens: z.number().int(),
});
export type Usage = z.infer<typeof usageSchema>;

export const finishReasonSchema = z
  .enum(['stop', 'length', 'content_filter', 'tool_calls', 'function_call'])
  .nullable();
