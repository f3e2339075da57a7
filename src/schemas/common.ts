import * as z from 'zod/mini';

/** Knobs shared by completions and chat, with OpenAI's ranges. */
export const temperatureSchema = z
  .number()
  .check(z.gte(0), z.lte(2))
  .register(z.globalRegistry, { description: 'Sampling temperature, 0–2.' });
export const topPSchema = z
  .number()
  .check(z.gte(0), z.lte(1))
  .register(z.globalRegistry, { description: 'Nucleus sampling mass, 0–1.' });
export const penaltySchema = z.number().check(z.gte(-2), z.lte(2));
export const nSchema = z
  .int()
  .check(z.gte(1), z.lte(128))
  .register(z.globalRegistry, { description: 'How many choices to generate, 1–128.' });
export const maxTokensSchema = z
  .int()
  .check(z.gte(1))
  .register(z.globalRegistry, { description: 'Maximum tokens to generate.' });
export const stopSchema = z
  .nullable(z.union([z.string(), z.array(z.string()).check(z.minLength(1), z.maxLength(4))]))
  .register(z.globalRegistry, {
    description: 'Up to 4 sequences where generation stops; the text returned does not contain them.',
  });
export const logitBiasSchema = z.record(z.string().check(z.regex(/^\d+$/)), z.number().check(z.gte(-100), z.lte(100)));

/**
 * The sampling knobs chat and completions share, each optional and nullable as OpenAI's clients send them (spread
 * into both request schemas, in this order: it is the order the OpenAPI document lists them in).
 */
export const samplingFields = {
  temperature: z.optional(z.nullable(temperatureSchema)),
  top_p: z.optional(z.nullable(topPSchema)),
  n: z.optional(z.nullable(nSchema)),
  stop: z.optional(stopSchema),
  presence_penalty: z.optional(z.nullable(penaltySchema)),
  frequency_penalty: z.optional(z.nullable(penaltySchema)),
  logit_bias: z.optional(z.nullable(logitBiasSchema)),
};
export const streamOptionsSchema = z
  .nullable(z.object({ include_usage: z.optional(z.boolean()) }))
  .register(z.globalRegistry, {
    description:
      'With `include_usage`, a last chunk carries `usage` (this service counts it if the upstream does not).',
  });
export const modelSchema = z
  .string()
  .check(z.minLength(1), z.maxLength(256))
  .register(z.globalRegistry, { description: 'A configured deployment alias; omitted → the default deployment.' });
export const userSchema = z
  .string()
  .check(z.maxLength(512))
  .register(z.globalRegistry, { description: 'End-user id passed to Azure OpenAI for abuse monitoring.' });

export const usageSchema = z.object({
  prompt_tokens: z.int(),
  completion_tokens: z.optional(z.int()),
  total_tokens: z.int(),
});
export type Usage = z.infer<typeof usageSchema>;

export const finishReasonSchema = z.nullable(
  z.enum(['stop', 'length', 'content_filter', 'tool_calls', 'function_call']),
);
