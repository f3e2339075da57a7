/**
 * OpenAI's Responses API request and response shapes (https://platform.openai.com/docs/api-reference/responses),
 * the part this service offers on top of chat completions. Unknown fields (`include`, `reasoning`, …) are accepted
 * and dropped.
 */
import { z } from 'zod';
import { maxTokensSchema, modelSchema, temperatureSchema, topPSchema, userSchema } from './common.js';

/** Longest input (characters of its JSON) a stored response keeps: a Table entity holds at most 1 MiB. */
export const MAX_STORED_INPUT_CHARS = 300_000;

const text = z.string().max(1_000_000);
const inputText = z.object({ type: z.literal('input_text'), text });
const outputText = z.object({ type: z.literal('output_text'), text, annotations: z.array(z.unknown()).optional() });
const refusal = z.object({ type: z.literal('refusal'), refusal: text });
const inputImage = z.object({
  type: z.literal('input_image'),
  image_url: z.string().min(1).max(1_000_000).describe('An https: or data: URL (file ids are not supported).'),
  detail: z.enum(['auto', 'low', 'high']).optional(),
});
export const contentPartSchema = z.discriminatedUnion('type', [inputText, outputText, refusal, inputImage]);
export type ContentPart = z.infer<typeof contentPartSchema>;

const itemId = z.string().max(128).optional();
const itemStatus = z.enum(['in_progress', 'completed', 'incomplete']).optional();
export const messageItemSchema = z.object({
  type: z.literal('message').optional(),
  id: itemId,
  status: itemStatus,
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([text, z.array(contentPartSchema).max(256)]),
});
export const functionCallItemSchema = z.object({
  type: z.literal('function_call'),
  id: itemId,
  status: itemStatus,
  call_id: z.string().min(1).max(256),
  name: z.string().min(1).max(64),
  arguments: text,
});
export const functionCallOutputItemSchema = z.object({
  type: z.literal('function_call_output'),
  id: itemId,
  status: itemStatus,
  call_id: z.string().min(1).max(256),
  output: z.union([text, z.array(contentPartSchema).max(256)]),
});
export const inputItemSchema = z.union([messageItemSchema, functionCallItemSchema, functionCallOutputItemSchema]);
export type InputItem = z.infer<typeof inputItemSchema>;
/** An item of an earlier stored response of the caller, by id (the AI SDK sends these for stored turns). */
export const itemReferenceSchema = z.object({ type: z.literal('item_reference'), id: z.string().min(1).max(128) });
export type ItemReference = z.infer<typeof itemReferenceSchema>;

export const functionToolSchema = z.object({
  type: z.literal('function').describe('Only function tools are offered (no built-in tools).'),
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  description: z.string().max(100_000).nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});
export type FunctionTool = z.infer<typeof functionToolSchema>;

export const textFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().max(100_000).optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);
export type TextFormat = z.infer<typeof textFormatSchema>;

export const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string().min(1).max(64) }),
]);

const metadataSchema = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, 'at most 16 keys')
  .describe('Up to 16 string pairs kept with the object.');

export const createResponseSchema = z.object({
  model: modelSchema.optional(),
  input: z.union([text, z.array(z.union([inputItemSchema, itemReferenceSchema])).max(1000)]),
  instructions: text
    .nullable()
    .optional()
    .describe('A system message for this response only (not carried by previous_response_id).'),
  previous_response_id: z.string().max(128).nullable().optional(),
  conversation: z
    .union([z.string().max(128), z.object({ id: z.string().max(128) })])
    .nullable()
    .optional(),
  store: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  background: z.boolean().nullable().optional().describe('Not offered: `true` is a 400.'),
  max_output_tokens: maxTokensSchema.nullable().optional(),
  temperature: temperatureSchema.nullable().optional(),
  top_p: topPSchema.nullable().optional(),
  tools: z.array(functionToolSchema).max(128).optional(),
  tool_choice: toolChoiceSchema.optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  text: z.object({ format: textFormatSchema.optional() }).loose().nullable().optional(),
  metadata: metadataSchema.nullable().optional(),
  user: userSchema.optional(),
  truncation: z.enum(['auto', 'disabled']).nullable().optional(),
});
export type CreateResponse = z.infer<typeof createResponseSchema>;

export const outputMessageSchema = z.object({
  id: z.string(),
  type: z.literal('message'),
  status: z.enum(['in_progress', 'completed', 'incomplete']),
  role: z.literal('assistant'),
  content: z.array(z.union([outputText.extend({ annotations: z.array(z.unknown()) }), refusal])),
});
export const outputFunctionCallSchema = z.object({
  id: z.string(),
  type: z.literal('function_call'),
  status: z.enum(['in_progress', 'completed', 'incomplete']),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
});
export const outputItemSchema = z.union([outputMessageSchema, outputFunctionCallSchema]);
export type OutputItem = z.infer<typeof outputItemSchema>;

export const responseUsageSchema = z.object({
  input_tokens: z.number().int(),
  input_tokens_details: z.object({ cached_tokens: z.number().int() }),
  output_tokens: z.number().int(),
  output_tokens_details: z.object({ reasoning_tokens: z.number().int() }),
  total_tokens: z.number().int(),
});

export const responseObjectSchema = z.object({
  id: z.string(),
  object: z.literal('response'),
  created_at: z.number().int(),
  status: z.enum(['completed', 'incomplete', 'in_progress', 'failed']),
  background: z.boolean(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  incomplete_details: z.object({ reason: z.string() }).nullable(),
  instructions: z.string().nullable(),
  max_output_tokens: z.number().int().nullable(),
  model: z.string(),
  output: z.array(outputItemSchema),
  parallel_tool_calls: z.boolean(),
  previous_response_id: z.string().nullable(),
  conversation: z.object({ id: z.string() }).nullable(),
  reasoning: z.object({ effort: z.null(), summary: z.null() }),
  store: z.boolean(),
  temperature: z.number().nullable(),
  text: z.object({ format: textFormatSchema }),
  tool_choice: toolChoiceSchema,
  tools: z.array(functionToolSchema),
  top_p: z.number().nullable(),
  truncation: z.enum(['auto', 'disabled']),
  usage: responseUsageSchema.nullable(),
  user: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
});
export type ResponseObject = z.infer<typeof responseObjectSchema>;

export const deletedResponseSchema = z.object({
  id: z.string(),
  object: z.literal('response.deleted'),
  deleted: z.literal(true),
});

/** Stored items as OpenAI lists them: each with an id and a type. */
export const storedItemSchema = z.union([
  messageItemSchema.extend({
    type: z.literal('message'),
    id: z.string(),
    status: z.enum(['in_progress', 'completed', 'incomplete']),
    content: z.array(contentPartSchema),
  }),
  functionCallItemSchema.extend({ id: z.string(), status: z.enum(['in_progress', 'completed', 'incomplete']) }),
  functionCallOutputItemSchema.extend({
    id: z.string(),
    status: z.enum(['in_progress', 'completed', 'incomplete']).optional(),
  }),
]);
export type StoredItem = z.infer<typeof storedItemSchema>;

export const itemListSchema = z.object({
  object: z.literal('list'),
  data: z.array(storedItemSchema),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});

export const listItemsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().max(128).optional(),
  before: z.string().max(128).optional(),
});
export { metadataSchema };
