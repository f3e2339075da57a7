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

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().check(z.minLength(1)), detail: z.optional(z.enum(['auto', 'low', 'high'])) }),
});
const toolCall = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const chatMessageSchema = z.discriminatedUnion('role', [
  z.object({
    role: z.literal('system'),
    content: z.union([z.string(), z.array(textPart).check(z.minLength(1))]),
    name: z.optional(z.string().check(z.maxLength(64))),
  }),
  z.object({
    role: z.literal('developer'),
    content: z.union([z.string(), z.array(textPart).check(z.minLength(1))]),
    name: z.optional(z.string().check(z.maxLength(64))),
  }),
  z.object({
    role: z.literal('user'),
    content: z.union([z.string(), z.array(z.union([textPart, imagePart])).check(z.minLength(1))]),
    name: z.optional(z.string().check(z.maxLength(64))),
  }),
  z.object({
    role: z.literal('assistant'),
    content: z.optional(z.union([z.string(), z.array(textPart), z.null()])),
    name: z.optional(z.string().check(z.maxLength(64))),
    tool_calls: z.optional(z.array(toolCall)),
    refusal: z.optional(z.nullable(z.string())),
  }),
  z.object({ role: z.literal('tool'), content: z.union([z.string(), z.array(textPart)]), tool_call_id: z.string() }),
]);
export type ChatMessage = z.infer<typeof chatMessageSchema>;

const functionTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/)),
    description: z.optional(z.string()),
    parameters: z.optional(z.record(z.string(), z.unknown())),
    strict: z.optional(z.nullable(z.boolean())),
  }),
});

/** OpenAI's chat request (what Azure's 2024-10-21 API accepts); unknown fields are dropped rather than forwarded. */
export const chatCompletionRequestSchema = z.object({
  model: z.optional(modelSchema),
  messages: z.array(chatMessageSchema).check(z.minLength(1)),
  max_tokens: z.optional(z.nullable(maxTokensSchema)),
  max_completion_tokens: z.optional(z.nullable(maxTokensSchema)),
  ...samplingFields,
  logprobs: z.optional(z.nullable(z.boolean())),
  top_logprobs: z.optional(z.nullable(z.int().check(z.gte(0), z.lte(20)))),
  user: z.optional(userSchema),
  seed: z.optional(z.nullable(z.int())),
  stream: z.optional(z.nullable(z.boolean())),
  stream_options: z.optional(streamOptionsSchema),
  response_format: z.optional(
    z.union([
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({
        type: z.literal('json_schema'),
        json_schema: z.object({
          name: z.string(),
          schema: z.optional(z.record(z.string(), z.unknown())),
          strict: z.optional(z.nullable(z.boolean())),
          description: z.optional(z.string()),
        }),
      }),
    ]),
  ),
  tools: z.optional(z.array(functionTool).check(z.maxLength(128))),
  tool_choice: z.optional(
    z.union([
      z.enum(['none', 'auto', 'required']),
      z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
    ]),
  ),
  parallel_tool_calls: z.optional(z.boolean()),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

export const chatCompletionSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.int(),
  model: z.string(),
  system_fingerprint: z.optional(z.nullable(z.string())),
  choices: z.array(
    z.looseObject({
      index: z.int(),
      finish_reason: finishReasonSchema,
      message: z.looseObject({
        role: z.literal('assistant'),
        content: z.nullable(z.string()),
        refusal: z.optional(z.nullable(z.string())),
        tool_calls: z.optional(z.array(toolCall)),
      }),
      logprobs: z.optional(z.unknown()),
    }),
  ),
  usage: z.optional(usageSchema),
});
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;

export const chatCompletionChunkSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.int(),
  model: z.string(),
  system_fingerprint: z.optional(z.nullable(z.string())),
  choices: z.array(
    z.looseObject({
      index: z.int(),
      delta: z.looseObject({
        role: z.optional(z.literal('assistant')),
        content: z.optional(z.nullable(z.string())),
        refusal: z.optional(z.nullable(z.string())),
        tool_calls: z.optional(z.array(z.unknown())),
      }),
      finish_reason: finishReasonSchema,
      logprobs: z.optional(z.unknown()),
    }),
  ),
  usage: z.optional(z.nullable(usageSchema)),
});
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;
