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

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const toolCall = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const chatMessageSchema = z.discriminatedUnion('role', [
  z.object({
    role: z.literal('system'),
    content: z.union([z.string(), z.array(textPart).min(1)]),
    name: z.string().max(64).optional(),
  }),
  z.object({
    role: z.literal('developer'),
    content: z.union([z.string(), z.array(textPart).min(1)]),
    name: z.string().max(64).optional(),
  }),
  z.object({
    role: z.literal('user'),
    content: z.union([z.string(), z.array(z.union([textPart, imagePart])).min(1)]),
    name: z.string().max(64).optional(),
  }),
  z.object({
    role: z.literal('assistant'),
    content: z.union([z.string(), z.array(textPart), z.null()]).optional(),
    name: z.string().max(64).optional(),
    tool_calls: z.array(toolCall).optional(),
    refusal: z.string().nullable().optional(),
  }),
  z.object({ role: z.literal('tool'), content: z.union([z.string(), z.array(textPart)]), tool_call_id: z.string() }),
]);
export type ChatMessage = z.infer<typeof chatMessageSchema>;

const functionTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

/** OpenAI's chat request (what Azure's 2024-10-21 API accepts); unknown fields are dropped rather than forwarded. */
export const chatCompletionRequestSchema = z.object({
  model: modelSchema.optional(),
  messages: z.array(chatMessageSchema).min(1),
  max_tokens: maxTokensSchema.nullable().optional(),
  max_completion_tokens: maxTokensSchema.nullable().optional(),
  temperature: temperatureSchema.nullable().optional(),
  top_p: topPSchema.nullable().optional(),
  n: nSchema.nullable().optional(),
  stop: stopSchema.optional(),
  presence_penalty: penaltySchema.nullable().optional(),
  frequency_penalty: penaltySchema.nullable().optional(),
  logit_bias: logitBiasSchema.nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  user: userSchema.optional(),
  seed: z.number().int().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: streamOptionsSchema.optional(),
  response_format: z
    .union([
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({
        type: z.literal('json_schema'),
        json_schema: z.object({
          name: z.string(),
          schema: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullable().optional(),
          description: z.string().optional(),
        }),
      }),
    ])
    .optional(),
  tools: z.array(functionTool).max(128).optional(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
    ])
    .optional(),
  parallel_tool_calls: z.boolean().optional(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

export const chatCompletionSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string().nullable().optional(),
  choices: z.array(
    z.looseObject({
      index: z.number().int(),
      finish_reason: finishReasonSchema,
      message: z.looseObject({
        role: z.literal('assistant'),
        content: z.string().nullable(),
        refusal: z.string().nullable().optional(),
        tool_calls: z.array(toolCall).optional(),
      }),
      logprobs: z.unknown().optional(),
    }),
  ),
  usage: usageSchema.optional(),
});
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;

export const chatCompletionChunkSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string().nullable().optional(),
  choices: z.array(
    z.looseObject({
      index: z.number().int(),
      delta: z.looseObject({
        role: z.literal('assistant').optional(),
        content: z.string().nullable().optional(),
        refusal: z.string().nullable().optional(),
        tool_calls: z.array(z.unknown()).optional(),
      }),
      finish_reason: finishReasonSchema,
      logprobs: z.unknown().optional(),
    }),
  ),
  usage: usageSchema.nullable().optional(),
});
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;
